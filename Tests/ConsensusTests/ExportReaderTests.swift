import XCTest
@testable import Consensus

final class ExportReaderTests: XCTestCase {
    func decode(_ s: String) throws -> QuantiusExport { try ExportReader.decode(Data(s.utf8), fileName: "bad.json") }

    func assertFails(_ json: String, record: Int?, field: String?, contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(json), file: file, line: line) { e in
            guard let err = e as? InputError else { return XCTFail("not an InputError: \(e)", file: file, line: line) }
            XCTAssertEqual(err.file, "bad.json", file: file, line: line)
            XCTAssertEqual(err.record, record, "record", file: file, line: line)
            XCTAssertEqual(err.field, field, "field", file: file, line: line)
            XCTAssertTrue(err.description.contains(contains), "\(err.description) lacks \(contains)", file: file, line: line)
            XCTAssertFalse(err.description.contains("\n"), "one line", file: file, line: line)
        }
    }

    let good = #"{"image_filename": "a.png", "worker_id": "W1", "annotation_type": "crosshairs", "width": 300, "height": 200, "time_when_completed": "Thu Jul 19 16:30:29 PDT 2018", "raw_data": [[{"x": 38, "y": 290, "timestamp": 3507}, {"x": 1.5, "y": -2e1, "timestamp": 4000}]]}"#

    func testReadsTheRealExports() throws {
        let cells = try ExportReader.read(path: dataPath("synth-cells/export.json"))
        XCTAssertEqual(cells.records.count, 270)
        XCTAssertEqual(cells.clickCount, 16206)
        XCTAssertEqual(cells.imageNames.count, 9)
        XCTAssertEqual(cells.records[0].rawData[0][0], Vertex(x: 38, y: 290, timestamp: 3507))
        XCTAssertEqual(cells.records[0].height, 300)
    }

    func testMatchesFoundationJSONOnTheRealExport() throws {
        let path = dataPath("synth-tissue/export.json")
        let ours = try ExportReader.read(path: path)
        let any = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [[String: Any]]
        XCTAssertEqual(any.count, ours.records.count)
        for (a, b) in zip(any, ours.records) {
            XCTAssertEqual(a["worker_id"] as? String, b.workerID)
            XCTAssertEqual(a["image_filename"] as? String, b.imageFilename)
            let raw = a["raw_data"] as! [[[String: Any]]]
            XCTAssertEqual(raw.map { $0.count }, b.rawData.map { $0.count })
            if let first = raw.first?.first {
                XCTAssertEqual((first["x"] as! NSNumber).doubleValue, b.rawData[0][0].x)
                XCTAssertEqual((first["y"] as! NSNumber).doubleValue, b.rawData[0][0].y)
            }
        }
    }

    func testRoundTripThroughTheWriter() throws {
        let e = try decode("[" + good + "," + good.replacingOccurrences(of: "W1", with: "W\\\"2") + "]")
        XCTAssertEqual(e.records[1].workerID, "W\"2")
        XCTAssertEqual(e.records[0].rawData[0][1], Vertex(x: 1.5, y: -20, timestamp: 4000))
        let again = try ExportReader.decode(ExportWriter.encode(e), fileName: "x.json")
        XCTAssertEqual(again.records, e.records)
    }

    /// Strings that need escaping (quotes, backslashes, control characters, non-ASCII) and
    /// fractional and negative numbers survive the writer and the reader unchanged.
    func testWriterEscapesWhatJSONNeedsEscaped() throws {
        let odd = ExportRecord(imageFilename: "ä \\ b.png", workerID: "W\u{01}\t\"x\"", annotationType: .polygon, width: 12, height: 7,
                               timeWhenCompleted: "", rawData: [[Vertex(x: -0.25, y: 1e-7, timestamp: 123456789012)], [], [Vertex(x: 3, y: 4, timestamp: 0)]])
        let plain = ExportRecord(imageFilename: "a.png", workerID: "W", annotationType: .crosshairs, width: 3, height: 3,
                                 timeWhenCompleted: nil, rawData: [[Vertex(x: 1, y: 2, timestamp: 3)]])
        let e = QuantiusExport(records: [odd, plain, odd])
        let bytes = ExportWriter.encode(e)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: bytes) as? [[String: Any]])
        XCTAssertEqual(try ExportReader.decode(bytes, fileName: "odd.json").records, e.records)
        let one = try JSONSerialization.jsonObject(with: Data(ExportWriter.encode(record: odd))) as? [String: Any]
        XCTAssertEqual(one?["worker_id"] as? String, odd.workerID)
    }

    /// Simulated submissions carry the portal's `time_when_completed` form, which the analysis
    /// reads back to order a worker's submissions.
    func testPortalTimestampsHaveThePortalFormAndReadBack() {
        XCTAssertEqual(portalTimestamp(epochSeconds: 1_767_603_600), "Mon Jan 05 09:00:00 UTC 2026")
        XCTAssertEqual(portalTimestamp(epochSeconds: 951_825_599.9), "Tue Feb 29 11:59:59 UTC 2000")
        XCTAssertEqual(portalTimestamp(epochSeconds: 0), "Thu Jan 01 00:00:00 UTC 1970")
        for t in stride(from: 1_700_000_000.0, to: 1_800_000_000, by: 7_654_321) {
            XCTAssertEqual(portalCompletionSeconds(portalTimestamp(epochSeconds: t)), t.rounded(.down))
        }
    }

    func testEmptyRawDataIsLegalAndCounted() throws {
        let empty = #"{"image_filename": "a.png", "worker_id": "W2", "annotation_type": "crosshairs", "width": 3, "height": 3, "raw_data": []}"#
        let emptyInner = empty.replacingOccurrences(of: "[]", with: "[[]]").replacingOccurrences(of: "W2", with: "W3")
        let e = try decode("[\(good),\(empty),\(emptyInner)]")
        XCTAssertEqual(e.records.count, 3)
        XCTAssertEqual(e.emptyRecordCount, 2)
        XCTAssertEqual(e.clickCount, 2)
    }

    /// Inputs the fuzzer found (Tests/Fuzz/corpus/export/regression-*): each is refused in one line.
    func testInvalidUTF8IsRefusedNotReplaced() {
        var bytes = Array(#"[{"image_filename": "a"#.utf8) + [0xCF, 0x2E] + Array(#".png", "worker_id": "W", "annotation_type": "crosshairs", "width": 3, "height": 3, "raw_data": [[]]}]"#.utf8)
        XCTAssertThrowsError(try ExportReader.decode(Data(bytes), fileName: "bad.json")) { e in
            XCTAssertTrue("\(e)".contains("image_filename") && "\(e)".contains("not valid UTF-8"), "\(e)")
        }
        bytes = Array(#"[{"image_filename": "\uD800.png"}]"#.utf8)
        XCTAssertThrowsError(try ExportReader.decode(Data(bytes), fileName: "bad.json")) { e in XCTAssertTrue("\(e)".contains("lone surrogate"), "\(e)") }
    }

    func testAControlCharacterInTheInputStaysOneLine() {
        assertFails("[{\"a\\\n\": 1}]", record: 0, field: nil, contains: "bad escape \\(byte 0x0A)")
        assertFails("[{\"image_filename\": \"a.png\", \"annotation_type\": \"cross\\nhairs\"}]", record: 0, field: "annotation_type", contains: "cross\\nhairs")
    }

    func testDeepNestingIsRefusedNotAStackOverflow() {
        let deep = "[{\"extra\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}]"
        assertFails(deep, record: 0, field: "extra", contains: "nested deeper than 512 levels")
    }

    /// A 118-digit coordinate (Tests/Fuzz/corpus/export/regression-118-digit-x.json) reads as
    /// `strtod` rounds it, where Foundation's `NSDecimalNumber.doubleValue` is 6 ulps off.
    func testALongCoordinateIsRoundedAsStrtodRoundsIt() throws {
        let digits = "6666666666666606" + String(repeating: "6", count: 100) + "39"
        let e = try decode("[" + good.replacingOccurrences(of: #""x": 38"#, with: #""x": \#(digits)"#) + "]")
        XCTAssertEqual(e.records[0].rawData[0][0].x, strtod(digits, nil))
        XCTAssertEqual(e.records[0].rawData[0][0].x.bitPattern, 6.666666666666607e+117.bitPattern)
    }

    func testTruncatedFile() {
        let full = "[" + good + "," + good + "]"
        assertFails(String(full.prefix(full.count - 40)), record: 1, field: "raw_data[0][1].x", contains: "end of file")
    }

    func testTopLevelMustBeAnArray() {
        assertFails(good, record: nil, field: nil, contains: "top level must be a JSON array")
        assertFails("", record: nil, field: nil, contains: "empty file")
    }

    func testMissingField() {
        let noWorker = good.replacingOccurrences(of: #""worker_id": "W1", "#, with: "")
        assertFails("[\(good),\(noWorker)]", record: 1, field: "worker_id", contains: "missing required field")
        let noY = good.replacingOccurrences(of: #""y": 290, "#, with: "")
        assertFails("[\(noY)]", record: 0, field: "raw_data[0][0].y", contains: "missing required field")
    }

    func testMistypedField() {
        assertFails("[" + good.replacingOccurrences(of: #""width": 300"#, with: #""width": "300""#) + "]",
                    record: 0, field: "width", contains: "expected a number, found a string")
        assertFails("[" + good.replacingOccurrences(of: #""x": 38"#, with: #""x": "38""#) + "]",
                    record: 0, field: "raw_data[0][0].x", contains: "expected a number")
        assertFails("[" + good.replacingOccurrences(of: #""worker_id": "W1""#, with: #""worker_id": 17"#) + "]",
                    record: 0, field: "worker_id", contains: "expected a string")
        assertFails("[" + good.replacingOccurrences(of: #""raw_data": [["#, with: #""raw_data": [{"a":1}, ["#) + "]",
                    record: 0, field: "raw_data[0]", contains: "expected an array of points")
    }

    func testNonFiniteCoordinates() {
        assertFails("[" + good.replacingOccurrences(of: #""x": 38"#, with: #""x": NaN"#) + "]",
                    record: 0, field: "raw_data[0][0].x", contains: "not a finite number (NaN)")
        assertFails("[" + good.replacingOccurrences(of: #""y": 290"#, with: #""y": -Infinity"#) + "]",
                    record: 0, field: "raw_data[0][0].y", contains: "-Infinity")
        assertFails("[" + good.replacingOccurrences(of: #""x": 38"#, with: #""x": 1e999"#) + "]",
                    record: 0, field: "raw_data[0][0].x", contains: "not a finite number")
    }

    func testUnknownAnnotationType() {
        assertFails("[" + good + "," + good.replacingOccurrences(of: "crosshairs", with: "ellipse") + "]",
                    record: 1, field: "annotation_type", contains: "unknown annotation type \"ellipse\"")
    }

    func testUnknownExtraFieldsAreSkipped() throws {
        let extra = good.replacingOccurrences(of: #""width""#, with: #""extra": {"a": [1, true, null, "x"]}, "width""#)
        XCTAssertEqual(try decode("[\(extra)]").records.count, 1)
    }

    func testInputErrorNamesFileRecordAndField() {
        let e = InputError(file: "export.json", record: 12, field: "raw_data[0][3].x", message: "not a finite number (NaN)")
        XCTAssertEqual(e.description, "export.json: record 12, field raw_data[0][3].x: not a finite number (NaN)")
    }
}
