import ArgumentParser
import Consensus
import Crowd
import Foundation
import Imaging
import Phantoms
import Randomness

/// `crowdlab bench simulate`: the crowd model's speed in memory on one core and on all cores, and
/// `crowdlab simulate` as a whole process against the same model written with Mesa.
struct BenchSimulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulated clicks per second (1 core, all cores) and crowdlab simulate vs a Mesa peer.",
        discussion: "The Mesa peer (bench/mesa_peer.py) needs python3 with mesa (pip install mesa); without it that row is skipped.")

    @Option(help: "Images.") var images: Int = 300
    @Option(help: "Objects per image.") var objects: Int = 100
    @Option(help: "Workers per image.") var replicates: Int = 30
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Working folder.") var work: String = "out/bench-simulate"
    @Option(help: "Python interpreter for the Mesa peer.") var python: String = "python3"

    func run() throws {
        // Truth: uniform positions, SNR 5-20, as the spot phantoms.
        let rng = SeededRandom(seed: seed)
        var tasks: [ImageTask] = []
        var csvs: [String] = []
        for i in 0..<images {
            var xs: [Double] = [], ys: [Double] = [], snr: [Double] = []
            var csv = "col,row,snr\n"
            for _ in 0..<objects {
                let c = Double(4 + rng.int(292)), r = Double(4 + rng.int(292)), s = 5 + 15 * rng.uniform()
                xs.append(c); ys.append(300 - r); snr.append(s)
                csv += "\(Int(c)),\(Int(r)),\(String(format: "%.3f", s))\n"
            }
            tasks.append(ImageTask(name: String(format: "bench_%04d.png", i), width: 300, height: 300, xs: xs, ys: ys, visibility: snr))
            csvs.append(csv)
        }
        let sim = CrowdSimulation(population: Population(), replicates: replicates, pay: 0.05, seed: seed)
        func timed(threads: Int) -> (Double, Int) {
            Parallelism.maxThreads = threads
            defer { Parallelism.maxThreads = 0 }
            var best = Double.infinity, clicks = 0
            for _ in 0..<3 {
                let t = Date()
                let r = sim.run(tasks)
                best = min(best, Date().timeIntervalSince(t)); clicks = r.clicks
            }
            return (best, clicks)
        }
        let (one, clicks) = timed(threads: 1)
        let (all, _) = timed(threads: 0)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("in memory: \(clicks) clicks (\(images) images x \(objects) objects x \(replicates) workers)")
        print(String(format: "  1 core     %.3f s  %6.2f M clicks/s", one, Double(clicks) / one / 1e6))
        print(String(format: "  %d cores    %.3f s  %6.2f M clicks/s  (%.2fx the single core)", cores, all, Double(clicks) / all / 1e6, one / all))

        // Whole process: truth files in, JSON export out.
        let truthDir = (work as NSString).appendingPathComponent("truth")
        try? FileManager.default.removeItem(atPath: truthDir)
        try FileManager.default.createDirectory(atPath: truthDir, withIntermediateDirectories: true)
        for (i, c) in csvs.enumerated() { try c.write(toFile: (truthDir as NSString).appendingPathComponent(String(format: "bench_%04d.csv", i)), atomically: true, encoding: .utf8) }
        let me = CommandLine.arguments[0]
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? me
        var runs: [ProcessMeasure] = []
        for _ in 0..<3 {
            // Each run writes a new file: freeing the previous output's blocks is the file system's
            // cost of overwriting, not simulation work (tens of ms on this machine's ext4 with discard).
            try? FileManager.default.removeItem(atPath: (work as NSString).appendingPathComponent("export.json"))
            sync()
            let m = try measureProcess(exe, ["simulate", "--truth", truthDir, "--replicates", String(replicates), "--seed", String(seed),
                                             "--pay", "0.05", "--out", (work as NSString).appendingPathComponent("export.json")])
            guard m.status == 0 else { throw CLIError("bench: crowdlab simulate failed with status \(m.status)") }
            runs.append(m)
        }
        let whole = runs.map(\.seconds).min()!
        let exported = try ExportReader.read(path: (work as NSString).appendingPathComponent("export.json")).clickCount
        print(String(format: "crowdlab simulate, whole process (best of 3): %.3f s, %d clicks, %.2f M clicks/s", whole, exported, Double(exported) / whole / 1e6))

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/mesa_peer.py").path
        let peer = try measureProcess("/usr/bin/env", [python, FileManager.default.fileExists(atPath: script) ? script : "bench/mesa_peer.py",
                                                       String(images), String(objects), String(replicates), String(seed)], capture: 1)
        if peer.status == 0, let rate = Double(peer.output.split(separator: "\n").last ?? "") {
            print(String(format: "peer: Mesa, in memory, one core: %.2f M clicks/s -> crowdlab simulate (whole process) is %.1fx faster",
                         rate / 1e6, Double(exported) / whole / rate))
        } else {
            print("peer: skipped (\(python) with mesa not available: pip install mesa)")
        }
    }
}
