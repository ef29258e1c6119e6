import XCTest
@testable import Consensus

final class TruthTests: XCTestCase {
    func testTruthFileNamesFollowTheDataSetConvention() {
        XCTAssertTrue(TruthSet.imageKeys("MAX_C3-ISP_300_1_nspots100_spot_sig1.75_snr10_2.5spot_img.png")
            .contains(TruthSet.truthKey("MAX_C3-ISP_300_1_nspots100_spot_sig1.75_snr10_2.5_coord_snr_list.csv")))
        XCTAssertEqual(TruthSet.truthKey("img7_truth.csv"), "img7")
        XCTAssertTrue(TruthSet.imageKeys("img7.png").contains("img7"))
    }

    func testBadTruthCSVNamesLineAndColumn() throws {
        let dir = tempDir()
        let p = dir + "/t.csv"
        try "col,row,snr\n1,2,3\n4,oops,6\n".write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readTruthCSV(path: p, height: 10)) { e in
            XCTAssertEqual("\(e)", "t.csv: line 3, field row: not a finite number: \"oops\"")
        }
        try "x,y\n1,2\n".write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readTruthCSV(path: p, height: 10)) { e in XCTAssertTrue("\(e)".contains("no 'col' column")) }
        try "row,col\n2,1\n".write(toFile: p, atomically: true, encoding: .utf8)
        let t = try readTruthCSV(path: p, height: 10)
        XCTAssertEqual(t.xs, [1]); XCTAssertEqual(t.ys, [8])
    }
}
