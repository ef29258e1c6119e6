import ArgumentParser
import Consensus
import Imaging
import Randomness
import Foundation

/// `crowdlab bench methods`: every point method on the real exports in Data/, accuracy and time;
/// then the vote hearing the images, timed against the vote alone in the same run.
struct BenchMethods: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "Accuracy (F1 at 8 px, blind) and time of each consensus method on the real exports, and of the vote with image evidence.")

    @Option(help: "Folder of real exports with truth.") var data: String = "Data/quanti-us"

    static let sets = ["synth-cells", "synth-tissue", "smfish-inverted"]

    func run() throws {
        print("method          set              precision  recall     F1    seconds  x vote")
        var voteSeconds: [String: Double] = [:]
        for name in PointMethods.names {
            for set in Self.sets {
                let secs = try measure(try PointMethods.make(name), name: name, set: set)
                if name == PointMethods.Name.agreement.rawValue { voteSeconds[set] = secs }
            }
        }
        for set in Self.sets {
            let export = try ExportReader.read(path: "\(data)/\(set)/export.json")
            var pictures: [String: Image] = [:]
            for image in export.imageNames { pictures[image] = try PNG.read(path: "\(data)/\(set)/images/\(image)") }
            _ = try measure(ImageEvidenceConsensus(images: pictures), name: ImageEvidenceConsensus.methodName, set: set, vote: voteSeconds[set])
        }
    }

    /// Prints one row (with `vote`, its time as a multiple of the vote's) and returns the consensus's seconds.
    func measure(_ m: any PointConsensusMethod, name: String, set: String, vote: Double? = nil) throws -> Double {
        let e = try ExportReader.read(path: "\(data)/\(set)/export.json")
        let t = try TruthSet.load(path: "\(data)/\(set)", export: e)
        let job = ClickJob(export: e)
        let start = Date()
        let c = m.consensus(job)
        let secs = Date().timeIntervalSince(start)
        var s = DetectionScore()
        for im in c { if let tp = t.byImage[im.image] { s = s + scoreAgainstTruth(im.points, tp, radius: 8).0 } }
        print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + set.padding(toLength: 17, withPad: " ", startingAt: 0)
              + String(format: "%9.3f  %6.3f  %6.3f  %7.3f", s.precision, s.recall, s.f1, secs)
              + (vote.map { $0 > 0 ? String(format: "  %6.1f", secs / $0) : "" } ?? ""))
        return secs
    }
}
