import Consensus

/// A fixed first stage followed by a verify stage, as the planner prices it (`verify:K,W,Q`:
/// K workers per image, W verifiers per question, Q questions per HIT).
public struct VerifiedDesign: ReplicatePolicy, Equatable {
    public var workers: Int
    public var stage: VerifyStage
    public init(workers: Int, stage: VerifyStage) { self.workers = workers; self.stage = stage }
    public init?(parsing s: String) {
        guard s.hasPrefix("verify:") else { return nil }
        let f = s.dropFirst("verify:".count).split(separator: ",").compactMap { Int($0) }
        guard f.count == 3 else { return nil }
        workers = f[0]; stage = VerifyStage(); stage.workersPerQuestion = f[1]; stage.questionsPerHIT = f[2]
    }
    public var description: String { "verify:\(workers),\(stage.workersPerQuestion),\(stage.questionsPerHIT)" }
    public var start: Int { workers }
    public var cap: Int { workers }
    public func wantsAnother(_ consensus: ImageConsensus, workers: Int) -> Bool { false }
}
