import Foundation

/// How sure the crowd is of each consensus object, and how much each worker covered.
///
/// The posterior that an object is real under a two-coin worker model (A. P. Dawid and A. M.
/// Skene, "Maximum likelihood estimation of observer error-rates using the EM algorithm", Applied
/// Statistics 28, 1979; one coin for objects, one for places that are none). Each worker on each
/// image has a coverage `c`, the chance they click an object there, and a false-click rate `f`,
/// the chance they click a place that is none. Both come from the method's answer (one E-step
/// after it): `c = (objects they clicked + 1) / (objects + 2)`, `f = (their clicks in no object +
/// 1) / (places that are none + 2)`, the places that are none being the candidates the method
/// did not keep. Each supporter multiplies an object's odds by `c/f`, each worker who saw the image
/// and did not click it by `(1 − c)/(1 − f)`, from the prior share of candidates kept. So a worker
/// who stopped after 50 clicks on a field of 268 objects (coverage about 0.2) is weak evidence
/// against an object they did not click, one who clicked 140 is strong evidence; the same rule
/// holds for 3 workers and for 30, sparse images and dense, with no constant to set.
public enum ObjectConfidence {
    /// One worker on one image.
    public struct Coverage: Sendable, Equatable {
        public var worker: Int
        /// Chance they click an object on this image.
        public var coverage: Double
        /// Chance they click a place that is no object.
        public var falseRate: Double
        /// The confidence summed over the objects they clicked on the image.
        public var confidentClicks: Double
    }

    /// Each point's posterior, set on the consensus, and every worker's coverage on the image.
    public static func annotate(_ im: ImageClicks, _ c: inout ImageConsensus) -> [Coverage] {
        let objects = c.points.count
        let places = max(1, c.candidateSupports.count - objects)
        var supporters: [[Int]] = []
        var clicked: [Int: Int] = [:], total: [Int: Int] = [:]
        for i in 0..<im.count { total[Int(im.worker[i]), default: 0] += 1 }
        for p in c.points {
            let ws = Array(Set(p.members.map { Int(im.worker[$0]) })).sorted()
            supporters.append(ws)
            for w in ws { clicked[w, default: 0] += 1 }
        }
        var out: [Coverage] = []
        var logOdds: [Int: (yes: Double, no: Double)] = [:]
        var silence = 0.0
        for w in im.workers {
            let n = total[w] ?? 0, hit = clicked[w] ?? 0
            let stray = n - min(n, hit)
            let coverage = (Double(hit) + 1) / (Double(objects) + 2)
            let falseRate = (Double(stray) + 1) / (Double(max(places, stray)) + 2)
            let yes = log(coverage / falseRate), no = log((1 - coverage) / (1 - falseRate))
            logOdds[w] = (yes, no)
            silence += no
            out.append(Coverage(worker: w, coverage: coverage, falseRate: falseRate, confidentClicks: 0))
        }
        let prior = (Double(objects) + 1) / (Double(c.candidateSupports.count) + 2)
        let base = log(prior / (1 - prior)) + silence
        var confident: [Int: Double] = [:]
        for k in c.points.indices {
            var l = base
            for w in supporters[k] { if let o = logOdds[w] { l += o.yes - o.no } }
            let q = 1 / (1 + exp(-l))
            c.points[k].confidence = q
            for w in supporters[k] { confident[w, default: 0] += q }
        }
        for k in out.indices { out[k].confidentClicks = confident[out[k].worker] ?? 0 }
        return out
    }
}
