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
        let (tasks, truthFiles) = benchTruth()
        timeInMemory(tasks)
        let rate = try timeWholeProcess(truthFiles)
        comparePeer(rate)
    }

    /// Uniform positions, SNR 5-20, as the spot phantoms: the tasks and each image's truth CSV.
    func benchTruth() -> ([ImageTask], [String]) {
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
        return (tasks, csvs)
    }

    /// The crowd model in memory, best of three, on one core and on all.
    func timeInMemory(_ tasks: [ImageTask]) {
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
    }

    /// `crowdlab simulate` as a whole process, truth files in and JSON export out, best of three;
    /// clicks per second.
    func timeWholeProcess(_ truthFiles: [String]) throws -> Double {
        let truthDir = (work as NSString).appendingPathComponent("truth")
        try? FileManager.default.removeItem(atPath: truthDir)
        try FileManager.default.createDirectory(atPath: truthDir, withIntermediateDirectories: true)
        for (i, c) in truthFiles.enumerated() { try c.write(toFile: (truthDir as NSString).appendingPathComponent(String(format: "bench_%04d.csv", i)), atomically: true, encoding: .utf8) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let export = (work as NSString).appendingPathComponent("export.json")
        var runs: [ProcessMeasure] = []
        for _ in 0..<3 {
            // Each run writes a new file: freeing the previous output's blocks is the file system's
            // cost of overwriting, not simulation work (tens of ms on this machine's ext4 with discard).
            try? FileManager.default.removeItem(atPath: export)
            sync()
            let m = try measureProcess(exe, ["simulate", "--truth", truthDir, "--replicates", String(replicates), "--seed", String(seed),
                                             "--pay", "0.05", "--out", export])
            guard m.status == 0 else { throw CLIError("bench: crowdlab simulate failed with status \(m.status)") }
            runs.append(m)
        }
        let whole = runs.map(\.seconds).min()!
        let exported = try ExportReader.read(path: export).clickCount
        print(String(format: "crowdlab simulate, whole process (best of 3): %.3f s, %d clicks, %.2f M clicks/s", whole, exported, Double(exported) / whole / 1e6))
        return Double(exported) / whole
    }

    /// The same model written with Mesa (bench/mesa_peer.py), in memory on one core, when installed.
    func comparePeer(_ rate: Double) {
        let peer = try? measureProcess("/usr/bin/env", [python, benchScript("mesa_peer.py"),
                                                        String(images), String(objects), String(replicates), String(seed)], capture: 1)
        if let peer, peer.status == 0, let peerRate = Double(peer.output.split(separator: "\n").last ?? "") {
            print(String(format: "peer: Mesa, in memory, one core: %.2f M clicks/s -> crowdlab simulate (whole process) is %.1fx faster",
                         peerRate / 1e6, rate / peerRate))
        } else {
            print("peer: skipped (\(python) with mesa not available: pip install mesa)")
        }
    }
}
