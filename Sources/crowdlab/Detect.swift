import ArgumentParser
import Consensus
import Detection
import Foundation

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Train a detector (the paper's FCRN, on oneDNN) on crowd or expert labels, find objects with it, score it.",
        discussion: """
        Images are 8- or 16-bit grey or RGB PNGs of any size; points are CSV rows \
        image,col,row (the image's file name, column and row from the top, in pixels).

        Example:
          crowdlab detect train --images frames/train --points labels.csv --out nuclei.fcrn
          crowdlab detect predict --model nuclei.fcrn --images frames/test --out found.csv
          crowdlab detect evaluate --predictions found.csv --truth expert1.csv --truth expert2.csv
        """,
        subcommands: [DetectTrain.self, DetectPredict.self, DetectEvaluate.self])
}

/// `--channels 0,2`: channels of the PNG (0-based) as a list.
func parseChannels(_ text: String?) throws -> [Int]? {
    guard let text else { return nil }
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 && $0! < 3 }), Set(parts.map { $0! }).count == parts.count else {
        throw CLIError("--channels: a comma-separated list of distinct channel numbers 0-2 (grey has 0, RGB 0-2), not '\(text)'")
    }
    return parts.map { $0! }
}
