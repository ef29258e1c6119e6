import Consensus
import Crowd
import Foundation
import Phantoms
import Randomness
import Reports

// What `crowdlab paper` writes beside its report: truth files, claims as JSON, and the rank
// correlation the speed-accuracy claim uses.

extension Paper {
    /// The truth of an experiment as `col,row,snr[,kind]` files (row from the top), one per image,
    /// named `<image stem>.csv` so `crowdlab analyze --truth DIR` matches them.
    public static func truthFiles(_ o: LabRun.Outcome) -> [(String, String)] {
        o.truth.byImage.keys.sorted().map { name in
            let t = o.truth.byImage[name]!
            let h = Double(o.simulation.export.records.first { $0.imageFilename == name }?.height ?? 0)
            var csv = "col,row,snr,kind\n"
            for (j, (x, y)) in zip(t.xs, t.ys).enumerated() { csv += "\(formatNumber(x)),\(formatNumber(h - y)),\(String(format: "%.6g", t.snr?[j] ?? 0)),object\n" }
            for (x, y) in zip(t.distractorXs, t.distractorYs) { csv += "\(formatNumber(x)),\(formatNumber(h - y)),0,pore\n" }
            return ((name as NSString).deletingPathExtension + ".csv", csv)
        }
    }

    /// Spearman rank correlation.
    static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count >= 3, a.count == b.count else { return .nan }
        func ranks(_ v: [Double]) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
                for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
                i = j + 1
            }
            return r
        }
        let ra = ranks(a), rb = ranks(b)
        let ma = mean(ra), mb = mean(rb)
        var num = 0.0, da = 0.0, db = 0.0
        for i in ra.indices { num += (ra[i] - ma) * (rb[i] - mb); da += (ra[i] - ma) * (ra[i] - ma); db += (rb[i] - mb) * (rb[i] - mb) }
        return da > 0 && db > 0 ? num / (da * db).squareRoot() : .nan
    }

    public static func json(_ r: Result) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        struct Row: Encodable { var id: String; var claim: String; var paper: Double; var simulated: Double; var tolerance: Double; var holds: Bool }
        return try enc.encode(r.claims.map { Row(id: $0.id, claim: $0.claim, paper: $0.paper, simulated: $0.simulated, tolerance: $0.tolerance, holds: $0.holds) })
    }
}
