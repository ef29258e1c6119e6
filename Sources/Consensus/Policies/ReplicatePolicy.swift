import Foundation

/// How many workers an image gets: a fixed number, or more only where the consensus is still
/// unsettled. One interface, one file per policy; `crowdlab replay` plays real exports through
/// them, and the same decision rule serves any job that can add assignments.
public protocol ReplicatePolicy: Sendable {
    /// The policy as `--policy` takes it (`fixed:5`, `adaptive:3,15,0.1`).
    var description: String { get }
    /// Workers every image gets first.
    var start: Int { get }
    /// Workers an image gets at most.
    var cap: Int { get }
    /// Whether an image whose consensus of `workers` workers is `consensus` should get another.
    func wantsAnother(_ consensus: ImageConsensus, workers: Int) -> Bool
}

/// How settled one image's consensus is: objects accepted with the bare support an object needs
/// and near-misses one vote short of it that at least two workers share (one more worker could
/// turn either), against the objects accepted. A lone click is left out: strays are always there,
/// and one worker's click is weak evidence either way. Unless nothing is accepted: workers who
/// clicked but agree on nothing have not settled an image (three who clicked 1, 4 and 10 of 150
/// spots share none of them), while an image nobody clicked is settled as empty.
public struct Settledness: Sendable, Equatable {
    public var accepted: Int
    public var undecided: Int
    /// Candidates of any support, lone clicks included.
    public var candidates: Int
    /// Undecided candidates per accepted object (0: every candidate is clearly in or out); with
    /// nothing accepted, every candidate counts.
    public var uncertainty: Double { accepted > 0 ? Double(undecided) / Double(accepted) : Double(candidates) }

    public init(_ c: ImageConsensus) {
        accepted = c.points.count
        candidates = c.candidateSupports.count
        let needed = c.diagnostics.minWeightedSupport ?? 2
        let bare = needed.rounded(.up)
        undecided = c.candidateSupports.filter { $0 >= 2 && (Double($0) == bare || Double($0) == bare - 1) }.count
    }
}

public enum ReplicatePolicies {
    /// Parses `fixed:K`, `adaptive` or `adaptive:START,CAP,THRESHOLD`; errors name the option.
    public static func parse(_ s: String, option: String = "--policy") throws -> any ReplicatePolicy {
        let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
        func bad(_ why: String) -> InputError { InputError(file: option, message: "\"\(s)\": \(why)") }
        switch parts.first ?? "" {
        case "fixed":
            guard parts.count == 2, let k = Int(parts[1]), (1...1000).contains(k) else { throw bad("expected fixed:K with K workers per image, 1…1000") }
            return FixedReplicates(workers: k)
        case "adaptive":
            var p = AdaptiveReplicates()
            guard parts.count == 2 else { return p }
            let f = parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3, let start = Int(f[0]), let cap = Int(f[1]), let t = Double(f[2]) else {
                throw bad("expected adaptive or adaptive:START,CAP,THRESHOLD (e.g. adaptive:3,15,0.1)")
            }
            guard start >= 1, cap >= start, cap <= 1000 else { throw bad("START must be at least 1 and CAP at least START (at most 1000)") }
            guard t >= 0, t.isFinite else { throw bad("THRESHOLD must be a non-negative number") }
            p.start = start; p.cap = cap; p.threshold = t
            return p
        default:
            throw bad("unknown policy: fixed:K or adaptive[:START,CAP,THRESHOLD]")
        }
    }
}
