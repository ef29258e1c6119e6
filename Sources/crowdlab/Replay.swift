import ArgumentParser
import Consensus
import Foundation
import Reports

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a real export back under a replicate policy: what it would have cost and found.",
        discussion: """
        Each image's real workers arrive one at a time in a seeded random order (their real submissions); the policy decides after each whether to ask another. fixed:K takes the first K; adaptive (default adaptive:3,15,0.15) starts with 3 and adds one at a time while the image's consensus has more than 0.15 undecided objects per accepted one (accepted with the bare support an object needs, or one vote short of it with two workers or more), up to 15. Writes DIR/consensus.csv (the contract, from the submissions the policy paid for) and DIR/replay.json ({"policy", "assignments", "images": {image: workers used}}, with --truth also precision, recall and F1; with --orders N each order's assignments and F1 and their means). An export of outlines (polygon records, as the portal's polygon tool gives) is played back by its outlines: DIR/consensus_shapes.json in place of consensus.csv, scored by their centroids, the adaptive policy measuring each image on the groups the shape consensus forms. With --images DIR --image-evidence the consensus of the submissions paid for hears the images (the policy still decides by the vote). With --curve, --policy may be repeated to weigh several settings on a pilot of your own (over twenty orders or more: five are too few to choose by), and --curve-to K plays the fixed designs up to K workers. Several exports (with one --truth each, in their order) are replayed as one job: each on its own consensus, the assignments added and F1 taken from the pooled counts of every image with truth; --truth-image goes with the export that holds that image.

        Example:
          crowdlab replay Data/quanti-us/synth-cells/export.json --policy adaptive \\
            --truth Data/quanti-us/synth-cells --orders 5 --out Reports/replay
          crowdlab replay Data/quanti-us/synth-cells/export.json --curve \\
            --truth Data/quanti-us/synth-cells --orders 20 --out Reports/curve \\
            --policy adaptive:3,15,0.15 --policy adaptive:3,12,0.075
          crowdlab replay Data/quanti-us/synth-cells/export.json Data/quanti-us/smfish-inverted/export.json \\
            --truth Data/quanti-us/synth-cells --truth Data/quanti-us/smfish-inverted --orders 20 --curve --out Reports/job
        """)

    @Argument(help: "A real (or simulated) Quanti.us export: clicks (crosshairs) or outlines (polygons). Several are replayed as one job: each export on its own, their figures pooled.") var exports: [String]
    @Option(help: "fixed:K, adaptive or adaptive:START,CAP,THRESHOLD (default adaptive). With --curve it may be repeated: each policy is played beside the fixed designs; the first one's consensus.csv and replay.json are written.") var policy: [String] = []
    @Option(help: "Seed of the first arrival order.") var seed: UInt64 = 1
    @Option(help: "Arrival orders to play (seeds seed, seed+1, ...); outputs are the first order's.") var orders: Int = 1
    @Option(help: "Truth (as for analyze), to score each order; with several exports, one per export in their order.") var truth: [String] = []
    @OptionGroup var truthImage: TruthImageOption
    @Option(help: "Folder holding the export's images (for --image-evidence).") var images: String?
    @OptionGroup var evidence: ImageEvidenceOption
    @Flag(help: "Also play fixed:3 to fixed:15 (--curve-to) over the same orders and write DIR/curve.html and curve.json: F1 against assignments, and the least an oracle choosing each image's workers by the truth pays for fixed:10's F1 (needs --truth).") var curve = false
    @Option(help: "With --curve, the largest fixed design played (fixed:3 to fixed:K, at most the workers an image has).") var curveTo: Int = 15
    @Option(help: "Output folder.") var out: String = "Reports/replay"

    func run() throws {
        let policies = try Self.policies(policy, curve: curve)
        guard (1...100).contains(orders) else { throw CLIError("--orders: must be 1…100") }
        try evidence.check(images: images)
        guard !curve || !truth.isEmpty else { throw CLIError("--curve: needs --truth (the curve scores each design)") }
        guard truth.isEmpty || truth.count == exports.count else {
            throw CLIError("--truth: one per export (\(exports.count) given), in the order of the exports")
        }
        guard (3...1000).contains(curveTo) else { throw CLIError("--curve-to: must be 3…1000 (the curve runs from fixed:3)") }
        let inputs = try loadInputs()
        let played = play(inputs, policies: policies)
        try write(played, tool: inputs[0].tool)
        for line in summary(played, tool: inputs[0].tool, available: inputs.reduce(0) { $0 + $1.replayable }) { print(line) }
    }

    /// One export of the job: what is replayed of it, its truth and how its consensus is taken.
    struct Input {
        var path: String
        var data: QuantiusExport
        var tool: Replay.Tool
        var replayable: Int
        var truth: TruthSet?
        var options: AnalysisOptions
    }

    /// Every export, read and checked before any is played: one tool for the job, each image in one
    /// export only, the truth of each, and `--truth-image` with the export that holds that image.
    func loadInputs() throws -> [Input] {
        var inputs: [Input] = [], owner: [String: String] = [:]
        for (k, path) in exports.enumerated() {
            let data = try readSubmissions(path)
            guard let tool = Replay.Tool(of: data) else { throw CLIError("\(path): no crosshair or polygon submissions to replay") }
            if let first = inputs.first, first.tool != tool {
                throw CLIError("\(path): replayed by its \(tool.rawValue) records, \(first.path) by its \(first.tool.rawValue) records: one job is replayed by one tool")
            }
            guard tool == .crosshairs || !evidence.imageEvidence else { throw CLIError("--image-evidence: hears the images for clicks, and \(path) holds outlines") }
            for name in data.imageNames {
                if let other = owner.updateValue(path, forKey: name) {
                    throw CLIError("\(path): image \(name) is in \(other) too: the exports of one job are replayed each image once")
                }
            }
            let others = data.records.filter { $0.annotationType != tool.annotationType }.count
            if others > 0 {
                FileHandle.standardError.write(Data("note: \(others) record(s) of other tools than \(tool.rawValue) left out: \(path) is replayed by its \(tool == .crosshairs ? "clicks" : "outlines")\n".utf8))
            }
            var options = AnalysisOptions()
            if let heard = try evidence.method(for: data, images: images) { options.method = heard }
            inputs.append(Input(path: path, data: data, tool: tool, replayable: data.records.count - others,
                                truth: try truthSet(k, data), options: options))
        }
        if exports.count > 1, let name = truthImage.truthImage, !owner.keys.contains(name) {
            throw CLIError("--truth-image: no export holds an image \(name)")
        }
        return inputs
    }

    /// Export `k`'s truth. With several exports `--truth-image` goes with the one that holds that image.
    func truthSet(_ k: Int, _ data: QuantiusExport) throws -> TruthSet? {
        let path: String? = truth.isEmpty ? nil : truth[k]
        guard exports.count > 1, let path, let name = truthImage.truthImage else { return try truthImage.load(path, export: data) }
        return try TruthSet.load(path: path, export: data, image: data.imageNames.contains(name) ? name : nil)
    }

    /// One order of the first policy over every export: what it paid for and the consensus of that.
    struct Order {
        var results: [Replay.Result]
        var analysed: [Replay.Analysed]
        var seed: UInt64 { results[0].seed }
        var assignments: Int { results.reduce(0) { $0 + $1.assignments } }
        var workersPerImage: [String: Int] { results.reduce(into: [:]) { $0.merge($1.workersPerImage) { a, b in a + b } } }
        /// Pooled over the exports: each image is matched to its own truth, so the counts add.
        var score: DetectionScore? {
            let scored = analysed.compactMap(\.overall)
            return scored.isEmpty ? nil : scored.reduce(DetectionScore(), +)
        }
        var errors: ErrorBreakdown? {
            let broken = analysed.compactMap(\.errors)
            return broken.isEmpty ? nil : broken.reduce(ErrorBreakdown(), +)
        }
        var points: [AnalysisResult] { analysed.compactMap(\.points) }
        var shapes: [ShapeAnalysisResult] { analysed.compactMap(\.shapes) }
    }

    /// What a replay found: the first policy over every order, and the curve when asked.
    struct Played {
        var policy: String
        var orders: [Order]
        var curve: ReplayCurve?
        var oracle: ReplayCurve.Oracle?
        var scored: Bool
        /// Each fixed:K's expected missed objects against what fixed:2K found (`ReplayCurve.missedChecks`).
        var missed: [ReplayCurve.MissedCheck]
        var meanAssignments: Double { Double(orders.map(\.assignments).reduce(0, +)) / Double(orders.count) }
        var meanF1: Double { orders.compactMap { $0.score?.f1 }.reduce(0, +) / Double(orders.count) }
    }

    func play(_ inputs: [Input], policies: [any ReplicatePolicy]) -> Played {
        let progress = Progress(stages: orders + (curve ? 1 : 0))
        let played = (0..<orders).map { k -> Order in
            progress.stage("order \(k + 1) of \(orders)")
            let runs = inputs.map { input -> (Replay.Result, Replay.Analysed) in
                let r = Replay.run(input.data, policy: policies[0], seed: seed + UInt64(k))
                return (r, Replay.analyse(r, truth: input.truth, options: input.options))
            }
            return Order(results: runs.map(\.0), analysed: runs.map(\.1))
        }
        var curveResult: ReplayCurve?
        if curve {
            progress.stage("curve")
            // The first policy's orders above are the curve's too (a fixed:K takes its place among the
            // fixed designs). Every export plays the same fixed designs, so their points pool.
            let others = policies.dropFirst().filter { !($0 is FixedReplicates) }
            let range = 3...max(3, min(curveTo, inputs.map { ReplayCurve.mostWorkers($0.data) }.min() ?? 3))
            let curves = inputs.enumerated().map { i, input -> ReplayCurve in
                let first = played.reduce(into: ReplayCurve.Point(policy: policies[0].description,
                                                                  fixedWorkers: (policies[0] as? FixedReplicates)?.workers)) {
                    $0.record($1.results[i], $1.analysed[i])
                }
                return ReplayCurve.run(input.data, truth: input.truth!, policies: others, played: [first], fixedRange: range, seed: seed,
                                       orders: orders, options: input.options) { done, total in
                    progress.tick(i * total + done, inputs.count * total, "designs")
                }
            }
            curveResult = ReplayCurve.pooled(curves)
        }
        progress.done()
        return Played(policy: policies[0].description, orders: played, curve: curveResult, oracle: curveResult?.oracle(),
                      scored: !truth.isEmpty, missed: curveResult?.missedChecks(radius: inputs[0].options.matchRadius) ?? [])
    }

    /// `consensus.csv` and `replay.json` of the first order (and each order's figures), and the
    /// curve's page and JSON; nothing is written unless all of it is.
    func write(_ played: Played, tool: Replay.Tool) throws {
        let first = played.orders[0]
        var json: [String: Any] = ["policy": played.policy, "seed": first.seed, "assignments": first.assignments,
                                   "images": first.workersPerImage]
        if exports.count > 1 { json["exports"] = exports }
        if let s = first.score { json["precision"] = s.precision; json["recall"] = s.recall; json["f1"] = s.f1 }
        if let e = first.errors { json["errors"] = e.byKey }
        let missed = first.points.flatMap(\.images).filter { $0.expectedMissedObjects != nil }
        if !missed.isEmpty {
            json["expected_missed_objects"] = Dictionary(missed.map { ($0.image, $0.expectedMissedObjects!) }, uniquingKeysWith: +)
            json["missed_at_workers"] = Dictionary(missed.map { ($0.image, $0.missedAtWorkers!) }, uniquingKeysWith: max)
        }
        if orders > 1 {
            json["orders"] = played.orders.map { o -> [String: Any] in
                var row: [String: Any] = ["seed": o.seed, "assignments": o.assignments]
                if let s = o.score { row["f1"] = s.f1 }
                return row
            }
            json["mean_assignments"] = played.meanAssignments
            if played.scored { json["mean_f1"] = played.meanF1 }
        }
        let stage = try OutputStage(destination: out)
        switch tool {
        case .crosshairs: try stage.write(AnalysisOutputs.consensusCSV(first.points), "consensus.csv")
        case .polygon: try stage.write(ShapeOutputs.consensusShapesJSON(first.shapes), "consensus_shapes.json")
        }
        try stage.write(try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]), "replay.json")
        if let c = played.curve {
            try stage.write(Self.curveJSON(c, oracle: played.oracle, missed: played.missed), "curve.json")
            try stage.write(ReplayCurveReport.html(c, title: "Replicates on \(title): F1 against assignments",
                                                   orders: orders, oracle: played.oracle, missed: played.missed), "curve.html")
        }
        try stage.commit()
    }

    func summary(_ played: Played, tool: Replay.Tool, available: Int) -> [String] {
        let first = played.orders[0]
        var lines = ["\(played.policy): \(fixed(played.meanAssignments, 1)) of \(available) assignments" + (orders > 1 ? " (mean of \(orders) orders)" : "")
                     + (exports.count > 1 ? " over \(exports.count) exports" : "")]
        if played.scored {
            lines.append("consensus F1 \(fixed(played.meanF1, 3))" + (orders > 1 ? " (mean)" : "")
                         + (first.score.map { ", first order P \(fixed($0.precision, 3)) R \(fixed($0.recall, 3))" } ?? ""))
            if let e = first.errors { lines.append("first order " + e.sentence) }
        }
        if tool == .crosshairs, let line = evidence.summary(first.points.flatMap(\.consensus)) { lines.append(line + " (first order)") }
        lines += played.curve.map { Self.againstFixed($0, first: played.policy) } ?? []
        if !played.missed.isEmpty {
            lines.append("objects still missed, expected against found by twice the workers: "
                         + played.missed.map { "fixed:\($0.workers) \(fixed($0.expected, 1)) / \(fixed($0.found, 1))" }.joined(separator: ", "))
        }
        if let o = played.oracle {
            lines.append("an oracle choosing each image's workers by the truth needs \(o.assignments) assignments (\(fixed(100 * o.share, 0)) % of fixed:\(o.reference)'s) for F1 \(fixed(o.targetF1, 3)); knowing each order's workers too, \(fixed(100 * o.perOrderShare, 0)) %")
        }
        lines.append("wrote \(out)/\(tool == .crosshairs ? "consensus.csv" : "consensus_shapes.json"), replay.json" + (curve ? ", curve.html, curve.json" : ""))
        return lines
    }

    /// The policies `--policy` names, the default when none; several only beside the curve, and each once.
    static func policies(_ given: [String], curve: Bool) throws -> [any ReplicatePolicy] {
        var seen = Set<String>()
        let parsed = try (given.isEmpty ? ["adaptive"] : given).map { try ReplicatePolicies.parse($0) }.filter { seen.insert($0.description).inserted }
        guard parsed.count == 1 || curve else {
            throw CLIError("--policy: one policy, or several with --curve (each played beside the fixed designs)")
        }
        return parsed
    }

    /// Each policy played beside the curve against the fixed designs at the same F1; the first
    /// policy's figures are printed above, so its line gives only the comparison.
    static func againstFixed(_ c: ReplayCurve, first: String) -> [String] {
        c.others.compactMap { other in
            let same = c.fixedAssignments(reaching: other.meanF1)
            if other.policy == first { return same.map { "fixed designs need \(fixed($0, 1)) assignments for the same F1" } }
            return "\(other.policy): \(fixed(other.meanAssignments, 1)) assignments, F1 \(fixed(other.meanF1, 3)); "
                + (same.map { "fixed designs need \(fixed($0, 1)) for the same F1" } ?? "above every fixed design")
        }
    }

    /// What the curve's page is about: the export (`shortName`), or the exports of a job by their
    /// folders when they are all named `export.json`.
    var title: String {
        guard exports.count > 1 else { return Self.shortName(exports[0]) }
        let names = exports.map(Self.shortName)
        return names.allSatisfy { $0.hasSuffix("/export.json") } ? names.map { String($0.dropLast("/export.json".count)) }.joined(separator: ", ")
                                                                 : names.joined(separator: ", ")
    }

    /// `synth-cells/export.json` rather than a bare `export.json`: exports are often named alike.
    static func shortName(_ path: String) -> String {
        let parts = URL(fileURLWithPath: path).standardizedFileURL.pathComponents.suffix(2)
        return parts.joined(separator: "/")
    }

    static func curveJSON(_ c: ReplayCurve, oracle: ReplayCurve.Oracle?, missed: [ReplayCurve.MissedCheck]) throws -> Data {
        let reference = c.fixed.first { $0.fixedWorkers == (oracle?.reference ?? ReplayCurve.reference) }
        let designs = c.points.map { p -> [String: Any] in
            var d: [String: Any] = ["policy": p.policy, "assignments": p.assignments, "f1": p.f1, "mean_assignments": p.meanAssignments,
                                    "mean_f1": p.meanF1, "sd_f1": p.sdF1]
            if let r = reference, let gap = c.difference(p, from: r) {
                d["against_reference"] = ["reference": r.policy, "f1_gap": gap.mean, "standard_error": gap.standardError] as [String: Any]
            }
            if let e = p.meanErrors { d["mean_errors"] = ErrorBreakdown.byKey(e) }
            return d
        }
        var json: [String: Any] = ["designs": designs]
        if !missed.isEmpty {
            json["missed"] = missed.map { ["policy": "fixed:\($0.workers)", "against": "fixed:\(2 * $0.workers)", "images": $0.images,
                                           "expected": $0.expected, "found": $0.found] as [String: Any] }
        }
        if let o = oracle {
            json["oracle"] = ["reference": "fixed:\(o.reference)", "target_f1": o.targetF1, "assignments": o.assignments,
                              "reference_assignments": o.referenceAssignments, "share": o.share, "workers": o.workers,
                              "per_order_assignments": o.perOrderAssignments, "per_order_share": o.perOrderShare] as [String: Any]
        }
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }
}
