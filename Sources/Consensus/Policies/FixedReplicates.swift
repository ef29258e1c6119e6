import Foundation

/// Every image gets the same number of workers: what most crowd jobs pay for.
public struct FixedReplicates: ReplicatePolicy {
    public var workers: Int
    public init(workers: Int) { self.workers = workers }
    public var description: String { "fixed:\(workers)" }
    public var start: Int { workers }
    public var cap: Int { workers }
    public func wantsAnother(_ consensus: ImageConsensus, workers: Int) -> Bool { false }
}
