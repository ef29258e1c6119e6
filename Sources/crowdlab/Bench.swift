import ArgumentParser
import Consensus
import Randomness
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each against a peer measured in the same run.",
        subcommands: [BenchAnalyze.self, BenchMethods.self, BenchSimulate.self, BenchPhantoms.self, BenchTurk.self])
}

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
    @Option(help: "Python interpreter for the HDBSCAN peer.") var python: String = "python3"

    func run() throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let sources = try ["synth-cells", "synth-tissue"].map { try ExportReader.read(path: "\(data)/\($0)/export.json") }
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
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/hdbscan_peer.py").path
        let peerScript = FileManager.default.fileExists(atPath: script) ? script : "bench/hdbscan_peer.py"
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

/// A resampled export: each new image takes all submissions of one real image, turned by a random
/// multiple of 90 degrees about the image centre.
func resampledExport(sources: [QuantiusExport], images: Int, seed: UInt64) -> QuantiusExport {
    let groups = sources.flatMap { $0.recordsByImage() }
    let rng = SeededRandom(seed: seed)
    var out: [ExportRecord] = []
    for i in 0..<images {
        let g = groups[rng.int(groups.count)]
        let turn = rng.int(4)
        for r in g.records {
            var c = r
            c.imageFilename = String(format: "resampled_%04d.png", i)
            let w = Double(r.width), h = Double(r.height)
            c.rawData = r.rawData.map { shape in shape.map { v in
                var o = v
                switch turn {
                case 1: o.x = h - v.y; o.y = v.x
                case 2: o.x = w - v.x; o.y = h - v.y
                case 3: o.x = v.y; o.y = w - v.x
                default: break
                }
                return o
            } }
            out.append(c)
        }
    }
    return QuantiusExport(records: out)
}

/// The same export with every coordinate moved by its own offset in [-0.5, 0.5) px (seeded).
func fractionalExport(_ export: QuantiusExport, seed: UInt64) -> QuantiusExport {
    let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xF4AC))
    var records = export.records
    for r in records.indices {
        records[r].rawData = records[r].rawData.map { shape in shape.map { v in
            var o = v
            o.x = v.x + rng.uniform() - 0.5; o.y = v.y + rng.uniform() - 0.5
            return o
        } }
    }
    return QuantiusExport(records: records)
}

/// The schema as Codable, for the JSONDecoder comparison only.
struct CodableRecord: Decodable {
    struct V: Decodable { let x: Double; let y: Double; let timestamp: Double }
    let image_filename: String
    let worker_id: String
    let annotation_type: String
    let width: Int
    let height: Int
    let time_when_completed: String?
    let raw_data: [[V]]
}

struct ProcessMeasure { var status: Int32; var seconds: Double; var output: String }

/// Runs a child process and reports its wall time and exit status; `capture` 1 or 2 collects that
/// stream (the other output goes to /dev/null).
func measureProcess(_ exe: String, _ args: [String], capture: Int32 = 0, environment extra: [String] = []) throws -> ProcessMeasure {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipeFDs: [Int32] = [0, 0]
    if capture > 0 {
        _ = pipe(&pipeFDs)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], capture)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    }
    if capture != 1 { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let env = (ProcessInfo.processInfo.environment.map { "\($0)=\($1)" } + extra).map { strdup($0) } + [nil]
    defer { env.forEach { free($0) } }
    let start = Date()
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, env)
    guard rc == 0 else { throw CLIError("bench: cannot start \(exe) (error \(rc))") }
    var out = Data()
    if capture > 0 {
        close(pipeFDs[1])
        let h = FileHandle(fileDescriptor: pipeFDs[0], closeOnDealloc: true)
        out = h.readDataToEndOfFile()
    }
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    let seconds = Date().timeIntervalSince(start)
    let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ProcessMeasure(status: exited, seconds: seconds, output: String(decoding: out, as: UTF8.self))
}

/// `crowdlab bench methods`: every point method on the real exports in Data/, accuracy and time.
struct BenchMethods: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "Accuracy (F1 at 8 px, blind) and time of each consensus method on the real exports.")

    @Option(help: "Folder of real exports with truth.") var data: String = "Data/quanti-us"

    func run() throws {
        print("method        set            precision  recall     F1    seconds")
        for name in PointMethods.names {
            for set in ["synth-cells", "synth-tissue"] {
                let e = try ExportReader.read(path: "\(data)/\(set)/export.json")
                let t = try TruthSet.load(path: "\(data)/\(set)", export: e)
                let job = ClickJob(export: e)
                let m = try PointMethods.make(name)
                let start = Date()
                let c = m.consensus(job)
                let secs = Date().timeIntervalSince(start)
                var s = DetectionScore()
                for im in c { if let tp = t.byImage[im.image] { s = s + scoreAgainstTruth(im.points, tp, radius: 8).0 } }
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + set.padding(toLength: 15, withPad: " ", startingAt: 0)
                      + String(format: "%9.3f  %6.3f  %6.3f  %7.3f", s.precision, s.recall, s.f1, secs))
            }
        }
    }
}
