import Foundation
import XCTest
@testable import Consensus

/// The reader's number parser against the C library's `strtod`, bit for bit, and against RFC 8259's grammar.
final class DecimalNumberTests: XCTestCase {
    func strtodValue(_ s: String) -> Double { s.withCString { strtod($0, nil) } }

    func assertSameBits(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let v = DecimalNumber.parse(s) else { return XCTFail("\(s) not read", file: file, line: line) }
        let w = strtodValue(s)
        XCTAssertEqual(v.bitPattern, w.bitPattern, "\(s): \(v) against strtod's \(w)", file: file, line: line)
    }

    func testEdgeCasesMatchStrtod() {
        for s in ["0", "-0", "-0.0", "0.0", "1", "-1", "0.1", "0.3", "123.456", "1765.000244", "2.5e1", "-2e1", "1E5", "1e+5",
                  "1e-5", "9007199254740992", "9007199254740993", "18446744073709551615", "18446744073709551616",
                  "0.1234567890123456789", "1.7976931348623157e308", "2.2250738585072014e-308", "4.9406564584124654e-324",
                  "2.4703282292062327e-324", "1e22", "1e23", "8.98846567431158e307", "123456789012345678901234567890",
                  "3.14159265358979323846264338327950288", "0.000001", "1e-22", "1e-23", "5e-324", "1e400", "-1e400",
                  "1e-400", "0.00000000000000000000000000001", "100000000000000000000000", "4503599627370497.5",
                  "7.0e-10", "2.225073858507201e-308", "1.00000000000000011102230246251565404236316680908203125"] {
            assertSameBits(s)
        }
        XCTAssertEqual(DecimalNumber.parse("-0")!.sign, .minus, "-0 keeps its sign")
    }

    func testRandomDecimalsMatchStrtod() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        for i in 0..<20_000 {
            let bits = next() << 11 | next() & 0x7FF
            let d = Double(bitPattern: bits)
            guard d.isFinite else { continue }
            // Shortest round-trip text, 17 digits, and the short forms coordinates take.
            let coordinate = Double(next() % (1 << 40)) / Double(1 << 30)
            let texts = [String(describing: d), String(format: "%.17g", d), String(describing: coordinate), String(describing: coordinate * 0.7), String(format: "%.3f", Double(next() % 100_000) / 7.0),
                         String(format: "%.6f", Double(next() % 1_000_000) / 1000.0), String(format: "%de%d", Int(next() % 10_000), Int(next() % 60) - 30)]
            for t in texts where !t.contains("inf") && !t.contains("nan") {
                let json = t.hasPrefix(".") ? "0" + t : t
                guard let v = DecimalNumber.parse(json) else { XCTFail("\(json) not read (case \(i))"); continue }
                XCTAssertEqual(v.bitPattern, strtodValue(json).bitPattern, json)
            }
        }
    }

    /// The 128-bit powers of ten against values known by hand (10^0, 10^1, 10^-1 = 0.1 rounded up).
    func testPowersOfTenTable() {
        let t = PowersOfTen.table, zero = -PowersOfTen.minimum
        XCTAssertEqual(t[zero].high, 0x8000_0000_0000_0000); XCTAssertEqual(t[zero].low, 0)
        XCTAssertEqual(t[zero + 1].high, 0xA000_0000_0000_0000); XCTAssertEqual(t[zero + 1].low, 0)
        XCTAssertEqual(t[zero - 1].high, 0xCCCC_CCCC_CCCC_CCCC); XCTAssertEqual(t[zero - 1].low, 0xCCCC_CCCC_CCCC_CCCD)
        XCTAssertEqual(t[zero + 22].high, 0x87867832_6EAC9000, "10^22 = 0x87867832_6EAC9000_00000000 << 10")
        XCTAssertTrue(t.allSatisfy { $0.high >> 63 == 1 }, "every entry normalized")
        for q in PowersOfTen.minimum...PowersOfTen.maximum {
            let entry = t[q - PowersOfTen.minimum], reference = PowersOfTen.significand(q)
            XCTAssertTrue(entry.high == reference.high && entry.low == reference.low, "10^\(q): the one-pass table differs from the entry built from scratch")
        }
    }

    func testTheGrammarIsJSONs() {
        for bad in ["", "-", "01", "-01", "1.", ".5", "1e", "1e+", "+1", "1.e5", "0x10", "--1", "1..2", "00"] {
            XCTAssertNil(DecimalNumber.parse(bad), "\(bad) is not a JSON number")
        }
        for good in ["0", "0e0", "0.0e-0", "10", "1.0E+2", "-0.5"] { XCTAssertNotNil(DecimalNumber.parse(good), good) }
    }

    /// Fractional coordinates as other tools write them. Short decimals read as Foundation's
    /// JSONSerialization reads them; 17-digit ones as Swift's `Double(String)` and `strtod` do:
    /// Foundation's parser on Linux rounds some of those 1-2 ulps off (123.45678901234567 reads
    /// as ...478 where the nearest double is ...480), so it is no reference for them.
    func testFractionalExportsReadAsFoundationReadsThem() throws {
        var state: UInt64 = 7
        func unit() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        var clicks: [String] = [], longTexts: [String] = []
        for _ in 0..<2000 {
            let long = String(format: "%.17g", 300 * unit())
            longTexts.append(long)
            clicks.append(String(format: #"{"x": %.6f, "y": %@, "timestamp": %.3f}"#, 300 * unit(), long, 1e5 * unit()))
        }
        let json = #"[{"image_filename": "a.png", "worker_id": "W", "annotation_type": "crosshairs", "width": 300, "height": 300, "raw_data": [["#
            + clicks.joined(separator: ", ") + "]]}]"
        let ours = try ExportReader.decode(Data(json.utf8), fileName: "f.json")
        let theirs = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
        let raw = (theirs[0]["raw_data"] as! [[[String: Any]]])[0]
        XCTAssertEqual(raw.count, ours.records[0].rawData[0].count)
        for ((a, b), long) in zip(zip(raw, ours.records[0].rawData[0]), longTexts) {
            XCTAssertEqual((a["x"] as! NSNumber).doubleValue.bitPattern, b.x.bitPattern)
            XCTAssertEqual((a["timestamp"] as! NSNumber).doubleValue.bitPattern, b.timestamp.bitPattern)
            XCTAssertEqual(Double(long)!.bitPattern, b.y.bitPattern, long)
        }
    }

    func testMalformedNumbersInAnExportNameTheField() {
        let json = #"[{"image_filename": "a.png", "worker_id": "W", "annotation_type": "crosshairs", "width": 300, "height": 300, "raw_data": [[{"x": 01, "y": 2, "timestamp": 3}]]}]"#
        XCTAssertThrowsError(try ExportReader.decode(Data(json.utf8), fileName: "f.json")) { e in
            let err = e as! InputError
            XCTAssertEqual(err.record, 0)
            XCTAssertTrue(err.description.contains("malformed number"), err.description)
            XCTAssertTrue(err.field?.contains("x") == true, err.description)
        }
    }
}
