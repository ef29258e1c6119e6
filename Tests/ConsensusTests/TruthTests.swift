import Foundation
import Testing
@testable import Consensus

/// Truth files: naming convention and strict parsing (Swift Testing).
struct TruthTests {
    @Test func truthFileNamesFollowTheDataSetConvention() {
        #expect(TruthSet.imageKeys("MAX_C3-ISP_300_1_nspots100_spot_sig1.75_snr10_2.5spot_img.png")
            .contains(TruthSet.truthKey("MAX_C3-ISP_300_1_nspots100_spot_sig1.75_snr10_2.5_coord_snr_list.csv")))
        #expect(TruthSet.truthKey("img7_truth.csv") == "img7")
        #expect(TruthSet.imageKeys("img7.png").contains("img7"))
    }

    @Test func badTruthCSVNamesLineAndColumn() throws {
        let p = tempDir() + "/t.csv"
        try "col,row,snr\n1,2,3\n4,oops,6\n".write(toFile: p, atomically: true, encoding: .utf8)
        let e = #expect(throws: InputError.self) { try readTruthCSV(path: p, height: 10) }
        #expect(e?.description == "t.csv: line 3, field row: not a finite number: \"oops\"")
        try "x,y\n1,2\n".write(toFile: p, atomically: true, encoding: .utf8)
        let e2 = #expect(throws: InputError.self) { try readTruthCSV(path: p, height: 10) }
        #expect(e2?.description.contains("no 'col' column") == true)
    }

    @Test(arguments: [(10.0, 8.0), (300.0, 298.0)])
    func rowsFromTheTopBecomeYFromTheBottom(height: Double, expectedY: Double) throws {
        let p = tempDir() + "/t.csv"
        try "row,col\n2,1\n".write(toFile: p, atomically: true, encoding: .utf8)
        let t = try readTruthCSV(path: p, height: height)
        #expect(t.xs == [1])
        #expect(t.ys == [expectedY])
    }

    @Test func folderTruthReportsImagesWithoutTruth() throws {
        let dir = tempDir()
        try "col,row\n1,1\n".write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
        try "col,row\n1,1\n".write(toFile: dir + "/zzz.csv", atomically: true, encoding: .utf8)
        let rec = { (name: String) in ExportRecord(imageFilename: name, workerID: "W", annotationType: .crosshairs, width: 5, height: 5, rawData: []) }
        let t = try TruthSet.load(path: dir, export: QuantiusExport(records: [rec("a.png"), rec("b.png")]))
        #expect(t.byImage.keys.sorted() == ["a.png"])
        #expect(t.imagesWithoutTruth == ["b.png"])
        #expect(t.unusedTruthFiles == ["zzz.csv"])
    }

    /// One truth CSV for one image of several (an expert labelled one field of a job): the image
    /// named, or the one whose name matches the file's; the others are listed as without truth.
    @Test func aSingleTruthFileScoresTheImageItBelongsTo() throws {
        let dir = tempDir()
        try "col,row\n3,1\n".write(toFile: dir + "/expert.csv", atomically: true, encoding: .utf8)
        try "col,row\n3,1\n".write(toFile: dir + "/field2_truth.csv", atomically: true, encoding: .utf8)
        let rec = { (name: String, height: Int) in
            ExportRecord(imageFilename: name, workerID: "W", annotationType: .crosshairs, width: 10, height: height, rawData: [])
        }
        let export = QuantiusExport(records: [rec("field1.png", 10), rec("field2.png", 20), rec("field3.png", 30)])
        let named = try TruthSet.load(path: dir + "/expert.csv", export: export, image: "field2.png")
        #expect(named.byImage.keys.sorted() == ["field2.png"])
        #expect(named.byImage["field2.png"]?.ys == [19], "y from the bottom of that image, 20 px high")
        #expect(named.imagesWithoutTruth == ["field1.png", "field3.png"])
        let matched = try TruthSet.load(path: dir + "/field2_truth.csv", export: export)
        #expect(matched.byImage.keys.sorted() == ["field2.png"])

        let unnamed = #expect(throws: InputError.self) { try TruthSet.load(path: dir + "/expert.csv", export: export) }
        #expect(unnamed?.description.hasPrefix("expert.csv: ") == true)
        #expect(unnamed?.description.contains("--truth-image NAME") == true)
        let unknown = #expect(throws: InputError.self) { try TruthSet.load(path: dir + "/expert.csv", export: export, image: "field9.png") }
        #expect(unknown?.description.hasPrefix("--truth-image: no image \"field9.png\"") == true)
        let folder = #expect(throws: InputError.self) { try TruthSet.load(path: dir, export: export, image: "field2.png") }
        #expect(folder?.description.hasPrefix("--truth-image: ") == true)
    }
}
