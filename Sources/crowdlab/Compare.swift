import ArgumentParser
import Consensus
import Crowd
import Foundation

/// `crowdlab compare`: a simulated crowd against a real one on the same truth.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two exports of the same images (e.g. simulated vs real) against truth.",
        discussion: """
        Prints consensus precision and recall (default method, blind) and the detection \
        rate per SNR band for each export, and their differences.

        Example:
          crowdlab compare real.json simulated.json --truth Data/quanti-us/synth-cells
        """)
    @Argument(help: "The reference export (e.g. the real crowd).") var reference: String
    @Argument(help: "The export to compare (e.g. the simulated crowd).") var candidate: String
    @Option(help: "Truth CSV or folder.") var truth: String
    @OptionGroup var truthImage: TruthImageOption
    @Option(help: "SNR band edges, comma-separated.") var bands: String = "0,5,7.5,10,15,20,100"

    func run() throws {
        let edges = bands.split(separator: ",").compactMap { Double($0) }
        guard edges.count >= 2, zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else { throw CLIError("--bands: expected increasing numbers like 0,5,10,100") }
        let a = try readSubmissions(reference), b = try readSubmissions(candidate)
        let ta = try truthImage.load(truth, export: a), tb = try truthImage.load(truth, export: b)
        let ra = Analysis.run(export: a, truth: ta), rb = Analysis.run(export: b, truth: tb)
        guard let oa = ra.overall, let ob = rb.overall else { throw CLIError("compare: no image of the exports has truth") }
        print("                     reference  candidate  difference")
        print(String(format: "consensus precision  %9.3f  %9.3f  %+10.3f", oa.precision, ob.precision, ob.precision - oa.precision))
        print(String(format: "consensus recall     %9.3f  %9.3f  %+10.3f", oa.recall, ob.recall, ob.recall - oa.recall))
        let da = CrowdComparison.detectionBySNR(export: a, truth: ta, bands: edges)
        let db = CrowdComparison.detectionBySNR(export: b, truth: tb, bands: edges)
        for (x, y) in zip(da, db) {
            print("detection SNR " + x.band.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "%9.3f  %9.3f  %+10.3f", x.rate, y.rate, y.rate - x.rate))
        }
    }
}
