import Foundation
import XCTest

/// crowdlab detect train, predict and evaluate as a user runs them, on rendered nuclei frames.
final class DetectCommandTests: XCTestCase {
    func testTrainPredictEvaluateAndTheirErrors() throws {
        let cli = CLIRunner()
        let dir = cli.temp()
        let frames = dir + "/frames"
        var r = try cli.run(["generate", "nuclei", "--count", "3", "--width", "200", "--height", "200", "--cells", "12-16", "--seed", "4", "--out", frames])
        XCTAssertEqual(r.status, 0, r.err)
        // The truth files as a points CSV (image,col,row).
        var points = "image,col,row\n"
        for k in 0..<3 {
            let name = String(format: "nuclei_%04d", k)
            for row in try String(contentsOfFile: "\(frames)/\(name)_truth.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
                let f = row.split(separator: ",")
                points += "\(name).png,\(f[0]),\(f[1])\n"
            }
        }
        try points.write(toFile: dir + "/points.csv", atomically: true, encoding: .utf8)
        let model = dir + "/nuclei.fcrn"
        let train = ["detect", "train", "--images", frames, "--points", dir + "/points.csv", "--channels", "1,2", "--crop-epochs", "3",
                     "--crops-per-image", "2", "--crop-size", "64", "--image-epochs", "1", "--seed", "2", "--out", model]
        r = try cli.run(train)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("trained on 3 image(s), "), r.out)
        // The detection threshold and window are fitted to the training points and kept in the model.
        let fitted = r.out.split(separator: "\n").first { $0.hasPrefix("detection fitted to the training points: threshold ") }
        XCTAssertNotNil(fitted, r.out)
        r = try cli.run(["detect", "predict", "--model", model, "--images", frames, "--out", dir + "/fitted.csv"])
        XCTAssertEqual(r.status, 0, r.err)
        let setting = fitted.map { String($0.dropFirst("detection fitted to the training points: threshold ".count).prefix(4)) } ?? "?"
        XCTAssertTrue(r.out.hasPrefix("threshold \(setting), "), "\(r.out) after \(fitted ?? "")")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        r = try cli.run(train.dropLast() + [model + "2"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model + "2")), bytes, "the same seed, the same model file")

        // The same points as a consensus.csv writes them (x, y from the bottom edge of the 200 px frames): the same model.
        var consensus = "image,x,y,support,weighted_support,confidence\n"
        for row in points.split(separator: "\n").dropFirst() {
            let f = row.split(separator: ",")
            consensus += "\(f[0]),\(f[1]),\(200 - Double(f[2])!),10,10.0,1\n"
        }
        try consensus.write(toFile: dir + "/consensus.csv", atomically: true, encoding: .utf8)
        r = try cli.run(train.map { $0 == dir + "/points.csv" ? dir + "/consensus.csv" : $0 }.dropLast() + [model + "3"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model + "3")), bytes, "a consensus.csv's y turned into rows")

        r = try cli.run(train.dropLast() + [model + "-paper", "--detection", "paper"])
        XCTAssertFalse(r.out.contains("detection fitted"), r.out)
        r = try cli.run(["detect", "predict", "--model", model + "-paper", "--images", frames, "--out", dir + "/paper.csv"])
        XCTAssertTrue(r.out.hasPrefix("threshold 1.00, 25 x 25 suppression window (the model's)"), r.out)

        r = try cli.run(["detect", "predict", "--model", model, "--images", frames, "--threshold", "0.5", "--out", dir + "/found.csv"])
        XCTAssertEqual(r.status, 0, r.err)
        let found = try String(contentsOfFile: dir + "/found.csv", encoding: .utf8)
        XCTAssertTrue(found.hasPrefix("image,col,row,score\n"), found)
        r = try cli.run(["detect", "evaluate", "--predictions", dir + "/found.csv", "--truth", dir + "/points.csv", "--truth", dir + "/points.csv"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("mean F over 2 truth set(s) at 10.0 px: "), r.out)
        let rowsF = r.out.split(separator: "\n").last { $0.hasPrefix("mean F") }
        r = try cli.run(["detect", "evaluate", "--predictions", dir + "/found.csv", "--truth", dir + "/consensus.csv", "--truth", dir + "/points.csv", "--images", frames])
        XCTAssertEqual(r.out.split(separator: "\n").last { $0.hasPrefix("mean F") }, rowsF, "a consensus.csv scores as its points: \(r.out)")
        r = try cli.run(["detect", "evaluate", "--predictions", dir + "/found.csv", "--truth", dir + "/consensus.csv"])
        XCTAssertTrue(r.err.contains("consensus.csv: a consensus.csv (y from the bottom edge): give --images DIR"), r.err)

        // A damaged model, a foreign points file, a bad channel list: one line each, nothing written.
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: dir + "/cut.fcrn"))
        r = try cli.run(["detect", "predict", "--model", dir + "/cut.fcrn", "--images", frames, "--out", dir + "/never.csv"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("cut.fcrn: truncated or padded"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/never.csv"))
        try "image,col,row\nother.png,4,5\n".write(toFile: dir + "/other.csv", atomically: true, encoding: .utf8)
        r = try cli.run(["detect", "train", "--images", frames, "--points", dir + "/other.csv", "--out", dir + "/never.fcrn"])
        XCTAssertTrue(r.err.contains("other.csv: image other.png is not in"), r.err)
        try "image,col,row\nnuclei_0000.png,4,x\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        r = try cli.run(["detect", "train", "--images", frames, "--points", dir + "/bad.csv", "--out", dir + "/never.fcrn"])
        XCTAssertTrue(r.err.contains("bad.csv: line 2, field row: not a number"), r.err)
        r = try cli.run(["detect", "train", "--images", frames, "--points", dir + "/points.csv", "--channels", "1,7", "--out", dir + "/never.fcrn"])
        XCTAssertTrue(r.err.contains("--channels: "), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/never.fcrn"))
    }
}
