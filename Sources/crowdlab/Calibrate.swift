import ArgumentParser
import Consensus
import Crowd
import Foundation
import Imaging

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a crowd population to a real export with truth; writes commented YAML.",
        discussion: """
        Fits detection against visibility (nominal SNR from the truth, or, with
        --images, the contrast measured in each image as a person sees it), the
        tolerated annotations per image at the export's pay, careless workers, \
        false positives and their learning slope, pointing error and Fitts' law, \
        and participation. Each fitted value carries its uncertainty as a comment; \
        what one export cannot show keeps the built-in prior, marked as such.

        Example:
          crowdlab calibrate Data/quanti-us/synth-tissue/export.json \\
            --truth Data/quanti-us/synth-tissue \\
            --images Data/quanti-us/synth-tissue/images \\
            --out out/tissue.yaml
        """)

    @Argument(help: "The real Quanti.us export.") var export: String
    @Option(help: "Truth CSV or folder (as for analyze).") var truth: String
    @Option(help: "Folder of the export's images: detection is then fitted against measured contrast.") var images: String?
    @Option(help: "Pay per image of the export, in USD.") var pay: Double = 0.02
    @Option(help: "Output population YAML.") var out: String

    func run() throws {
        guard pay > 0 && pay.isFinite else { throw CLIError("--pay: must be a positive amount in USD") }
        let data = try ExportReader.read(path: export)
        let truthSet = try TruthSet.load(path: truth, export: data)
        var visibility: [String: [Double]]? = nil
        if let dir = images {
            var v: [String: [Double]] = [:]
            for (name, t) in truthSet.byImage {
                let p = (dir as NSString).appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: p) else { throw CLIError("\(name): not found in \(dir) (needed to measure contrast)") }
                v[name] = Visibility.contrast(image: try PNG.read(path: p), xs: t.xs, ys: t.ys)
            }
            visibility = v
        }
        let c = try Calibrator.calibrate(export: data, truth: truthSet, visibility: visibility, pay: pay)
        let title = "Calibrated by crowdlab calibrate on \((export as NSString).lastPathComponent) (\(data.records.count) submissions, \(data.clickCount) clicks)"
        try AtomicFile.write(c.population.yaml(title: title, notes: c.notes), to: out)
        for line in c.summary { print(line) }
        print("wrote \(out)")
    }
}
