import Foundation
import Randomness

/// A real export played back as if its workers arrived one at a time per image, in a seeded random
/// order of their real submissions (shuffled from `ExportRecord.canonicallyOrdered`, so the export's
/// own listing does not change it); the policy decides after each whether to ask another. What a
/// job run with that policy would have paid for, and the consensus it would have reached.
public enum Replay {
    public struct Result: Sendable {
        public var policy: String
        public var seed: UInt64
        /// The submissions the policy would have paid for, in the export's order.
        public var export: QuantiusExport
        /// Workers used per image.
        public var workersPerImage: [String: Int]
        public var assignments: Int { workersPerImage.values.reduce(0, +) }
    }

    /// Whether one image's submissions so far call for another worker under `policy` (the decision
    /// a replay makes after each arrival, and a Mechanical Turk job before adding an assignment).
    public static func wantsAnother(_ submissions: [ExportRecord], policy: any ReplicatePolicy,
                                    method: AgreementConsensus = AgreementConsensus()) -> Bool {
        let n = submissions.count
        guard n < policy.cap else { return false }
        guard n >= policy.start else { return true }
        guard let c = method.consensus(ClickJob(export: QuantiusExport(records: submissions))).first else { return false }
        return policy.wantsAnother(c, workers: n)
    }

    public static func run(_ export: QuantiusExport, policy: any ReplicatePolicy, seed: UInt64,
                           method: AgreementConsensus = AgreementConsensus()) -> Result {
        let groups = export.canonicalRecords { $0.annotationType == .crosshairs }.images.filter { !$0.indices.isEmpty }
        let byImage = Dictionary(uniqueKeysWithValues: groups.map { ($0.image, $0.indices) })
        let names = byImage.keys.sorted()
        let chosen: [[Int]] = Array(names.indices).parallelMap { k in
            var order = byImage[names[k]]!
            let rng = SeededRandom(seed: SeededRandom.derive(seed, UInt64(k)))
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
            var n = min(policy.start, order.count)
            while n < order.count && wantsAnother(order.prefix(n).map { export.records[$0] }, policy: policy, method: method) {
                n += 1
            }
            return Array(order.prefix(n))
        }
        var used: [String: Int] = [:]
        for (k, name) in names.enumerated() { used[name] = chosen[k].count }
        let keep = Set(chosen.flatMap { $0 })
        let records = export.records.indices.filter { keep.contains($0) }.map { export.records[$0] }
        return Result(policy: policy.description, seed: seed, export: QuantiusExport(records: records), workersPerImage: used)
    }
}
