import Foundation

/// A second stage for what the first crowd left undecided (the Quanti.us paper's daisy-chained
/// jobs; Branson, Van Horn and Perona, "Lean Crowdsourcing", CVPR 2017): each object accepted with
/// less than one vote to spare, and each candidate one vote short that two or more workers share,
/// becomes a yes/no question, "is there an object at the crosshair?", shown to a few new workers on
/// a crop. Their answers, weighed by each verifier's estimated sensitivity and specificity (a
/// two-coin model fitted by EM: A. P. Dawid and A. M. Skene, Applied Statistics 28, 1979), decide
/// those objects; the rest of the first stage's answer stands.
///
/// Why it pays: on a crop a worker judges one point, so a faint object that every worker's click
/// budget left out of their first-stage clicks is seen alone; and a false object that a few
/// workers clicked is shown to verifiers who each rarely say yes to nothing.
///
/// Defaults: 3 verifiers per question (an odd number that can outvote one poor answer), 10
/// questions per HIT.
public struct VerifyStage: Sendable, Equatable {
    public var workersPerQuestion = 3
    public var questionsPerHIT = 10
    /// EM rounds for the verifiers' coins (it settles within a few dozen).
    public var iterations = 50

    public init() {}

    /// One question: a point of one image, and whether the first stage kept it.
    public struct Question: Sendable, Equatable, Codable {
        public var image: String
        public var x: Double
        public var y: Double
        /// Index into the image's consensus points when the first stage accepted it, else into its near misses.
        public var index: Int
        public var acceptedFirst: Bool
    }

    /// One verifier's answer to one question.
    public struct Answer: Sendable, Equatable {
        public var worker: String
        public var yes: Bool
        public init(worker: String, yes: Bool) { self.worker = worker; self.yes = yes }
    }

    /// The undecided candidates of a first-stage consensus (its method asked for near misses).
    public func questions(_ consensus: [ImageConsensus]) -> [Question] {
        var out: [Question] = []
        for c in consensus {
            let needed = c.diagnostics.minWeightedSupport ?? 2
            for (k, p) in c.points.enumerated() where p.weightedSupport < needed + 1 - 1e-9 {
                out.append(Question(image: c.image, x: p.x, y: p.y, index: k, acceptedFirst: true))
            }
            for (k, p) in c.nearMisses.enumerated() {
                out.append(Question(image: c.image, x: p.x, y: p.y, index: k, acceptedFirst: false))
            }
        }
        return out
    }

    /// HITs and assignments the questions take.
    public func hits(questions: Int) -> Int { (questions + questionsPerHIT - 1) / questionsPerHIT }
    public func assignments(questions: Int) -> Int { hits(questions: questions) * workersPerQuestion }

    /// The posterior that each question's point is an object. Each verifier has a sensitivity (yes
    /// to an object) and a specificity (no to anything else), each with a Beta(1, 1) prior; the
    /// share of points that are objects is fitted too. Starts from the verifiers' majority.
    public func posteriors(_ answers: [[Answer]]) -> [Double] {
        var ids: [String: Int] = [:]
        let coded = answers.map { list in list.map { a -> (Int, Bool) in
            if let i = ids[a.worker] { return (i, a.yes) }
            ids[a.worker] = ids.count; return (ids.count - 1, a.yes)
        } }
        var q = coded.map { list in list.isEmpty ? 0.5 : Double(list.filter(\.1).count) / Double(list.count) }
        var sensitivity = [Double](repeating: 0.8, count: ids.count), specificity = sensitivity
        for _ in 0..<iterations {
            // M step: each verifier's coins and the prior, from the current posteriors.
            var yesOnObject = [Double](repeating: 1, count: ids.count), objects = [Double](repeating: 2, count: ids.count)
            var noOnOther = yesOnObject, others = objects
            for (k, list) in coded.enumerated() {
                for (w, yes) in list {
                    objects[w] += q[k]; others[w] += 1 - q[k]
                    if yes { yesOnObject[w] += q[k] } else { noOnOther[w] += 1 - q[k] }
                }
            }
            for w in 0..<ids.count { sensitivity[w] = yesOnObject[w] / objects[w]; specificity[w] = noOnOther[w] / others[w] }
            let prior = (q.reduce(0, +) + 1) / (Double(q.count) + 2)
            // E step: each point's posterior from its answers.
            for (k, list) in coded.enumerated() {
                var l = log(prior / (1 - prior))
                for (w, yes) in list {
                    l += yes ? log(sensitivity[w] / (1 - specificity[w])) : log((1 - sensitivity[w]) / specificity[w])
                }
                q[k] = 1 / (1 + exp(-l))
            }
        }
        return q
    }

    /// The final consensus: the first stage's objects less those the verifiers turned down, plus
    /// the near misses they confirmed (posterior 0.5 or more), each with its posterior as confidence.
    public func apply(_ consensus: [ImageConsensus], questions: [Question], posteriors: [Double]) -> [ImageConsensus] {
        var decided: [String: (drop: Set<Int>, add: [(Int, Double)], keep: [Int: Double])] = [:]
        for (k, question) in questions.enumerated() {
            let yes = posteriors[k] >= 0.5
            var d = decided[question.image] ?? ([], [], [:])
            if question.acceptedFirst {
                if yes { d.keep[question.index] = posteriors[k] } else { d.drop.insert(question.index) }
            } else if yes {
                d.add.append((question.index, posteriors[k]))
            }
            decided[question.image] = d
        }
        return consensus.map { c in
            guard let d = decided[c.image] else { return c }
            var out = c
            out.points = c.points.enumerated().filter { !d.drop.contains($0.offset) }.map { k, p in
                var p = p
                if let q = d.keep[k] { p.confidence = q }
                return p
            }
            for (k, q) in d.add {
                var p = c.nearMisses[k]
                p.confidence = q
                out.points.append(p)
            }
            out.nearMisses = []
            return out
        }
    }
}
