import ArgumentParser
import Consensus
import Crowd
import Foundation

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulated workers annotate truth objects; writes a Quanti.us export.",
        discussion: """
        Workers are drawn from a population (default: the one calibrated to the \
        Quanti.us paper, Scenarios/populations/paper.yaml, built in). A discrete-event \
        marketplace decides who takes which image and when; each worker detects \
        objects by a psychometric curve, clicks with Fitts'-law pointing error, \
        learns over their first annotations, and limits effort by pay.

        The export has the real portal's schema and coordinates (y from the bottom \
        edge), annotation_type crosshairs, so `crowdlab analyze` reads it unchanged.

        Examples:
          crowdlab generate spots --count 9 --seed 1 --out out/spots
          crowdlab simulate --truth out/spots --images out/spots --replicates 10 \\
            --seed 1 --out out/export.json
          crowdlab analyze out/export.json --truth out/spots --out Reports/simulated
        """)

    @OptionGroup var input: TaskInputOptions
    @Option(help: "Workers per image.") var replicates: Int
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Population YAML (see crowdlab calibrate).") var population: String?
    @Option(help: "Pay per image in USD.") var pay: Double = 0.02
    @Option(help: "Output export JSON.") var out: String
    @Option(help: "Tool for movie truth (<frame>_truth.json): polyline, polygon or crosshairs (labelled, one annotation per label).") var tool: String?

    func run() throws {
        guard replicates >= 1 && replicates <= 1000 else { throw CLIError("--replicates: must be 1…1000") }
        if tool != nil || input.truth.hasSuffix(".json") || ((try? FileManager.default.contentsOfDirectory(atPath: input.truth))?.contains { $0.hasSuffix("_truth.json") } ?? false) {
            try runShapes(); return
        }
        guard pay > 0 && pay.isFinite && pay <= 100 else { throw CLIError("--pay: must be in (0, 100] USD per image") }
        var clock = Date()
        var phases: [(String, Double)] = []
        func lap(_ name: String) { phases.append((name, Date().timeIntervalSince(clock))); clock = Date() }
        let pop = try population.map { try Population.load(path: $0) } ?? Population()
        let dims = try input.size.map(parseSize)
        let sources = try TaskLoader.sources(truth: input.truth, image: input.image, imagesDir: input.images)
        let tasks = try TaskLoader.tasks(sources, size: dims, measure: pop.measure)
        lap("load")
        let progress = Progress(stages: 2)
        progress.stage("simulating \(replicates) workers on each of \(tasks.count) image(s)")
        let result = CrowdSimulation(population: pop, replicates: replicates, pay: pay, seed: seed).run(tasks)
        lap("simulate")
        progress.stage("writing \(out)")
        try ExportWriter.write(result.export, to: out)
        lap("encode and write")
        progress.done()
        if ProcessInfo.processInfo.environment["CROWDLAB_PROFILE"] != nil {
            FileHandle.standardError.write(Data(("profile (s): " + phases.map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ") + "\n").utf8))
        }
        print("\(result.export.records.count) submissions, \(result.clicks) clicks by \(result.imagesPerWorker.count) workers on \(tasks.count) image(s)")
        print("marketplace: \(fixed(result.hours, 2)) h to collect, \(fixed(result.annotationsPerHour, 0)) annotations/h, \(result.declinedArrivals) arrivals declined the HIT")
        print("wrote \(out)")
    }

    /// Movie frames: workers draw polylines, polygons or labelled crosshairs on the truth objects.
    func runShapes() throws {
        let name = tool ?? "polygon"
        guard let t = ShapeSimulation.Tool(rawValue: name) else { throw CLIError("--tool: must be polyline, polygon or crosshairs, not \(name)") }
        let pop = try population.map { try Population.load(path: $0) } ?? Population()
        var files: [String]
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input.truth, isDirectory: &isDir) else { throw CLIError("\(input.truth): does not exist") }
        if isDir.boolValue {
            files = try FileManager.default.contentsOfDirectory(atPath: input.truth).filter { $0.hasSuffix("_truth.json") }.sorted()
                .map { (input.truth as NSString).appendingPathComponent($0) }
        } else { files = [input.truth] }
        guard !files.isEmpty else { throw CLIError("\(input.truth): no <frame>_truth.json files") }
        var frames: [ShapeSimulation.Frame] = []
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else { throw CLIError("\(f): cannot be read") }
            let st: ShapeTruth
            do { st = try JSONDecoder().decode(ShapeTruth.self, from: data) } catch {
                throw CLIError("\((f as NSString).lastPathComponent): not a truth JSON: \(error)")
            }
            let stem = ((f as NSString).lastPathComponent as NSString).deletingPathExtension
            let image = String(stem.dropLast("_truth".count)) + ".png"
            frames.append(.init(image: image, width: st.width, height: st.height, objects: st.inExportCoordinates()))
        }
        let export = ShapeSimulation(population: pop, replicates: replicates, seed: seed, tool: t).run(frames)
        try ExportWriter.write(export, to: out)
        let shapes = export.records.reduce(0) { $0 + $1.rawData.filter { !$0.isEmpty }.count }
        print("\(export.records.count) submissions, \(shapes) \(t.rawValue) annotations on \(frames.count) frame(s)")
        print("wrote \(out)")
    }
}

func parseSize(_ s: String) throws -> (Int, Int) {
    let p = s.lowercased().split(separator: "x").map { Int($0) }
    guard p.count == 2, let w = p[0], let h = p[1], w >= 8, h >= 8, w <= 20000, h <= 20000 else {
        throw CLIError("--size: expected WxH in pixels (8…20000), found \"\(s)\"")
    }
    return (w, h)
}
