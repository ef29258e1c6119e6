import Crowd
import Lab
import Foundation
@MainActor func main() throws {
    for seed: UInt64 in [1, 2, 3, 4, 5, 6] {
        var line = "seed \(seed)"
        for k in [1, 3, 10] {
            var tw = Scenario(name: "tw")
            tw.sceneKind = .transwell; tw.images = 40; tw.replicates = k; tw.pay = 0.02; tw.seed = seed
            tw.method = "subtractive"; tw.subtractiveRadius = "13px"; tw.overlays = 0; tw.matchRadius = 10; tw.population = Paper.transwellCrowd
            let o = try LabRun.run(tw, keepPhantoms: false)
            let a = o.analysis.overall!
            line += String(format: "  k%d P %.3f R %.3f F %.3f", k, a.precision, a.recall, a.f1)
        }
        print(line)
    }
}
try main()
