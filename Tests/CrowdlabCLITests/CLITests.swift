import Foundation
import XCTest

/// Runs the built `crowdlab` binary as a user would.
struct CLIRunner {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    var binary: String {
        let candidates = [Bundle.main.bundleURL.appendingPathComponent("crowdlab").path,
                          Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("crowdlab").path]
            + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("crowdlab").path }
            + [Self.root + "/.build/debug/crowdlab"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }!
    }

    func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        let od = o.fileHandleForReading.readDataToEndOfFile(), ed = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
    }

    func temp() -> String {
        let p = NSTemporaryDirectory() + "crowdlab-cli-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// analyze: outputs, exit codes and error lines.
final class CLITests: XCTestCase {
    static let root = CLIRunner.root
    let runner = CLIRunner()
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) { try runner.run(args) }
    func temp() -> String { runner.temp() }

    func testAnalyzeWritesTheContractFiles() throws {
        let out = temp() + "/cells"
        let data = Self.root + "/Data/quanti-us/synth-cells"
        let r = try run(["analyze", data + "/export.json", "--truth", data, "--images", data + "/images", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("precision"))
        let csv = try String(contentsOfFile: out + "/consensus.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("image,x,y,support"))
        let rows = csv.split(separator: "\n").dropFirst()
        XCTAssertGreaterThan(rows.count, 600)
        // y is in the export's convention: every consensus y lies in 0…300 and matches a click's y range.
        for row in rows.prefix(50) {
            let f = row.split(separator: ",")
            XCTAssertTrue((0...300).contains(Double(f[2])!))
            XCTAssertGreaterThanOrEqual(Int(f[3])!, 2)
        }
        let workers = try String(contentsOfFile: out + "/workers.csv", encoding: .utf8)
        XCTAssertTrue(workers.hasPrefix("worker,images,annotations,median_click_period_s,score,tp,fp,fn,rmse"))
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        let overall = metrics["overall"] as! [String: Any]
        XCTAssertGreaterThan(overall["precision"] as! Double, 0.95)
        XCTAssertNotNil(metrics["crowd"]); XCTAssertNotNil(metrics["fitts"])
        let images = metrics["images"] as! [[String: Any]]
        XCTAssertEqual(images.compactMap { $0["undecided_objects"] as? Int }.count, 9, "each image says how many candidates one more worker could turn")
        // The misses and false objects by cause, in metrics.json, on the terminal and in the report.
        let errors = metrics["errors"] as! [String: Int]
        XCTAssertEqual(errors.filter { $0.key.hasPrefix("missed_") }.values.reduce(0, +), overall["fn"] as? Int)
        XCTAssertEqual(errors.filter { $0.key.hasPrefix("false_") }.values.reduce(0, +), overall["fp"] as? Int)
        XCTAssertTrue(r.out.contains("  missed \(overall["fn"] as! Int): \(errors["missed_not_clicked"]!) clicked by no worker"), r.out)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg")); XCTAssertTrue(html.contains("overlays/"))
        XCTAssertTrue(html.contains("<th>undecided per object</th>"), "the consensus table per image")
        XCTAssertTrue(html.contains("Where the errors are"))
        XCTAssertTrue(html.contains("<title>Crowd consensus: synth-cells/export.json</title>"), "the report names the export's folder")
        let overlays = try FileManager.default.contentsOfDirectory(atPath: out + "/overlays")
        XCTAssertEqual(overlays.filter { $0.hasSuffix(".png") }.count, 9)
        // Nothing staged is left behind.
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent).contains { $0.hasPrefix(".") })
    }

    /// An expert's truth for one field of a real smFISH job scores that field alone: the same
    /// precision and recall that field has when the whole truth folder is given.
    func testOneTruthFileScoresTheImageItIsFor() throws {
        let data = Self.root + "/Data/quanti-us/smfish-inverted", stem = "C2-ISP_293T_TFRC_InSituPrep_20180712_1_MMStack_Pos0_300_inv"
        let expert = temp() + "/expert.csv"
        try FileManager.default.copyItem(atPath: data + "/\(stem).csv", toPath: expert)
        let out = temp() + "/one", all = temp() + "/all"
        let r = try run(["analyze", data + "/export.json", "--truth", expert, "--truth-image", stem + ".png", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("2 image(s) have no truth and are not scored"), r.out)
        XCTAssertEqual(try run(["analyze", data + "/export.json", "--truth", data, "--out", all]).status, 0)
        func scores(_ dir: String) throws -> [String: [String: Double]] {
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.json"))) as! [String: Any]
            var out: [String: [String: Double]] = [:]
            for im in m["images"] as! [[String: Any]] { if let s = im["score"] as? [String: Any] { out[im["image"] as! String] = s.compactMapValues { $0 as? Double } } }
            return out
        }
        let one = try scores(out), every = try scores(all)
        XCTAssertEqual(Array(one.keys), [stem + ".png"])
        XCTAssertEqual(one[stem + ".png"]?["recall"], every[stem + ".png"]?["recall"])
        XCTAssertEqual(one[stem + ".png"]?["precision"], every[stem + ".png"]?["precision"])
        // A population calibrated on the one field says so in its header.
        let pop = temp() + "/pop.yaml"
        let c = try run(["calibrate", data + "/export.json", "--truth", expert, "--truth-image", stem + ".png", "--images", data + "/images", "--out", pop])
        XCTAssertEqual(c.status, 0, c.err)
        let header = try String(contentsOfFile: pop, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(header.hasSuffix("(90 submissions, 6788 clicks; truth for 1 of 3 images)"), header)

        let refused = temp() + "/no"
        let unnamed = try run(["analyze", data + "/export.json", "--truth", expert, "--out", refused])
        XCTAssertNotEqual(unnamed.status, 0)
        XCTAssertTrue(unnamed.err.contains("expert.csv: a single truth CSV is for one image") && unnamed.err.contains("--truth-image NAME"), unnamed.err)
        let alone = try run(["analyze", data + "/export.json", "--truth-image", stem + ".png", "--out", refused])
        XCTAssertTrue(alone.err.contains("--truth-image: needs --truth FILE"), alone.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused), "no output on an error")
    }

    func testAnExportWithNoSubmissionsIsAnalysedWithAWarning() throws {
        let dir = temp()
        try "[]".write(toFile: dir + "/empty.json", atomically: true, encoding: .utf8)
        let r = try run(["analyze", dir + "/empty.json", "--out", dir + "/out"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("warning: \(dir)/empty.json holds no submissions"), r.err)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out/consensus.csv", encoding: .utf8).split(separator: "\n").count, 1, "the header only")
    }

    func testRepeatedSubmissionsAreLeftOutAndCounted() throws {
        let dir = temp()
        let text = try String(contentsOfFile: Self.root + "/Data/quanti-us/synth-cells/export.json", encoding: .utf8)
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst().dropLast()
        try ("[" + body + "," + body + "]").write(toFile: dir + "/joined.json", atomically: true, encoding: .utf8)
        let r = try run(["analyze", dir + "/joined.json", "--out", dir + "/out"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("note: \(dir)/joined.json: 270 repeated submissions left out"), r.err)
        XCTAssertTrue(r.out.contains("270 submissions (0 empty)"), r.out)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/metrics.json"))) as! [String: Any]
        XCTAssertEqual((metrics["export"] as! [String: Any])["repeated_records_left_out"] as? Int, 270)
        let once = try run(["analyze", Self.root + "/Data/quanti-us/synth-cells/export.json", "--out", dir + "/once"])
        XCTAssertEqual(once.status, 0, once.err)
        for file in ["consensus.csv", "workers.csv"] {
            XCTAssertEqual(try String(contentsOfFile: dir + "/out/" + file, encoding: .utf8),
                           try String(contentsOfFile: dir + "/once/" + file, encoding: .utf8), file)
        }
    }

    func testBadExportGivesOneLineErrorAndNoOutput() throws {
        let dir = temp()
        let cases: [(String, String)] = [
            ("[{\"image_filename\": \"a.png\", \"worker_id\": \"W\", \"annotation_type\": \"crosshairs\", \"width\": 3, \"height\": 3, \"raw_data\": [[{\"x\": 1, \"y\": NaN, \"timestamp\": 0}]]}]",
             "bad.json: record 0, field raw_data[0][0].y: not a finite number (NaN)"),
            ("{\"a\": 1}", "bad.json: top level must be a JSON array"),
            ("[{\"image_filename\": \"a.png\", \"worker_id\": \"W\", \"annotation_type\": \"ellipse\"", "bad.json: record 0, field annotation_type: unknown annotation type"),
            ("[{\"image_filename\": \"a.png\", \"worker_id\": \"W\", \"annotation_type\": \"crosshairs\", \"width\": 3, \"height\": 3, \"raw_data\": [[]]},"
             + " {\"image_filename\": \"a.png\", \"worker_id\": \"V\", \"annotation_type\": \"crosshairs\", \"width\": 3, \"height\": 4, \"raw_data\": [[]]}]",
             "bad.json: record 1, field height: 4, where record 0 gives 3 for the same image a.png"),
            ("[{\"image_filename\": \"a.png\", \"worker_id\": \"W\", \"annotation_type\": \"crosshairs\", \"width\": 3, \"height\": 3, \"raw_data\": [[{\"x\": 1, \"y\"", "bad.json: record 0, field raw_data[0][0].y: unexpected end of file"),
        ]
        for (json, expected) in cases {
            try json.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
            let out = dir + "/out"
            let r = try run(["analyze", dir + "/bad.json", "--out", out])
            XCTAssertNotEqual(r.status, 0)
            let lines = r.err.split(separator: "\n").filter { !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, r.err)
            XCTAssertTrue(r.err.contains(expected), "\(r.err) lacks \(expected)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output on failure")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["bad.json"])
        }
    }

    func testUnknownMethodIsRefused() throws {
        let r = try run(["analyze", Self.root + "/Data/quanti-us/synth-cells/export.json", "--method", "kmeans", "--out", temp() + "/o"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("'kmeans' is invalid for '--method") && r.err.contains("'agreement'"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
    }

    /// A truth a pixel or more off the crowd's clicks on average is named in a note; one that
    /// shares their convention is not.
    func testATruthOffTheClicksIsNoted() throws {
        for (set, noted) in [("smfish-inverted", true), ("synth-cells", false)] {
            let data = Self.root + "/Data/quanti-us/" + set, out = temp() + "/" + set
            let r = try run(["analyze", data + "/export.json", "--truth", data, "--out", out])
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out.contains("note: workers' clicks sit "), noted, r.out)
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
            let offset = try XCTUnwrap((metrics["crowd"] as! [String: Any])["truth_offset_px"] as? [Double], set)
            XCTAssertEqual(hypot(offset[0], offset[1]) >= 1, noted, "\(offset)")
        }
    }

    func testImageEvidenceReportsWhatTheImagesAddedAndRefusesWhatItCannotUse() throws {
        let data = Self.root + "/Data/quanti-us/smfish-inverted", out = temp() + "/fish"
        let r = try run(["analyze", data + "/export.json", "--truth", data, "--images", data + "/images", "--image-evidence", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("image evidence: ") }, r.out)
        let admitted = Int(line.split(separator: " ")[2])!
        XCTAssertGreaterThan(admitted, 0, String(line))
        XCTAssertTrue(line.hasSuffix("on 3 images"), String(line))
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        let images = metrics["images"] as! [[String: Any]]
        let perImage = images.map { (($0["parameters"] as! [String: Any])["evidence_admitted"] as! Double) }
        XCTAssertEqual(Int(perImage.reduce(0, +)), admitted, "metrics.json holds the same counts per image")
        for (args, expected) in [(["--image-evidence"], "--image-evidence: needs --images"),
                                 (["--image-evidence", "--images", data + "/images", "--method", "dbscan"], "--image-evidence: works with --method agreement")] {
            let bad = try run(["analyze", data + "/export.json", "--out", temp() + "/o"] + args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.err.contains(expected), bad.err)
            XCTAssertEqual(bad.err.split(separator: "\n").count, 1, "one line: \(bad.err)")
        }
    }
}
