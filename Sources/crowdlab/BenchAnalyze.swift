import ArgumentParser
import Consensus
import Randomness
import Foundation

/// `crowdlab bench analyze`: a large export built by resampling the real crowds shipped in Data/,
/// read by our reader and by Foundation's JSONDecoder, then `crowdlab analyze` as a whole process
/// against scikit-learn's HDBSCAN fit calls on the same points (bench/hdbscan_peer.py).
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Whole-process analyze on a large export vs JSONDecoder and scikit-learn's HDBSCAN.",
        discussion: """
        The export resamples the real crowds in Data/quanti-us (whole submissions of \
        real workers, each image turned by a random multiple of 90 degrees), so the \
        clicks have real spreads, strays and participation. It is measured twice: with \
        whole-pixel coordinates, and with each moved by a sub-pixel offset, as exports \
        from other tools hold them. \
        The HDBSCAN peer needs python3 with scikit-learn (pip install scikit-learn); \
        without it that row is reported as skipped.
        """)

    @Option(help: "Images in the generated export.") var images: Int = 300
    @Option(help: "Seed for the resampling.") var seed: UInt64 = 1
    @Option(help: "Working folder for the export and outputs.") var work: String = "out/bench"
    @Option(help: "Folder of real exports to resample.") var data: String = "Data/quanti-us"
    @Option(help: "Crosshair crowds in that folder to resample, comma-separated (the dense smFISH fields and the beads are a workload of their own).")
    var crowds: String = "synth-cells,synth-tissue"
    @Option(help: "Python interpreter for the HDBSCAN peer.") var python: String = "python3"

    func run() throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let names = crowds.split(separator: ",").map(String.init)
        guard !names.isEmpty else { throw CLIError("--crowds: name at least one crowd folder of \(data)") }
        let sources = try names.map { name in
            let export = try ExportReader.read(path: "\(data)/\(name)/export.json")
            guard export.records.allSatisfy({ $0.annotationType == .crosshairs }) else {
                throw CLIError("--crowds: \(data)/\(name)/export.json holds shapes; the benchmark clusters clicks (crosshairs)")
            }
            return export
        }
        let whole = resampledExport(sources: sources, images: images, seed: seed)
        var result: [String: Any] = [:]
        // The same clicks twice: whole pixels, as the portal writes them, and moved by a sub-pixel
        // offset each, as resampled or transformed exports from other tools hold them (written
        // with the shortest text that reads back, mostly 15-17 digits).
        for (kind, export) in [("whole", whole), ("fractional", fractionalExport(whole, seed: seed))] {
            print("\(kind)-pixel coordinates:")
            result[kind] = try measure(export, name: "large-export-\(kind).json")
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: (work as NSString).appendingPathComponent("bench-analyze.json"))
    }

    /// Reads, analyzes and runs the HDBSCAN peer on one export written to `name` in the work folder.
    func measure(_ export: QuantiusExport, name: String) throws -> [String: Any] {
        let path = (work as NSString).appendingPathComponent(name)
        try ExportWriter.write(export, to: path)
        let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)
        print("  export: \(path): \(export.records.count) submissions, \(export.clickCount) clicks, \(images) images, \(String(format: "%.1f", size / 1e6)) MB")

        // Reading: our streaming reader vs JSONDecoder, same file, same process, best of 3.
        let ours = best(3) { _ = try! ExportReader.read(path: path) }
        let decoder = best(3) {
            let d = try! Data(contentsOf: URL(fileURLWithPath: path))
            _ = try! JSONDecoder().decode([CodableRecord].self, from: d)
        }
        print(String(format: "  read  ExportReader %.3f s (%.0f MB/s)   JSONDecoder %.3f s (%.0f MB/s)   ratio %.1fx",
                     ours, size / 1e6 / ours, decoder, size / 1e6 / decoder, decoder / ours))

        // Whole process: crowdlab analyze.
        let me = CommandLine.arguments[0]
        let exe = me.contains("/") ? me : "/proc/self/exe"
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: exe)) ?? exe
        var runs: [ProcessMeasure] = []
        for _ in 0..<3 {
            try? FileManager.default.removeItem(atPath: (work as NSString).appendingPathComponent("analyze"))
            sync()
            let m = try measureProcess(resolved, ["analyze", path, "--out", (work as NSString).appendingPathComponent("analyze")],
                                       capture: 2, environment: ["CROWDLAB_PROFILE=1"])
            guard m.status == 0 else { throw CLIError("bench: crowdlab analyze failed with status \(m.status)") }
            runs.append(m)
        }
        let run = runs.min { $0.seconds < $1.seconds }!
        // Peak memory as the child itself reports it (VmHWM): rusage's maxrss survives exec and
        // would include this benchmarking process.
        let peakKiB = run.output.split(separator: "\n").first { $0.hasPrefix("peak_rss_kib") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        let phases = run.output.split(separator: "\n").first { $0.hasPrefix("profile") }.map(String.init) ?? ""
        print(String(format: "  analyze (whole process, best of 3)  %.3f s   %.0f clicks/s   peak RSS %.0f MiB",
                     run.seconds, Double(export.clickCount) / run.seconds, Double(peakKiB) / 1024))
        print("    " + phases)

        // Peer: scikit-learn HDBSCAN, fit calls only, per image.
        let peerScript = benchScript("hdbscan_peer.py")
        let peer = try measureProcess("/usr/bin/env", [python, peerScript, path], capture: 1)
        var result: [String: Any] = ["clicks": export.clickCount, "images": images, "megabytes": size / 1e6,
                                     "reader_seconds": ours, "reader_megabytes_per_second": size / 1e6 / ours, "jsondecoder_seconds": decoder,
                                     "analyze_seconds": run.seconds, "analyze_peak_rss_mib": Double(peakKiB) / 1024,
                                     "analyze_clicks_per_second": Double(export.clickCount) / run.seconds]
        if peer.status == 0, let fit = Double(peer.output.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "") {
            print(String(format: "  peer: HDBSCAN fit calls %.3f s   -> crowdlab analyze is %.1fx faster (whole process vs fits alone)", fit, fit / run.seconds))
            result["hdbscan_fit_seconds"] = fit
            result["speedup_vs_hdbscan"] = fit / run.seconds
        } else {
            print("  peer: skipped (\(python) with scikit-learn not available: pip install scikit-learn)")
        }
        return result
    }

    func best(_ n: Int, _ body: () -> Void) -> Double {
        var b = Double.infinity
        for _ in 0..<n { let t = Date(); body(); b = min(b, Date().timeIntervalSince(t)) }
        return b
    }
}
