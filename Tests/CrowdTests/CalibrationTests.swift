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

    /// synth-cells' truth, and its images as the tasks of a simulated crowd (contrast measured):
    /// ground on which a known population is simulated and calibrated again.
    func cellsTasks() throws -> (truth: TruthSet, tasks: [ImageTask]) {
        let cells = try ExportReader.read(path: data("synth-cells/export.json"))
        let truth = try TruthSet.load(path: data("synth-cells"), export: cells)
        let sources = try TaskLoader.sources(truth: data("synth-cells"), image: nil, imagesDir: data("synth-cells/images"))
            .filter { truth.byImage[$0.imageName] != nil }
        return (truth, try TaskLoader.tasks(sources, size: nil, measure: .contrast))
    }

    /// Calibration measures pointing about each image's mean displacement from the truth, so a
    /// truth written in another pixel convention (1-based: every object a pixel right and down) is
    /// not handed to the simulated crowd as pointing error.
    func testPointingErrorIsMeasuredAboutTheTruthsOwnOffset() throws {
        var crowd = try RealCrowd.load(export: data("synth-tissue/export.json"), truth: data("synth-tissue"), images: data("synth-tissue/images"))
        let cal = try crowd.calibrate(pay: 0.02)
        crowd.truth.byImage = crowd.truth.byImage.mapValues { p in var p = p; p.xs = p.xs.map { $0 + 1 }; p.ys = p.ys.map { $0 - 1 }; return p }
        let shifted = try crowd.calibrate(pay: 0.02)
        let (x0, y0) = cal.observed.truthOffset, (x1, y1) = shifted.observed.truthOffset
        XCTAssertTrue(cal.summary.contains(String(format: "clicks fall %+.2f px across and %+.2f px up from the truth on average; the pointing error is measured about that", x0, y0)), "\(cal.summary)")
        XCTAssertLessThan(hypot(x0, y0), 0.5, "synth-tissue's truth shares the clicks' convention")
        XCTAssertTrue((0.5...1).contains(x0 - x1) && (0.5...1).contains(y1 - y0), "most of the pixel: (\(x0), \(y0)) → (\(x1), \(y1))")
        let raw = (cal.population.rmseMedian * cal.population.rmseMedian + 2).squareRoot()
        XCTAssertEqual(shifted.population.rmseMedian, cal.population.rmseMedian, accuracy: 0.1,
                       "about the offset; about the shifted truth itself it would be near \(raw)")
    }

    func testCalibratedOnTissueTheSimulatedCrowdMatchesTheRealCellsCrowd() throws {
        let tissue = try RealCrowd.load(export: data("synth-tissue/export.json"), truth: data("synth-tissue"), images: data("synth-tissue/images"))
        let cal = try tissue.calibrate(pay: 0.02)
        let pop = cal.population
        XCTAssertEqual(pop.measure, .contrast)
        XCTAssertEqual(pop.rmseMedian, 2.7, accuracy: 0.5, "data README: median worker RMSE 2.7 px")

        let cells = try ExportReader.read(path: data("synth-cells/export.json"))
        let (cellsTruth, tasks) = try cellsTasks()
        XCTAssertEqual(tasks.count, 9)
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
            // The two crowds differ most here (the cells crowd's plateau is 0.86, the tissue crowd's 0.74).
            XCTAssertEqual(rates[k], a.rate, accuracy: 0.15, "detection at SNR \(a.band): simulated \(rates[k]) vs real \(a.rate)")
        }
    }

    func testPopulationYAMLRoundTripsAndRefusesBadFiles() throws {
        var p = Population()
        p.detectionThreshold = 4.25; p.measure = .contrast; p.learningAnnotations = 40
        let back = try Population.parse(p.yaml(title: "test"))
        XCTAssertEqual(back, p)
        XCTAssertThrowsError(try Population.parse("detection:\n  plateau: 0.7\n  plateu_sd: 0.1\n")) { e in
            XCTAssertEqual("\(e)", "population.yaml: line 3, field detection.plateu_sd: unknown key (did you mean detection.plateau_sd?)")
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

    // MARK: - A real pilot: real smFISH fields, an expert's spots, no SNR

    func testCalibratedOnTheRealPilotSimulateWorksAndClicksPerWorkerMatch() throws {
        let crowd = try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted"), images: data("smfish-inverted/images"))
        XCTAssertEqual(crowd.tasks.count, 3)
        XCTAssertEqual(crowd.replicates, 30)
        // Dark spots on a light field are read in their polarity: most spots stand out.
        let all = crowd.visibility.values.flatMap { $0 }
        XCTAssertGreaterThan(median(all), 1, "spots' contrast in their own polarity")
        let cal = try crowd.calibrate(pay: 0.02)
        let pop = cal.populationWithUncertainty
        XCTAssertFalse(pop.correlations.isEmpty, "the fit's parameters trade off")
        // What calibrate writes, simulate reads back (every value within the file's ranges).
        let text = pop.yaml(title: "pilot", notes: cal.notes)
        let back = try Population.parse(text)
        XCTAssertEqual(back.yaml(title: "pilot", notes: cal.notes), text)
        XCTAssertEqual(back.measure, .contrast)
        XCTAssertLessThan(back.toleratedAnnotations, 1000, "the pilot's workers ran out of clicks: the budget is measured")
        XCTAssertFalse(cal.notes["effort.tolerated_annotations"]!.hasPrefix("prior"))
        XCTAssertGreaterThan(back.falsePositiveFirst, 0.03, "real smFISH workers click many look-alikes")
        XCTAssertLessThanOrEqual(back.falsePositiveLater, back.falsePositiveFirst + 1e-12, "no rising false positives sold as learning")
        // Simulated crowds click as much per image as the real one (median per submission).
        let real = CrowdFigures.measure(crowd.export, on: crowd)
        let predicted = CrowdFigures.mean(Validation.predict(back, on: crowd, pay: 0.02, seeds: [1, 2, 3, 4]))
        XCTAssertEqual(predicted.clicksPerWorker, real.clicksPerWorker, accuracy: 0.25 * real.clicksPerWorker,
                       "clicks per worker: simulated \(predicted.clicksPerWorker), real \(real.clicksPerWorker)")
        XCTAssertEqual(predicted.recall, real.recall, accuracy: 0.08, "consensus recall: simulated \(predicted.recall), real \(real.recall)")
        // The widest field was shown scaled (clicks land farther, close spots merge): there the
        // real crowd's recall is lowest, and so is the prediction's.
        XCTAssertEqual(back.displayWidth, 500)
        let recall = predicted.perImage.mapValues { $0[1] }
        let widest = crowd.tasks.max { $0.width < $1.width }!.name, narrowest = crowd.tasks.min { $0.width < $1.width }!.name
        XCTAssertLessThan(real.perImage[widest]![1], real.perImage[narrowest]![1] - 0.1)
        XCTAssertLessThan(recall[widest]!, recall[narrowest]! - 0.04, "per-image recall: \(recall)")
        // And for the same reason: most misses, real and simulated, are spots whose clicks went to a
        // close neighbour's object.
        for f in [real, predicted] {
            let neighbours = f.errors["missed_taken_by_neighbour"]!
            XCTAssertGreaterThan(neighbours, 0.5 * ErrorBreakdown.causes.filter { $0.key.hasPrefix("missed_") }.reduce(0) { $0 + f.errors[$1.key]! }, "\(f.errors)")
        }
        // The real consensus keeps false objects (structure beside the marked spots that several
        // workers click); the simulated one keeps as many.
        XCTAssertEqual(predicted.precision, real.precision, accuracy: 0.04, "consensus precision: simulated \(predicted.precision), real \(real.precision)")
        XCTAssertGreaterThan(back.structureContrastSlope, 2 * back.standardErrors["false_positives.structure_contrast_slope"]!, "bright look-alikes draw more false clicks")
        XCTAssertGreaterThan(back.nearObjectShare, 0.5, "real false clicks hug the marked spots")
    }

    /// A crowd calibrated on the real pilot clicks no more than its workers did. The pilot's busiest
    /// submission holds 223 clicks, and every worker most of whose clicks are false is counted
    /// careless; a careful simulated worker whose false-click rate came from the spread's tail
    /// clicked 600-1,800 times on a field (up to two thirds of a simulated crowd's false clicks),
    /// so careful rates stop where a worker would count careless, and the careless workers are
    /// generated so that the simulated pilot shows both what the real careless workers clicked
    /// wrong and what they found.
    func testACalibratedCrowdClicksNoMoreThanThePilotsWorkersDid() throws {
        let crowd = try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted"), images: data("smfish-inverted/images"))
        let pop = try crowd.calibrate(pay: 0.02).population
        func submissions(_ e: QuantiusExport) -> [Int] { e.records.map { $0.allVertices.count } }
        func falseShare(_ e: QuantiusExport) -> Double {
            let ws = Analysis.run(export: e, truth: crowd.truth).workers.compactMap(\.vsTruth)
            return Double(ws.reduce(0) { $0 + $1.fp }) / Double(ws.reduce(0) { $0 + $1.tp + $1.fp })
        }
        let busiest = submissions(crowd.export).max()!, realShare = falseShare(crowd.export)
        var shares: [Double] = [], clicks: [Double] = []
        for seed in UInt64(1)...6 {
            let sim = CrowdSimulation(population: pop, replicates: crowd.replicates, pay: 0.02, seed: seed).run(crowd.tasks).export
            XCTAssertLessThan(submissions(sim).max()!, 2 * busiest, "seed \(seed): the real pilot's busiest submission holds \(busiest) clicks")
            shares.append(falseShare(sim)); clicks.append(Double(submissions(sim).reduce(0, +)))
        }
        XCTAssertEqual(mean(shares), realShare, accuracy: 0.06, "false share of all clicks: simulated \(shares), real \(realShare)")
        let realClicks = Double(submissions(crowd.export).reduce(0, +))
        XCTAssertEqual(mean(clicks), realClicks, accuracy: 0.25 * realClicks, "clicks: simulated \(clicks), real \(realClicks)")
        // Whatever the spread, no careful worker's rate reaches the share that makes them careless.
        for z in stride(from: -5.0, through: 5.0, by: 0.25) {
            XCTAssertLessThanOrEqual(pop.falsePositiveFirst * CrowdPool.carefulFalseFactor(z: z, logSD: 1.25, population: pop), DetectionScore.mostlyFalseShare + 1e-12)
        }
    }

    /// Where false clicks fall is found again: a crowd whose false clicks land beside objects
    /// (share 0.5, offset SD 12 px) at a known rate, calibrated, gives back the share, the SD and
    /// the rate it was generated at (though some of those clicks land on objects and count as true).
    /// Pointing is tight (1.5 px): with looser pointing, aimed clicks that miss by more than the
    /// matching radius read as false clicks beside objects too, and the SD comes out lower.
    func testFalseClicksBesideObjectsAreRecoveredFromASimulatedCrowd() throws {
        let (truth, tasks) = try cellsTasks()
        var pop = Population()
        pop.measure = .contrast; pop.detectionThreshold = 4; pop.detectionWidth = 1
        pop.falsePositiveFirst = 0.15; pop.falsePositiveLater = 0.15; pop.carelessShare = 0
        pop.structureShare = 0.2; pop.nearObjectShare = 0.5; pop.nearObjectSD = 12; pop.rmseMedian = 1.5
        let sim = CrowdSimulation(population: pop, replicates: 30, pay: 0.02, seed: 11).run(tasks)
        let measured = try Visibility.measure(truth, imagesDir: data("synth-cells/images"))
        let cal = try Calibrator.calibrate(export: sim.export, truth: truth, visibility: measured.visibility, lookAlikes: measured.lookAlikes, pay: 0.02)
        XCTAssertEqual(cal.population.nearObjectShare, 0.5, accuracy: 0.15, "share beside objects")
        XCTAssertEqual(cal.population.nearObjectSD, 12, accuracy: 3, "their offset's SD")
        XCTAssertEqual(cal.population.falsePositiveFirst, 0.15, accuracy: 0.04, "the rate generated, not the rate seen")
    }

    /// A known budget is found again: a population whose workers run out of clicks simulates a
    /// crowd on dense images, and calibration on that crowd recovers the budget's median.
    func testTheClickBudgetIsRecoveredFromASimulatedCrowd() throws {
        let (truth, tasks) = try cellsTasks()
        var pop = Population()
        pop.measure = .contrast; pop.toleratedAnnotations = 40; pop.patienceLogSD = 0.4; pop.detectionThreshold = 4; pop.detectionWidth = 1
        let sim = CrowdSimulation(population: pop, replicates: 30, pay: 0.02, seed: 7).run(tasks)
        let cal = try Calibrator.calibrate(export: sim.export, truth: truth, visibility: try contrast("synth-cells", truth), pay: 0.02)
        XCTAssertEqual(cal.population.toleratedAnnotations, 40, accuracy: 8, "budget median")
        XCTAssertEqual(cal.population.patienceLogSD, 0.4, accuracy: 0.2, "budget spread")
        // The threshold is not asserted: calibration reads a binding budget as a random subset of
        // what is noticed, while workers spend it on the most salient, so it comes out high where
        // budgets bind (docs/crowd-model.md).
    }

    /// A crowd that either sees an object or does not (a step in visibility, as bright beads are
    /// seen) is still measured: the width, narrower than the visibilities resolve, is held at that
    /// resolution and the plateau and threshold fitted, where the curve was thrown away for the
    /// prior's (plateau 0.72, threshold 5), which then under-predicted such a crowd.
    func testACrowdThatSeesAnObjectOrNotIsStillMeasured() throws {
        let (truth, tasks) = try cellsTasks()
        var pop = Population()
        pop.measure = .contrast; pop.toleratedAnnotations = 1000; pop.detectionPlateau = 0.9; pop.detectionThreshold = 3; pop.detectionWidth = 1e-3
        pop.objectVisibilitySD = 0
        let sim = CrowdSimulation(population: pop, replicates: 12, pay: 0.02, seed: 3).run(tasks)
        let cal = try Calibrator.calibrate(export: sim.export, truth: truth, visibility: try contrast("synth-cells", truth), pay: 0.02)
        XCTAssertEqual(cal.notes["detection.width"], "fitted: narrower than the visibilities resolve, held at a thousandth of their range")
        XCTAssertNil(cal.standardErrors["detection.width"], "a held width is not drawn by predict")
        // The plateau comes out as high from a crowd of the same workers with a graded curve (width 1).
        XCTAssertEqual(cal.population.detectionPlateau, 0.9, accuracy: 0.1)
        XCTAssertEqual(cal.population.detectionThreshold, 3, accuracy: 0.5)
        XCTAssertLessThan(cal.population.detectionWidth, 0.1)
    }

    /// A crowd with truth on one of its images is judged on that image alone, as its prediction
    /// simulates it: the other images' clicks enter neither the real figures nor its consensus.
    func testARealCrowdIsMeasuredOnTheImagesItsPredictionSimulates() throws {
        let field = "C2-ISP_293T_TFRC_InSituPrep_20180712_1_MMStack_Pos0_300_inv"
        let crowd = try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted/\(field).csv"),
                                       images: data("smfish-inverted/images"))
        XCTAssertEqual(crowd.tasks.map(\.name), [field + ".png"])
        XCTAssertEqual(crowd.export.imageNames.count, 3, "the export keeps its three fields")
        let real = CrowdFigures.measure(crowd.export, on: crowd)
        let alone = QuantiusExport(records: crowd.export.records.filter { $0.imageFilename == field + ".png" })
        XCTAssertEqual(real, CrowdFigures.measure(alone, on: crowd))
        XCTAssertEqual(real.clicksPerWorker, median(alone.records.map { Double($0.allVertices.count) }))
        XCTAssertNotEqual(real.clicksPerWorker, median(crowd.export.records.map { Double($0.allVertices.count) }), "the three fields' median differs")
    }

    /// A pilot of one image cannot tell a click budget from workers who differ in what they notice:
    /// both spread the clicks alike. The real synth-tissue crowd on its 50-spot SNR 5 image alone
    /// clicked at most 42 times where the whole crowd, on images of 150 spots, clicked up to 145
    /// and ran into no budget; read as a budget binding at the clicks seen, the single image
    /// predicted a recall of 0.53 for the whole job (real 0.88).
    func testOneImageShowsNoClickBudget() throws {
        let tissue = try ExportReader.read(path: data("synth-tissue/export.json"))
        let image = "MAX_ISP_300_1_nspots50_spot_sig1.75_snr5_2.5spot_img.png"
        let one = QuantiusExport(records: tissue.records.filter { $0.imageFilename == image })
        XCTAssertEqual(Set(one.records.map(\.workerID)).count, 30)
        let truth = try TruthSet.load(path: data("synth-tissue"), export: one)
        let cal = try Calibrator.calibrate(export: one, truth: truth, visibility: try contrast("synth-tissue", truth), pay: 0.02)
        XCTAssertTrue(cal.notes["effort.tolerated_annotations"]?.hasPrefix("prior") ?? false, cal.notes["effort.tolerated_annotations"] ?? "no note")
        XCTAssertGreaterThanOrEqual(cal.population.toleratedAnnotations, 42, "at least what the busiest worker clicked")
    }

    /// A crowd whose workers never run out of clicks, calibrated on 30 workers per image, predicts
    /// its own three- and five-worker consensus: the budget the pilot does not show is the least
    /// its freely clicking workers do not refute. Taken at the busiest worker's clicks, half the
    /// simulated workers were cut below what that worker clicked freely, and three workers' recall
    /// came out about 0.1 low.
    func testABudgetNotSeenDoesNotCutTheWorkersThePilotShowedClickingFreely() throws {
        let (truth, tasks) = try cellsTasks()
        var pop = Population()
        pop.measure = .contrast; pop.toleratedAnnotations = 1000
        let pilot = CrowdSimulation(population: pop, replicates: 30, pay: 0.02, seed: 3).run(tasks)
        let cal = try Calibrator.calibrate(export: pilot.export, truth: truth, visibility: try contrast("synth-cells", truth), pay: 0.02)
        XCTAssertTrue(cal.notes["effort.tolerated_annotations"]?.hasPrefix("prior, at least") ?? false, cal.notes["effort.tolerated_annotations"] ?? "no note")
        func recall(_ p: Population, workers: Int) -> Double {
            let runs = (11...14).map { seed in
                Analysis.run(export: CrowdSimulation(population: p, replicates: workers, pay: 0.02, seed: UInt64(seed)).run(tasks).export, truth: truth).overall!.recall
            }
            return runs.reduce(0, +) / Double(runs.count)
        }
        for workers in [3, 5] {
            XCTAssertEqual(recall(cal.population, workers: workers), recall(pop, workers: workers), accuracy: 0.05, "\(workers) workers per image")
        }
    }

    /// On an image shown scaled (8 spots of the 700 px smFISH field, shown at 500 px: the real
    /// crowd's clicks within 12 px of them; too few objects for a detection curve), the lower
    /// bounds on the budget are the workers' true clicks read as the budget fit reads them: net of
    /// the aimed clicks the scale lets miss the matching radius, so above the raw counts.
    func testTheBudgetFloorOnAScaledImageCountsTheClicksItsScaleLetMiss() throws {
        let name = "C2-ISP_293T_TFRC_InSituPrep_20180712_1_MMStack_Pos0_700_inv.png"
        let all = try ExportReader.read(path: data("smfish-inverted/export.json"))
        let field = QuantiusExport(records: all.records.filter { $0.imageFilename == name })
        let spots = try TruthSet.load(path: data("smfish-inverted"), export: field).byImage[name]!
        let eight = TruthPoints(xs: Array(spots.xs.prefix(8)), ys: Array(spots.ys.prefix(8)), snr: nil, source: spots.source)
        func nearTheEight(_ v: Vertex) -> Bool { eight.xs.indices.contains { dist2(v.x, v.y, eight.xs[$0], eight.ys[$0]) <= 144 } }
        let export = QuantiusExport(records: field.records.map { r in
            var near = r
            near.rawData = r.rawData.map { $0.filter(nearTheEight) }
            return near
        })
        let truth = TruthSet(byImage: [name: eight])
        let image = try PNG.read(path: data("smfish-inverted/images/\(name)"))
        let visibility = [name: Visibility.contrast(image: image, xs: eight.xs, ys: eight.ys)]
        var prior = Population()
        prior.toleratedAnnotations = 1
        let cal = try Calibrator.calibrate(export: export, truth: truth, visibility: visibility, pay: 0.02, prior: prior)
        XCTAssertEqual(cal.population.displayWidth, 500, "the scale is seen")
        XCTAssertTrue(cal.notes["effort.tolerated_annotations"]?.hasPrefix("prior, at least") ?? false, cal.notes["effort.tolerated_annotations"] ?? "no note")
        // The careful workers' true clicks as counted, and the floor they would give.
        let pilot = try Calibrator.match(export: export, truth: truth, visibility: visibility, matchRadius: 8, source: "pilot")
        let raw = pilot.rows.filter { !DetectionScore.isMostlyFalse(truePositives: $0.tp, clicks: $0.clicks) }.map { Double($0.tp) }
        XCTAssertGreaterThan(raw.max()!, 0)
        func floor(_ bounds: [Double]) -> Double { max(bounds.max()!, Calibrator.leastUnrefutedBudget(bounds, logSD: prior.patienceLogSD)) }
        XCTAssertGreaterThan(cal.population.toleratedAnnotations, floor(raw), "shown at 1/1.4, fewer clicks land within 8 px than were aimed")
        XCTAssertLessThan(cal.population.toleratedAnnotations, floor(raw.map { 1.4 * $0 }))
    }

    /// A pilot drawn from a crowd keeps the workers asked for on each image (or the images asked
    /// for, with all their workers), the same ones however the export lists its records.
    func testAPilotDrawnFromACrowdDependsOnItsDrawNotOnTheListing() throws {
        let crowd = try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted"), images: data("smfish-inverted/images"))
        let design = Validation.PilotDesign(workersPerImage: 4)
        let pilot = Validation.pilot(of: crowd, design, draw: 1)
        for name in crowd.export.imageNames {
            let mine = pilot.export.records.filter { $0.imageFilename == name }
            XCTAssertEqual(Set(mine.map(\.workerID)).count, 4, name)
            XCTAssertTrue(mine.allSatisfy { r in crowd.export.records.contains(r) }, "a pilot holds the crowd's own submissions")
        }
        var relisted = crowd
        relisted.export = QuantiusExport(records: crowd.export.records.reversed())
        let again = Validation.pilot(of: relisted, design, draw: 1)
        XCTAssertEqual(Set(again.export.records.map { $0.workerID + $0.imageFilename }), Set(pilot.export.records.map { $0.workerID + $0.imageFilename }))
        let drawn = Set(pilot.export.records.map { $0.workerID + $0.imageFilename })
        for other in [Validation.pilot(of: crowd, design, draw: 2), Validation.pilot(of: crowd, design, draw: 1, seed: 2)] {
            XCTAssertNotEqual(Set(other.export.records.map { $0.workerID + $0.imageFilename }), drawn, "another draw, or another seed, draws other workers")
        }
        let oneImage = Validation.pilot(of: crowd, Validation.PilotDesign(images: 1), draw: 1)
        XCTAssertEqual(oneImage.tasks.count, 1)
        XCTAssertEqual(Set(oneImage.truth.byImage.keys), Set([oneImage.tasks[0].name]))
        XCTAssertEqual(oneImage.export.records.count, crowd.export.records.filter { $0.imageFilename == oneImage.tasks[0].name }.count)
    }

    /// On the real smFISH fields (300, 500 and 700 px wide), a crowd simulated in a 500 px viewer
    /// records the widest field's clicks on the viewer's lattice, misses more there, and
    /// calibration finds the viewer again and the pointing error in screen pixels.
    func testAWideImageShownScaledIsSimulatedAndFoundAgain() throws {
        let crowd = try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted"), images: data("smfish-inverted/images"))
        var pop = Population()
        pop.measure = .contrast; pop.detectionThreshold = 2; pop.detectionWidth = 1; pop.toleratedAnnotations = 1000
        pop.rmseMedian = 3; pop.rmseLogSD = 0.1; pop.carelessShare = 0
        let sim = CrowdSimulation(population: pop, replicates: 30, pay: 0.02, seed: 5).run(crowd.tasks)
        let job = ClickJob(export: sim.export)
        for im in job.images {
            XCTAssertEqual(DisplayScale.measure(xs: im.xs, ys: im.ys, width: im.width, height: im.height)!, im.width > 500 ? 1.4 : 1, accuracy: 1e-12, im.image)
        }
        // Clicks land 1.4 times as far from the spots on the widest field, as the real ones do.
        func medianMiss(_ im: ImageClicks) -> Double {
            let t = crowd.truth.byImage[im.image]!
            return median(im.xs.indices.map { i in t.xs.indices.map { dist2(im.xs[i], im.ys[i], t.xs[$0], t.ys[$0]) }.min()!.squareRoot() })
        }
        let miss = Dictionary(uniqueKeysWithValues: job.images.map { ($0.width, medianMiss($0)) })
        XCTAssertEqual(miss[700]! / miss[300]!, 1.4, accuracy: 0.15, "median distance to the nearest spot, 700 px field over 300 px field")
        let cal = try Calibrator.calibrate(export: sim.export, truth: crowd.truth, visibility: crowd.visibility, pay: 0.02, prior: { var p = Population(); p.displayWidth = 800; return p }())
        XCTAssertEqual(cal.population.displayWidth, 500, "the viewer, from the lattice (not the prior's 800)")
        XCTAssertEqual(cal.population.rmseMedian, 3, accuracy: 0.3, "pointing error in screen pixels")
    }

    func testContrastIsTheSameOnAnInvertedImage() throws {
        let cells = try ExportReader.read(path: data("synth-cells/export.json"))
        let truth = try TruthSet.load(path: data("synth-cells"), export: cells)
        let (name, t) = truth.byImage.min { $0.key < $1.key }!
        let image = try PNG.read(path: data("synth-cells/images/\(name)"))
        var inverted = image
        inverted.samples = image.samples.map { image.maxValue - $0 }
        let a = Visibility.contrast(image: image, xs: t.xs, ys: t.ys), b = Visibility.contrast(image: inverted, xs: t.xs, ys: t.ys)
        XCTAssertGreaterThan(median(a), 3)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-9) }
    }

    /// Truth without SNR on its image (an expert's clicks on a real field): the SNR population
    /// reads the contrast measured there; without the image it is one line saying to pass it.
    func testTruthWithoutSNRReadsContrastInItsImage() throws {
        let dir = NSTemporaryDirectory() + "crowdlab-nosnr-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cells = try ExportReader.read(path: data("synth-cells/export.json"))
        let truth = try TruthSet.load(path: data("synth-cells"), export: cells)
        let (name, t) = truth.byImage.min { $0.key < $1.key }!
        let image = try PNG.read(path: data("synth-cells/images/\(name)"))
        let h = Double(image.height)
        let csv = "col,row\n" + zip(t.xs, t.ys).map { "\($0),\(h - $1)\n" }.joined()
        try csv.write(toFile: dir + "/truth.csv", atomically: true, encoding: .utf8)
        let tasks = try TaskLoader.tasks(TaskLoader.sources(truth: dir + "/truth.csv", image: data("synth-cells/images/\(name)"), imagesDir: nil),
                                         size: nil, measure: .snr)
        let expected = Visibility.contrast(image: image, xs: t.xs, ys: t.ys)
        XCTAssertEqual(tasks[0].visibility.count, expected.count)
        for (a, b) in zip(tasks[0].visibility, expected) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        XCTAssertThrowsError(try TaskLoader.tasks(TaskLoader.sources(truth: dir + "/truth.csv", image: nil, imagesDir: nil), size: nil, measure: .snr)) { e in
            XCTAssertTrue("\(e)".contains("no snr column: pass its image"), "\(e)")
        }
    }

    // MARK: - Bad pilots: one line naming the file and what is missing

    func testBadPilotsAreRefusedWithOneLine() throws {
        let real = try ExportReader.read(path: data("smfish-inverted/export.json"))
        let truth = try TruthSet.load(path: data("smfish-inverted"), export: real)
        func refused(_ export: QuantiusExport, _ truth: TruthSet, _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try Calibrator.calibrate(export: export, truth: truth, visibility: nil, pay: 0.02, source: "pilot.json"), line: line) { e in
                XCTAssertEqual("\(e)", expected, line: line)
                XCTAssertFalse("\(e)".contains("\n"), line: line)
            }
        }
        refused(real, TruthSet(byImage: [:]), "pilot.json: no image of the export has truth (--truth): nothing to calibrate on")
        let one = QuantiusExport(records: real.records.filter { $0.workerID == real.records[0].workerID })
        refused(one, truth, "pilot.json: one worker only: calibration needs at least 2 workers to tell people apart")
        let empty = QuantiusExport(records: real.records.map { var r = $0; r.rawData = [[]]; return r })
        refused(empty, truth, "pilot.json: the pilot has no clicks: nothing to calibrate on")
        refused(QuantiusExport(records: []), truth, "pilot.json: no crosshair submissions: nothing to calibrate on")
        XCTAssertThrowsError(try RealCrowd.load(export: data("smfish-inverted/export.json"), truth: data("smfish-inverted"), images: data("synth-cells/images"))) { e in
            XCTAssertTrue("\(e)".hasPrefix(data("synth-cells/images") + "/C2-ISP"), "\(e)")
            XCTAssertTrue("\(e)".hasSuffix("image of the export not found (contrast is measured in it)"), "\(e)")
        }
    }
}
