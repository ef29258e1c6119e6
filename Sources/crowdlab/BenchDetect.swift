import ArgumentParser
import Consensus
import Detection
import Foundation

/// `crowdlab bench detect`: FCRN training steps per second (batches of 8 crops of 100 x 100, two
/// channels) and inference pixels per second (500 x 500 frames), one core and all cores, against
/// the same network in PyTorch on the CPU in the same run (`bench/fcrn_peer.py`) when torch is installed.
struct BenchDetect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "FCRN training steps/s and inference px/s, against PyTorch on the CPU.")
    @Option(help: "Training steps (batches of 8 crops) timed.") var steps = 30
    @Option(help: "500 x 500 frames timed for inference.") var frames = 4
    @Option(help: "Python with torch, for the peer.") var python = "python3"

    func run() throws {
        let ours = try timeOurs()
        for cores in ours.keys.sorted() {
            guard let theirs = try timePeer(cores: cores) else {
                print("  PyTorch peer not run (\(python) cannot import torch: pip install torch, the CPU build)")
                return
            }
            let mine = ours[cores]!
            print(String(format: "  PyTorch, %d core(s): %.2f training steps/s, %.2f M px/s inference: crowdlab trains %.2fx and infers %.2fx as fast", cores, theirs.steps, theirs.pixels / 1e6, mine.steps / theirs.steps, mine.pixels / theirs.pixels))
        }
    }

    /// Training steps per second and inference pixels per second, on one core and on all, keyed
    /// by the cores used.
    func timeOurs() throws -> [Int: (steps: Double, pixels: Double)] {
        // One 500 x 500 frame of noise with 40 labelled points: the crops and targets of a real run.
        var planes = [Float](repeating: 0, count: 2 * 500 * 500)
        var state: UInt32 = 12345
        for i in planes.indices { state = state &* 1664525 &+ 1013904223; planes[i] = Float(state >> 8) / Float(1 << 24) }
        let frame = try DetectorImage(planar: planes, name: "bench.png", width: 500, height: 500, channels: 2)
        var labels = PointLabels(byImage: [:])
        labels.byImage["bench.png"] = (0..<40).map { (k: Int) -> (col: Double, row: Double) in
            (col: Double(20 + (k * 37) % 460), row: Double(20 + (k * 91) % 460))
        }
        var o = TrainingOptions()
        o.cropEpochs = steps; o.cropsPerImage = 8; o.cropBatch = 8; o.fullEpochs = 0
        o.detection = .paper  // training steps alone are timed
        print("FCRN 2 -> 32 -> 32 -> 1 on oneDNN: \(steps) steps of 8 crops of 100x100, \(frames) frames of 500x500")
        var ours: [Int: (steps: Double, pixels: Double)] = [:]
        for threads in [1, 0] {
            Parallelism.maxThreads = threads
            defer { Parallelism.maxThreads = 0 }
            let t0 = Date()
            let d = try Detector.train(images: [frame], labels: labels, channelSelection: nil, options: o).detector
            let train = Date().timeIntervalSince(t0)
            let t1 = Date()
            _ = try d.detect(Array(repeating: frame, count: frames))
            let infer = Date().timeIntervalSince(t1)
            let cores = threads == 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount
            ours[cores] = (Double(steps) / train, Double(frames * 500 * 500) / infer)
            print(String(format: "  crowdlab, %d core(s): %.2f training steps/s, %.2f M px/s inference (with peak finding)", cores, ours[cores]!.steps, ours[cores]!.pixels / 1e6))
        }
        return ours
    }

    /// The same network in PyTorch on `cores` cores (bench/fcrn_peer.py); nil when torch is missing.
    func timePeer(cores: Int) throws -> (steps: Double, pixels: Double)? {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, benchScript("fcrn_peer.py"), String(cores), String(steps), String(frames)]
        p.standardOutput = out; p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let v = text.split(separator: "\n").compactMap { Double($0) }
        return p.terminationStatus == 0 && v.count == 2 ? (v[0], v[1]) : nil
    }
}
