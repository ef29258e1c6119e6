import Foundation
import XCTest
@testable import Consensus
@testable import Crowd
@testable import Imaging

/// Calibrate on one real crowd, simulate another real crowd's truth, compare with what that crowd did.
final class CalibrationTests: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    func data(_ rel: String) -> String { Self.root + "/Data/quanti-us/" + rel }

    func contrast(_ set: String, _ truth: TruthSet) throws -> [String: [Double]] {
        var v: [String: [Double]] = [:]
        for (name, t) in truth.byImage { v[name] = Visibility.contrast(image: try PNG.read(path: data("\(set)/images/\(name)")), xs: t.xs, ys: t.ys) }
        return v
    }

    func testCalibratedOnTissueTheSimulatedCrowdMatchesTheRealCellsCrowd() throws {
        let tissue = try ExportReader.read(path: data("synth-tissue/export.json"))
        let tissueTruth = try TruthSet.load(path: data("synth-tissue"), export: tissue)
        let cal = try Calibrator.calibrate(export: tissue, truth: tissueTruth, visibility: try contrast("synth-tissue", tissueTruth), pay: 0.02)
        let pop = cal.population
        XCTAssertEqual(pop.measure, .contrast)
        XCTAssertEqual(pop.rmseMedian, 2.7, accuracy: 0.5, "data README: median worker RMSE 2.7 px")

        let cells = try ExportReader.read(path: data("synth-cells/export.json"))
        let cellsTruth = try TruthSet.load(path: data("synth-cells"), export: cells)
        let sources = try TaskLoader.sources(truth: data("synth-cells"), image: nil, imagesDir: data("synth-cells/images"))
            .filter { cellsTruth.byImage[$0.imageName] != nil }
        XCTAssertEqual(sources.count, 9)
        let tasks = try TaskLoader.tasks(sources, size: nil, measure: .contrast)
        // The model's expectation: the mean of several simulated crowds (one crowd of 30 per image
        // varies a lot, because a few workers do most of the images).
        let seeds: [UInt64] = [1, 2, 3, 4, 5, 6]
        let bands: [Double] = [0, 5, 7.5, 10, 15, 20, 100]
        var recall = 0.0, precision = 0.0
        var rates = [Double](repeating: 0, count: bands.count - 1)
        for seed in seeds {
            let sim = CrowdSimulation(population: pop, replicates: 30, pay: 0.02, seed: seed).run(tasks)
            XCTAssertEqual(sim.export.records.count, 270)
            let o = Analysis.run(export: sim.export, truth: cellsTruth).overall!
            recall += o.recall / Double(seeds.count); precision += o.precision / Double(seeds.count)
            for (k, b) in CrowdComparison.detectionBySNR(export: sim.export, truth: cellsTruth, bands: bands).enumerated() {
                rates[k] += b.rate / Double(seeds.count)
            }
        }
        let real = Analysis.run(export: cells, truth: cellsTruth).overall!
        XCTAssertEqual(recall, real.recall, accuracy: 0.06, "consensus recall \(recall) vs real \(real.recall)")
        XCTAssertEqual(precision, real.precision, accuracy: 0.02, "consensus precision \(precision) vs real \(real.precision)")
        let r = CrowdComparison.detectionBySNR(export: cells, truth: cellsTruth, bands: bands)
        for (k, a) in r.enumerated() where a.pairs > 100 {
            XCTAssertEqual(rates[k], a.rate, accuracy: 0.10, "detection at SNR \(a.band): simulated \(rates[k]) vs real \(a.rate)")
        }
    }

    func testPopulationYAMLRoundTripsAndRefusesBadFiles() throws {
        var p = Population()
        p.detectionThreshold = 4.25; p.measure = .contrast; p.learningAnnotations = 40
        let back = try Population.parse(p.yaml(title: "test"))
        XCTAssertEqual(back, p)
        XCTAssertThrowsError(try Population.parse("detection:\n  plateau: 0.7\n  plateu_sd: 0.1\n")) { e in
            XCTAssertEqual("\(e)", "population.yaml: line 3, field detection.plateu_sd: unknown key")
        }
        XCTAssertThrowsError(try Population.parse("pointing:\n  rmse_median_px: fast\n")) { e in
            XCTAssertEqual("\(e)", "population.yaml: line 2, field pointing.rmse_median_px: expected a number, found \"fast\"")
        }
        XCTAssertThrowsError(try Population.parse("detection:\n  plateau: 1.5\n")) { e in
            XCTAssertTrue("\(e)".hasPrefix("population.yaml: line 2, field detection.plateau: 1.5 is outside"))
        }
        XCTAssertThrowsError(try Population.parse("detection:\n  measure: smell\n")) { e in
            XCTAssertTrue("\(e)".contains("\"smell\" is not one of snr, contrast"))
        }
    }
}
