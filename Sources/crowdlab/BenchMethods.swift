import ArgumentParser
import Consensus
import Randomness
import Foundation

/// `crowdlab bench methods`: every point method on the real exports in Data/, accuracy and time.
struct BenchMethods: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "Accuracy (F1 at 8 px, blind) and time of each consensus method on the real exports.")

    @Option(help: "Folder of real exports with truth.") var data: String = "Data/quanti-us"

    func run() throws {
        print("method        set            precision  recall     F1    seconds")
        for name in PointMethods.names {
            for set in ["synth-cells", "synth-tissue"] {
                let e = try ExportReader.read(path: "\(data)/\(set)/export.json")
                let t = try TruthSet.load(path: "\(data)/\(set)", export: e)
                let job = ClickJob(export: e)
                let m = try PointMethods.make(name)
                let start = Date()
                let c = m.consensus(job)
                let secs = Date().timeIntervalSince(start)
                var s = DetectionScore()
                for im in c { if let tp = t.byImage[im.image] { s = s + scoreAgainstTruth(im.points, tp, radius: 8).0 } }
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + set.padding(toLength: 15, withPad: " ", startingAt: 0)
                      + String(format: "%9.3f  %6.3f  %6.3f  %7.3f", s.precision, s.recall, s.f1, secs))
            }
        }
    }
}
