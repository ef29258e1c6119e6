import ArgumentParser
import Consensus
import Foundation
import Reports

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a real export back under a replicate policy: what it would have cost and found.",
        discussion: """
        Each image's real workers arrive one at a time in a seeded random order (their real submissions); the policy decides after each whether to ask another. fixed:K takes the first K; adaptive (default adaptive:3,15,0.15) starts with 3 and adds one at a time while the image's consensus has more than 0.15 undecided objects per accepted one (accepted with the bare support an object needs, or one vote short of it with two workers or more), up to 15. Writes DIR/consensus.csv (the contract, from the submissions the policy paid for) and DIR/replay.json ({"policy", "assignments", "images": {image: workers used}}, with --truth also precision, recall and F1; with --orders N each order's assignments and F1 and their means). An export of outlines (polygon records, as the portal's polygon tool gives) is played back by its outlines: DIR/consensus_shapes.json in place of consensus.csv, scored by their centroids, the adaptive policy measuring each image on the groups the shape consensus forms. With --images DIR --image-evidence the consensus of the submissions paid for hears the images (the policy still decides by the vote). With --curve, --policy may be repeated to weigh several settings on a pilot of your own (over twenty orders or more: five are too few to choose by), and --curve-to K plays the fixed designs up to K workers.

        Example:
          crowdlab replay Data/quanti-us/synth-cells/export.json --policy adaptive \\
            --truth Data/quanti-us/synth-cells --orders 5 --out Reports/replay
          crowdlab replay Data/quanti-us/synth-cells/export.json --curve \\
            --truth Data/quanti-us/synth-cells --orders 20 --out Reports/curve \\
            --policy adaptive:3,15,0.15 --policy adaptive:3,12,0.075
        """)

    @Argument(help: "A real (or simulated) Quanti.us export: clicks (crosshairs) or outlines (polygons).") var export: String
    @Option(help: "fixed:K, adaptive or adaptive:START,CAP,THRESHOLD (default adaptive). With --curve it may be repeated: each policy is played beside the fixed designs; the first one's consensus.csv and replay.json are written.") var policy: [String] = []
    @Option(help: "Seed of the first arrival order.") var seed: UInt64 = 1
    @Option(help: "Arrival orders to play (seeds seed, seed+1, ...); outputs are the first order's.") var orders: Int = 1
    @Option(help: "Truth (as for analyze), to score each order.") var truth: String?
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
        guard !curve || truth != nil else { throw CLIError("--curve: needs --truth (the curve scores each design)") }
        guard (3...1000).contains(curveTo) else { throw CLIError("--curve-to: must be 3…1000 (the curve runs from fixed:3)") }
        let data = try readSubmissions(export)
        guard let tool = Replay.Tool(of: data) else { throw CLIError("\(export): no crosshair or polygon submissions to replay") }
        guard tool == .crosshairs || !evidence.imageEvidence else { throw CLIError("--image-evidence: hears the images for clicks, and \(export) holds outlines") }
        let others = data.records.filter { $0.annotationType != tool.annotationType }.count
        if others > 0 {
            FileHandle.standardError.write(Data("note: \(others) record(s) of other tools than \(tool.rawValue) left out: \(export) is replayed by its \(tool == .crosshairs ? "clicks" : "outlines")\n".utf8))
        }
        let truthSet = try truthImage.load(truth, export: data)
        var options = AnalysisOptions()
        if let heard = try evidence.method(for: data, images: images) { options.method = heard }
        let played = play(data, policies: policies, truth: truthSet, options: options)
        try write(played)
        for line in summary(played, available: data.records.count - others) { print(line) }
    }

    /// One order of the first policy: what it paid for and the consensus of that.
    struct Order {
        var result: Replay.Result
        var analysed: Replay.Analysed
        var score: DetectionScore? { analysed.overall }
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
        var meanAssignments: Double { Double(orders.map(\.result.assignments).reduce(0, +)) / Double(orders.count) }
        var meanF1: Double { orders.compactMap { $0.score?.f1 }.reduce(0, +) / Double(orders.count) }
    }

    func play(_ data: QuantiusExport, policies: [any ReplicatePolicy], truth: TruthSet?, options: AnalysisOptions) -> Played {
        let progress = Progress(stages: orders + (curve ? 1 : 0))
        let played = (0..<orders).map { k -> Order in
            progress.stage("order \(k + 1) of \(orders)")
            let r = Replay.run(data, policy: policies[0], seed: seed + UInt64(k))
            return Order(result: r, analysed: Replay.analyse(r, truth: truth, options: options))
        }
        var curveResult: ReplayCurve?
        if curve, let truth {
            progress.stage("curve")
            // The first policy's orders above are the curve's too (a fixed:K takes its place among the fixed designs).
            let others = policies.dropFirst().filter { !($0 is FixedReplicates) }
            let first = played.reduce(into: ReplayCurve.Point(policy: policies[0].description,
                                                              fixedWorkers: (policies[0] as? FixedReplicates)?.workers)) { $0.record($1.result, $1.analysed) }
            curveResult = ReplayCurve.run(data, truth: truth, policies: others, played: [first], fixedRange: 3...curveTo, seed: seed,
                                          orders: orders, options: options) { done, total in progress.tick(done, total, "designs") }
        }
        progress.done()
        return Played(policy: policies[0].description, orders: played, curve: curveResult, oracle: curveResult?.oracle(), scored: truth != nil,
                      missed: curveResult?.missedChecks(radius: options.matchRadius) ?? [])
    }

    /// `consensus.csv` and `replay.json` of the first order (and each order's figures), and the
    /// curve's page and JSON; nothing is written unless all of it is.
    func write(_ played: Played) throws {
        let first = played.orders[0]
        var json: [String: Any] = ["policy": played.policy, "seed": first.result.seed, "assignments": first.result.assignments,
                                   "images": first.result.workersPerImage]
        if let s = first.score { json["precision"] = s.precision; json["recall"] = s.recall; json["f1"] = s.f1 }
        if let e = first.analysed.errors { json["errors"] = e.byKey }
        let missed = first.analysed.points?.images.filter { $0.expectedMissedObjects != nil } ?? []
        if !missed.isEmpty {
            json["expected_missed_objects"] = Dictionary(missed.map { ($0.image, $0.expectedMissedObjects!) }, uniquingKeysWith: +)
            json["missed_at_workers"] = Dictionary(missed.map { ($0.image, $0.missedAtWorkers!) }, uniquingKeysWith: max)
        }
        if orders > 1 {
            json["orders"] = played.orders.map { o -> [String: Any] in
                var row: [String: Any] = ["seed": o.result.seed, "assignments": o.result.assignments]
                if let s = o.score { row["f1"] = s.f1 }
                return row
            }
            json["mean_assignments"] = played.meanAssignments
            if played.scored { json["mean_f1"] = played.meanF1 }
        }
        let stage = try OutputStage(destination: out)
        if let points = first.analysed.points { try stage.write(AnalysisOutputs.consensusCSV(points), "consensus.csv") }
        if let shapes = first.analysed.shapes { try stage.write(ShapeOutputs.consensusShapesJSON(shapes), "consensus_shapes.json") }
        try stage.write(try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]), "replay.json")
        if let c = played.curve {
            try stage.write(Self.curveJSON(c, oracle: played.oracle, missed: played.missed), "curve.json")
            try stage.write(ReplayCurveReport.html(c, title: "Replicates on \(Self.shortName(export)): F1 against assignments", orders: orders,
                                                   oracle: played.oracle, missed: played.missed), "curve.html")
        }
        try stage.commit()
    }

    func summary(_ played: Played, available: Int) -> [String] {
        let first = played.orders[0]
        var lines = ["\(played.policy): \(fixed(played.meanAssignments, 1)) of \(available) assignments" + (orders > 1 ? " (mean of \(orders) orders)" : "")]
        if played.scored {
            lines.append("consensus F1 \(fixed(played.meanF1, 3))" + (orders > 1 ? " (mean)" : "")
                         + (first.score.map { ", first order P \(fixed($0.precision, 3)) R \(fixed($0.recall, 3))" } ?? ""))
            if let e = first.analysed.errors { lines.append("first order " + e.sentence) }
        }
        if let points = first.analysed.points, let line = evidence.summary(points.consensus) { lines.append(line + " (first order)") }
        lines += played.curve.map { Self.againstFixed($0, first: played.policy) } ?? []
        if !played.missed.isEmpty {
            lines.append("objects still missed, expected against found by twice the workers: "
                         + played.missed.map { "fixed:\($0.workers) \(fixed($0.expected, 1)) / \(fixed($0.found, 1))" }.joined(separator: ", "))
        }
        if let o = played.oracle {
            lines.append("an oracle choosing each image's workers by the truth needs \(o.assignments) assignments (\(fixed(100 * o.share, 0)) % of fixed:\(o.reference)'s) for F1 \(fixed(o.targetF1, 3)); knowing each order's workers too, \(fixed(100 * o.perOrderShare, 0)) %")
        }
        lines.append("wrote \(out)/\(first.analysed.shapes == nil ? "consensus.csv" : "consensus_shapes.json"), replay.json" + (curve ? ", curve.html, curve.json" : ""))
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
