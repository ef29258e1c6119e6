import XCTest
@testable import Consensus

/// Large exports are read in pieces on several cores (`ExportReader.recordsInPieces`); these
/// check that the pieces give exactly what one pass gives, on the real exports joined into one
/// file of several megabytes, and that a wrong cut or a bad record falls back to one pass.
final class ExportReaderPiecesTests: XCTestCase {
    /// The real exports' records, as the portal wrote them, joined into one array (2.3 MB).
    func joinedRealExports(_ edit: (String) -> String = { $0 }) throws -> Data {
        let inner = try ["synth-cells", "synth-tissue", "circle-spots", "smfish-inverted"].map { name -> String in
            let text = try String(contentsOfFile: dataPath("\(name)/export.json"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return edit(String(text.dropFirst().dropLast()))
        }
        return Data(("[" + inner.joined(separator: ",") + "]").utf8)
    }

    func onePass(_ data: Data) throws -> [ExportRecord] {
        try data.withUnsafeBytes { raw in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), file: "big.json")
            return try scanner.parseExport()
        }
    }

    func inPieces(_ data: Data) -> [ExportRecord]? {
        data.withUnsafeBytes { ExportReader.recordsInPieces($0.bindMemory(to: UInt8.self), fileName: "big.json") }
    }

    override func setUp() { Parallelism.maxThreads = 2 }
    override func tearDown() { Parallelism.maxThreads = 0 }

    func testPiecesGiveTheOnePassRecords() throws {
        let data = try joinedRealExports()
        XCTAssertGreaterThanOrEqual(data.count, 2 * ExportReader.minimumPieceBytes, "large enough for two pieces")
        let whole = try onePass(data)
        XCTAssertEqual(whole.count, 270 + 270 + 400 + 90)
        guard let pieces = inPieces(data) else { return XCTFail("a valid export of two megabytes was not read in pieces") }
        XCTAssertEqual(pieces, whole)
        XCTAssertEqual(try ExportReader.decode(data, fileName: "big.json").records, whole)
    }

    /// Every record opens with an unknown field holding `},{"raw_data"`: each cut the search finds
    /// falls inside a record, the piece before it runs past it, and the file is read in one pass.
    func testACutInsideARecordFallsBackToOnePass() throws {
        let data = try joinedRealExports {
            $0.replacingOccurrences(of: #"{"raw_data":"#, with: #"{"meta":[{"a":1},{"raw_data":"decoy"}],"raw_data":"#)
        }
        XCTAssertNil(inPieces(data), "a cut inside a record must be refused")
        XCTAssertEqual(try ExportReader.decode(data, fileName: "big.json").records, try onePass(data))
    }

    /// A bad record in the second piece: the error is the one-pass reader's, naming that record.
    func testAnErrorInALaterPieceNamesItsRecord() throws {
        let good = try joinedRealExports()
        var text = String(decoding: good, as: UTF8.self)
        let late = text.index(text.startIndex, offsetBy: text.utf8.count * 4 / 5)
        let width = try XCTUnwrap(text.range(of: #""width":300"#, range: late..<text.endIndex))
        text.replaceSubrange(width, with: #""width":-5"#)
        let data = Data(text.utf8)
        XCTAssertNil(inPieces(data))
        var expected: InputError?
        XCTAssertThrowsError(try onePass(data)) { expected = $0 as? InputError }
        XCTAssertThrowsError(try ExportReader.decode(data, fileName: "big.json")) { e in
            guard let err = e as? InputError, let expected else { return XCTFail("not an InputError: \(e)") }
            XCTAssertEqual(err.field, "width")
            XCTAssertGreaterThan(err.record ?? 0, 600, "a record in the last fifth")
            XCTAssertEqual(err.record, expected.record)
            XCTAssertEqual(err.description, expected.description)
        }
    }
}
