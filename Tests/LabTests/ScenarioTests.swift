import Foundation
import XCTest
import Crowd
@testable import Consensus
@testable import Crowd
@testable import Lab
@testable import Phantoms

final class ScenarioTests: XCTestCase {
    func write(_ text: String) -> String {
        let dir = NSTemporaryDirectory() + "crowdlab-scn-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = dir + "/test.yaml"
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    let small = """
    name: small
    seed: 3
    scene:
      kind: spots
      images: 3
      objects: 40
    job:
      replicates: 5
      pay_usd: 0.05
    """

    func testParsesAndAppliesOverrides() throws {
        let s = try Scenario.load(path: write(small), overrides: ["job.replicates=7", "scene.background=tissue"])
        XCTAssertEqual(s.name, "small"); XCTAssertEqual(s.seed, 3); XCTAssertEqual(s.images, 3)
        XCTAssertEqual(s.replicates, 7); XCTAssertEqual(s.background, .tissue); XCTAssertEqual(s.objects, 40...40)
    }

    func testErrorsNameFileLineAndKey() throws {
        func check(_ text: String, _ expected: String, overrides: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try Scenario.load(path: write(text), overrides: overrides), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(e) lacks \(expected)", file: file, line: line)
                XCTAssertFalse("\(e)".contains("\n"), file: file, line: line)
            }
        }
        check(small + "\n  replicas: 3\n", "test.yaml: line 10, field job.replicas: unknown key (did you mean job.replicates?)")
        check(small.replacingOccurrences(of: "replicates: 5", with: "replicates: many"), "test.yaml: line 8, field job.replicates: expected a whole number, found \"many\"")
        check(small.replacingOccurrences(of: "pay_usd: 0.05", with: "pay_usd: -1"), "test.yaml: line 9, field job.pay_usd: -1 is outside")
        check(small.replacingOccurrences(of: "kind: spots", with: "kind: galaxies"), "field scene.kind: \"galaxies\" is not one of spots, transwell")
        check(small.replacingOccurrences(of: "objects: 40", with: "objects: 90-10"), "field scene.objects: expected N or MIN-MAX")
        check(small, "--set: field job.workers: unknown key", overrides: ["job.workers=3"])
        check(small, "--set: field job.replicates: expected a whole number", overrides: ["job.replicates=lots"])
        check(small, "field analysis.method: job.policy verify asks about the agreement method's undecided objects", overrides: ["job.policy=verify", "analysis.method=dbscan"])
        check(small, "field job.verify_workers: 0 is outside", overrides: ["job.policy=verify", "job.verify_workers=0"])
        check(small, "--set: field analysis.image_evidence: \"yes\" is not one of true, false", overrides: ["analysis.image_evidence=yes"])
        check(small, "field analysis.image_evidence: works with analysis.method agreement, not dbscan", overrides: ["analysis.image_evidence=true", "analysis.method=dbscan"])
    }

    func testShippedScenariosParse() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let dir = url.path + "/Scenarios"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        XCTAssertFalse(files.isEmpty)
        for f in files { XCTAssertNoThrow(try Scenario.load(path: dir + "/" + f), f) }
    }

    func testRunIsDeterministicAndPricesTheJob() throws {
        let s = try Scenario.load(path: write(small))
        let a = try LabRun.run(s), b = try LabRun.run(s)
        XCTAssertEqual(ExportWriter.encode(a.simulation.export), ExportWriter.encode(b.simulation.export))
        XCTAssertEqual(a.simulation.export.records.count, 15)
        XCTAssertEqual(a.cost.rewards, 0.75, accuracy: 1e-9)
        XCTAssertEqual(a.cost.fees, 15 * 0.01, accuracy: 1e-9, "20 % of 5 cents is 1 cent")
        XCTAssertNotNil(a.analysis.overall)
        let out = NSTemporaryDirectory() + "crowdlab-run-" + UUID().uuidString
        try LabRun.write(a, to: out)
        for f in ["report.html", "metrics.json", "export.json", "consensus.csv", "images/spots_0000.png", "truth/spots_0000.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
        }
        // The written export and truth re-analyse to the same scores.
        let e = try ExportReader.read(path: out + "/export.json")
        let t = try TruthSet.load(path: out + "/truth", export: e)
        XCTAssertEqual(Analysis.run(export: e, truth: t).overall, a.analysis.overall)
    }

    func testTurkFees() {
        XCTAssertEqual(TurkFees.feePerAssignment(reward: 0.02, assignmentsPerHIT: 5), 0.01, accuracy: 1e-12)
        XCTAssertEqual(TurkFees.feePerAssignment(reward: 0.10, assignmentsPerHIT: 5), 0.02, accuracy: 1e-12)
        XCTAssertEqual(TurkFees.feePerAssignment(reward: 0.10, assignmentsPerHIT: 10), 0.04, accuracy: 1e-12)
        XCTAssertEqual(TurkFees.jobCost(images: 100, replicates: 10, reward: 0.06).total, 1000 * (0.06 + 0.02), accuracy: 1e-9)
    }

    func testSweepAxesAndShardsMergeToTheSameRuns() throws {
        let a = try Sweep.Axis(parsing: "job.pay_usd=0.02:0.06:0.02")
        XCTAssertEqual(a.values, ["0.02", "0.04", "0.06"])
        XCTAssertThrowsError(try Sweep.Axis(parsing: "job.speed=1,2"))
        let path = write(small)
        let sweep = Sweep(scenarioPath: path, overrides: [], axes: [try Sweep.Axis(parsing: "job.replicates=3,6")], seeds: 2)
        let runs = sweep.runs()
        XCTAssertEqual(runs.count, 4)
        let all = try sweep.execute(runs)
        let shard1 = try sweep.execute(runs.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let shard2 = try sweep.execute(runs.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        XCTAssertEqual(Set(all), Set(shard1 + shard2))
        let table = try SweepSummary.summarise(csv: sweep.header() + "\n" + all.joined(separator: "\n"), file: "runs.csv")
        XCTAssertEqual(table.rows.count, 2)
        XCTAssertEqual(table.rows[0].seeds, 2)
        XCTAssertTrue(all[0].hasPrefix("0,3,3,"), "point 0, seed 3 (the scenario's), replicates 3")
        // Seeds as an axis (re-checking a plan on other seeds): each column has its own name.
        let bySeed = Sweep(scenarioPath: path, overrides: [], axes: [try Sweep.Axis(parsing: "seed=201:202:1")], seeds: 2)
        let names = bySeed.header().split(separator: ",")
        XCTAssertEqual(names.count, Set(names).count, bySeed.header())
        XCTAssertEqual(Array(names.prefix(3)), ["point", "seed", "base_seed"])
        let seeded = try bySeed.execute(bySeed.runs())
        XCTAssertEqual(seeded.map { $0.split(separator: ",").prefix(3).joined(separator: ",") }, ["0,201,201", "0,202,201", "1,202,202", "1,203,202"])
    }

    func testPlannerRecommendationMeetsItsTargetsOnOtherSeeds() throws {
        var p = Planner(objectsPerImage: 40, images: 6, targetRecall: 0.8, targetPrecision: 0.95, budget: nil, deadlineHours: nil, population: Population())
        p.pays = [0.02, 0.06]; p.replicateOptions = [3, 10]; p.seeds = 6; p.pilotImages = 6
        let plan = try p.plan()
        let d = try XCTUnwrap(plan.recommended)
        XCTAssertTrue(plan.designs.filter(\.meetsTargets).allSatisfy { $0.costUsd >= d.costUsd }, "the cheapest qualifying design")
        var met = 0
        for seed in 1001...1010 {
            let o = try LabRun.run(p.scenario(pay: d.payUsd, policy: try ReplicatePolicies.parse(d.policy), seed: UInt64(seed), images: 6), keepPhantoms: false)
            let s = d.dropBottomThird ? o.analysis.filtered.score! : o.analysis.overall!
            if s.recall >= 0.8 && s.precision >= 0.95 { met += 1 }
        }
        XCTAssertGreaterThanOrEqual(met, 9, "met targets in \(met) of 10 runs")
    }

    /// A verify stage on the same first-stage crowd as the fixed job: it asks about the undecided
    /// objects only, pays for those HITs, and finds objects the first stage left one vote short.
    func testAVerifyStageAsksAboutUndecidedObjectsAndPaysForThem() throws {
        let text = """
        name: verify
        seed: 8
        scene:
          kind: spots
          images: 6
          objects: 60-140
          snr: 5-20
        job:
          replicates: 5
          pay_usd: 0.02
        """
        let fixed = try LabRun.run(try Scenario.load(path: write(text)), keepPhantoms: false)
        let verifying = try Scenario.load(path: write(text), overrides: ["job.policy=verify"])
        let v = try LabRun.run(verifying, keepPhantoms: false)
        let figures = try XCTUnwrap(v.verify)
        XCTAssertGreaterThan(figures.questions, 0)
        XCTAssertLessThan(figures.questions, fixed.analysis.consensus.reduce(0) { $0 + $1.candidateSupports.count }, "only the undecided are asked")
        XCTAssertEqual(v.assignments, 6 * 5 + figures.assignments)
        XCTAssertEqual(figures.assignments, figures.hits * 3)
        XCTAssertEqual(v.cost.total, fixed.cost.total + figures.costUsd, accuracy: 1e-9)
        let before = try XCTUnwrap(fixed.analysis.overall), after = try XCTUnwrap(v.analysis.overall)
        XCTAssertGreaterThan(after.recall, before.recall + 0.03, "near misses confirmed: \(before.recall) -> \(after.recall)")
        XCTAssertGreaterThanOrEqual(after.precision, before.precision - 0.01)
        XCTAssertGreaterThan(figures.added, 0)
        XCTAssertEqual(v.scenario.policyDescription, "verify:5,3,10")
        // The same seed gives the same bytes.
        let again = try LabRun.run(verifying, keepPhantoms: false)
        XCTAssertEqual(try LabRun.metricsJSON(again), try LabRun.metricsJSON(v))
    }

    func testPlannerPricesAVerifyStageAfterAFixedDesign() throws {
        var p = Planner(objectsPerImage: 80, images: 50, targetRecall: 0.5, targetPrecision: 0.95, budget: nil, deadlineHours: nil, population: Population())
        p.pays = [0.02]; p.replicateOptions = [5]; p.seeds = 2; p.pilotImages = 4; p.adaptivePolicies = []
        p.verifyStages = [VerifyStage()]
        let plan = try p.plan()
        let fixed = try XCTUnwrap(plan.designs.first { $0.policy == "fixed:5" && !$0.dropBottomThird })
        let verify = try XCTUnwrap(plan.designs.first { $0.policy == "verify:5,3,10" && !$0.dropBottomThird })
        XCTAssertGreaterThan(verify.costUsd, fixed.costUsd, "the verify HITs are paid for")
        XCTAssertGreaterThan(verify.assignmentsPerImage, 5)
        XCTAssertGreaterThan(verify.recallMean, fixed.recallMean)
        var chosen = plan
        chosen.recommended = verify
        let path = NSTemporaryDirectory() + "planned-\(UUID().uuidString).yaml"
        try XCTUnwrap(Planner.scenarioYAML(chosen, populationPath: nil)).write(toFile: path, atomically: true, encoding: .utf8)
        let s = try Scenario.load(path: path)
        XCTAssertEqual(s.policyDescription, "verify:5,3,10")
    }

    func testPlannerPricesAnAdaptivePolicyByWhatItAsksFor() throws {
        var p = Planner(objectsPerImage: 60, images: 100, targetRecall: 0.7, targetPrecision: 0.95, budget: nil, deadlineHours: nil, population: Population())
        p.pays = [0.02]; p.replicateOptions = [3, 15]; p.seeds = 3; p.pilotImages = 6
        p.detectorAfter = 20
        let plan = try p.plan()
        // Crowd labels for 20 of the 100 images and a detector for the rest: a fifth of the chosen design's cost.
        let chosenDesign = try XCTUnwrap(plan.recommended ?? plan.cheapestMeetingTargets)
        let option = try XCTUnwrap(plan.detector)
        XCTAssertEqual(option.detectorImages, 80)
        XCTAssertEqual(option.costUsd, 0.2 * chosenDesign.costUsd, accuracy: 1e-9)
        XCTAssertEqual(option.savingUsd + option.costUsd, chosenDesign.costUsd, accuracy: 1e-9)
        let adaptive = try XCTUnwrap(plan.designs.first { $0.isAdaptive && !$0.dropBottomThird })
        XCTAssertEqual(adaptive.policy, "adaptive:3,15,0.15")
        XCTAssertGreaterThan(adaptive.assignmentsPerImage, 3)
        XCTAssertLessThan(adaptive.assignmentsPerImage, 15)
        let low = TurkFees.jobCost(images: 100, replicates: 3, reward: 0.02).total, high = TurkFees.jobCost(images: 100, replicates: 15, reward: 0.02).total
        XCTAssertGreaterThan(adaptive.costUsd, low)
        XCTAssertLessThan(adaptive.costUsd, high)
        XCTAssertGreaterThanOrEqual(adaptive.costP90Usd, adaptive.costUsd)
        let fixed15 = try XCTUnwrap(plan.designs.first { $0.policy == "fixed:15" && !$0.dropBottomThird })
        XCTAssertEqual(fixed15.costUsd, high, accuracy: 1e-9)
        XCTAssertEqual(fixed15.costP90Usd, high, accuracy: 1e-9)
        // An adaptive recommendation's scenario file carries the policy.
        var chosen = plan
        chosen.recommended = adaptive
        let yaml = try XCTUnwrap(Planner.scenarioYAML(chosen, populationPath: nil))
        let path = NSTemporaryDirectory() + "planned-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let s = try Scenario.load(path: path)
        XCTAssertEqual(s.policy, .adaptive)
        XCTAssertEqual(s.replicatePolicy.description, "adaptive:3,15,0.15")
        XCTAssertEqual(s.pay, 0.02)
    }
}

final class ClassicBaselineTests: XCTestCase {
    func testEnvelopeTradesRecallForPrecisionOnTranswell() {
        let scene = TranswellScene()
        let phantoms = (0..<3).map { scene.render(seed: UInt64($0)) }
        let env = ClassicBaseline.envelope(phantoms, minAreas: [1, 20, 60, 120])
        XCTAssertEqual(env.count, 4)
        // Small particles (pores) pass the lowest size threshold: worse precision than at 60 px².
        XCTAssertLessThan(env[0].precision, env[2].precision)
        XCTAssertGreaterThanOrEqual(env[0].recall, env[3].recall)
        XCTAssertTrue(ClassicBaseline.beats(precision: 1, recall: 1, env))
        XCTAssertFalse(ClassicBaseline.beats(precision: 0, recall: 0, env))
    }

    /// The envelope on a worker's own images (the paired comparison of Fig. 1c) is the pipeline
    /// run on those images alone.
    func testEnvelopeOnSomeImagesIsThePipelineOnThoseImages() {
        let scene = TranswellScene()
        let phantoms = (0..<4).map { scene.render(seed: UInt64(10 + $0)) }
        let sweep = ClassicBaseline.sweep(phantoms, minAreas: [1, 40, 120], radius: 10)
        XCTAssertEqual(sweep.envelope(images: [1, 3]), ClassicBaseline.envelope([phantoms[1], phantoms[3]], minAreas: [1, 40, 120], radius: 10))
        XCTAssertEqual(sweep.envelope(), ClassicBaseline.envelope(phantoms, minAreas: [1, 40, 120], radius: 10))
        XCTAssertNotEqual(sweep.envelope(images: [0]), sweep.envelope(images: [2]), "images differ, so do their envelopes")
    }
}

final class PaperTests: XCTestCase {
    /// Every claim's `holds` is computed, and what the claims say of the crowd is what the written
    /// exports show when analysed again from the files.
    func testClaimsAreComputedAndRecomputableFromTheExports() throws {
        let r = try Paper.run(seeds: [1], scale: 0.1)
        let ids = Set(r.claims.map(\.id))
        for id in ["fig1c_crowd_precision", "fig1c_crowd_recall", "fig1c_workers_beating_threshold_pipeline", "fig1c_filtered_crowd_vs_experts",
                   "fig1e_median_click_period_s", "fig1e_median_rmse_px", "fig1e_fitts_slope", "fig1f_annotations_vs_rmse", "s1_group_size_plateau",
                   "s2_top20_share_of_images", "s3_tolerated_annotations_at_2c", "s3_images_attempted_drop", "s3_recall_above_110", "s3_rate_drop",
                   "s3_pay_reverses_losses", "headline_rate_110_at_6c", "headline_cost_vs_expert",
                   "fig2d_crowd_trained_vs_expert_trained", "fig2d_both_beat_otsu", "s4_crowd_trained_beats_single_workers"] {
            XCTAssertTrue(ids.contains(id), id)
        }
        for c in r.claims where ["fig1c_crowd_precision", "fig1e_median_click_period_s", "s2_top20_share_of_images"].contains(c.id) {
            XCTAssertEqual(c.holds, abs(c.simulated - c.paper) <= c.tolerance)
        }
        // The teaching report: one chart of every claim (a row each) and the paper's own figures.
        let html = Paper.html(r)
        XCTAssertTrue(html.contains("Every claim against the paper's tolerance"))
        for c in r.claims { XCTAssertTrue(html.contains(">\(c.id)</text>"), "a row for \(c.id)") }
        for figure in ["Fig. 1c:", "Fig. 1d:", "Fig. 1e:", "Fig. 1f:", "Fig. S1:", "Fig. S2:", "Fig. S3: recall", "Fig. S3: images attempted", "Fig. S3: annotations per hour",
                       "Fig. 2d:", "F against crowd-labelled training frames"] {
            XCTAssertTrue(html.contains(figure), figure)
        }
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 12, "the claims chart and eleven figures, no chart per claim")
        let dir = NSTemporaryDirectory() + "crowdlab-paper-" + UUID().uuidString
        for e in r.experiments {
            let d = dir + "/" + e.name
            try FileManager.default.createDirectory(atPath: d + "/truth", withIntermediateDirectories: true)
            try ExportWriter.encode(e.outcome.simulation.export).write(to: URL(fileURLWithPath: d + "/export.json"))
            for (name, csv) in Paper.truthFiles(e.outcome) { try csv.write(toFile: d + "/truth/" + name, atomically: true, encoding: .utf8) }
        }
        func reanalyse(_ name: String, matchRadius: Double = 8) throws -> AnalysisResult {
            let e = try ExportReader.read(path: "\(dir)/\(name)/export.json")
            var options = AnalysisOptions()
            options.matchRadius = matchRadius
            return Analysis.run(export: e, truth: try TruthSet.load(path: "\(dir)/\(name)/truth", export: e), options: options)
        }
        // The transwell experiments match clicks to 13 px cells at 10 px (`--match-radius 10`).
        let tw = try reanalyse("fig1c-transwell", matchRadius: 10)
        XCTAssertEqual(tw.crowd.medianClickPeriodS, r.claims.first { $0.id == "fig1e_median_click_period_s" }!.simulated)
        XCTAssertEqual(tw.crowd.medianWorkerRmsePx!, r.claims.first { $0.id == "fig1e_median_rmse_px" }!.simulated, accuracy: 1e-9)
        // Fig. S1 is drawn from the ten-worker export: all ten give the crowd's own F1, one gives less.
        let crowdF1 = r.experiments.first { $0.name == "fig1c-transwell" }!.outcome.analysis.overall!.f1
        XCTAssertEqual(r.groupSizeF1.map(\.0), [1, 2, 3, 5, 10])
        XCTAssertEqual(r.groupSizeF1.last!.1, crowdF1, accuracy: 1e-9)
        XCTAssertLessThan(r.groupSizeF1.first!.1, crowdF1)
        XCTAssertEqual(r.claims.first { $0.id == "s1_group_size_plateau" }!.simulated, r.groupSizeF1[2].1 - crowdF1, accuracy: 1e-9)
        XCTAssertEqual(r.claims.first { $0.id == "fig1c_workers_beating_threshold_pipeline" }!.simulated,
                       Double(r.fig1c.workers.filter(\.beats).count) / Double(r.fig1c.workers.count), accuracy: 1e-12)
        let part = try reanalyse("s2-participation")
        XCTAssertEqual(part.crowd.top20ShareOfImages, r.claims.first { $0.id == "s2_top20_share_of_images" }!.simulated, accuracy: 1e-12)
    }
}

final class AdaptiveScenarioTests: XCTestCase {
    /// job.policy: adaptive simulates up to the cap, pays for what the policy asks, and is seeded.
    func testAnAdaptiveJobPaysOnlyForTheWorkersItAsks() throws {
        var s = Scenario(name: "adaptive")
        s.images = 6; s.objects = 40...120; s.policy = .adaptive; s.adaptive.cap = 12; s.overlays = 0
        let a = try LabRun.run(s, keepPhantoms: false), b = try LabRun.run(s, keepPhantoms: false)
        XCTAssertEqual(ExportWriter.encode(a.simulation.export), ExportWriter.encode(b.simulation.export), "same seed, same job")
        XCTAssertGreaterThanOrEqual(a.assignments, 6 * 3); XCTAssertLessThanOrEqual(a.assignments, 6 * 12)
        XCTAssertEqual(a.simulation.export.records.count, a.assignments, "the export holds what was paid for")
        XCTAssertEqual(a.cost.rewards, Double(a.assignments) * 0.02, accuracy: 1e-9)
        let perImage = Dictionary(grouping: a.simulation.export.records, by: \.imageFilename).mapValues(\.count)
        XCTAssertGreaterThan(Set(perImage.values).count, 1, "images differ in how many workers they needed: \(perImage)")
    }

    /// The phantoms' pixels heard for the candidates the vote of six workers turned down.
    func testImageEvidenceInAScenarioRaisesRecallOnItsPhantoms() throws {
        var s = Scenario(name: "evidence")
        s.images = 6; s.objects = 20...150; s.snr = 5...20; s.background = .tissue; s.replicates = 6; s.overlays = 0
        let vote = try LabRun.run(s, keepPhantoms: false)
        s.imageEvidence = true
        let heard = try LabRun.run(s, keepPhantoms: false)
        XCTAssertEqual(ExportWriter.encode(vote.simulation.export), ExportWriter.encode(heard.simulation.export), "the same crowd")
        let (v, h) = (vote.analysis.overall!, heard.analysis.overall!)
        XCTAssertGreaterThan(h.tp, v.tp, "true objects found: \(v.tp) → \(h.tp)")
        XCTAssertGreaterThan(h.precision, v.precision - 0.01, "precision \(v.precision) → \(h.precision)")
        XCTAssertGreaterThan(EvidenceTotals(heard.analysis.consensus).admitted, 0)
        XCTAssertThrowsError(try s.pointMethod()) { e in XCTAssertTrue("\(e)".contains("analysis.image_evidence"), "\(e)") }
    }

    func testPolicyKeysAreReadAndCheckedWithTheLine() throws {
        let dir = NSTemporaryDirectory() + "crowdlab-policy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "name: p\njob:\n  policy: adaptive\n  adaptive_start: 4\n  adaptive_cap: 9\n  adaptive_threshold: 0.2\n".write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
        let s = try Scenario.load(path: dir + "/p.yaml")
        XCTAssertEqual(s.replicatePolicy.description, "adaptive:4,9,0.2")
        try "name: q\njob:\n  policy: lean\n".write(toFile: dir + "/q.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: dir + "/q.yaml")) { e in XCTAssertTrue("\(e)".contains("line 3, field job.policy: \"lean\" is not one of fixed, adaptive"), "\(e)") }
        XCTAssertThrowsError(try Scenario.load(path: dir + "/p.yaml", overrides: ["job.adaptive_cap=2"])) { e in
            XCTAssertTrue("\(e)".contains("field job.adaptive_cap: the cap must be at least the start (4)"), "\(e)")
        }
    }
}

final class ScenarioCopyTests: XCTestCase {
    /// A shipped scenario copied out of Scenarios/ still loads: it names a built-in population.
    func testACopiedScenarioRunsFromAnyFolder() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let dir = NSTemporaryDirectory() + "crowdlab-copy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["spots-quickstart", "paper-fig1c-transwell"] {
            try FileManager.default.copyItem(atPath: url.path + "/Scenarios/\(name).yaml", toPath: dir + "/\(name).yaml")
            let s = try Scenario.load(path: dir + "/\(name).yaml")
            XCTAssertEqual(s.population, name == "spots-quickstart" ? Population() : Paper.transwellCrowd, name)
        }
        try "name: x\ncrowd:\n  population: mine.yaml\n".write(toFile: dir + "/x.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: dir + "/x.yaml")) { e in
            XCTAssertTrue("\(e)".contains("relative to the scenario's folder; built-in populations: paper, transwell, experts"), "\(e)")
        }
    }
}

final class PaperScenarioFilesTests: XCTestCase {
    /// Each experiment `crowdlab paper` runs is shipped as Scenarios/paper-<name>.yaml: what a user
    /// runs with `crowdlab run` is what the paper report measured.
    func testShippedPaperScenariosAreThePapersExperiments() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        XCTAssertEqual(Paper.experiments.count, 4)
        for (name, built) in Paper.experiments {
            let s = try Scenario.load(path: url.path + "/Scenarios/paper-\(name).yaml")
            XCTAssertEqual(s.name, "paper-" + name)
            XCTAssertEqual(s.sceneKind, built.sceneKind, name); XCTAssertEqual(s.images, built.images, name)
            XCTAssertEqual(s.objects, built.objects, name); XCTAssertEqual(s.snr, built.snr, name)
            XCTAssertEqual(s.width, built.width, name); XCTAssertEqual(s.height, built.height, name)
            XCTAssertEqual(s.background, built.background, name); XCTAssertEqual(s.sigma, built.sigma, name)
            XCTAssertEqual(s.poreSpacing, built.poreSpacing, name)
            XCTAssertEqual(s.population, built.population, name)
            XCTAssertEqual(s.replicates, built.replicates, name); XCTAssertEqual(s.pay, built.pay, name)
            XCTAssertEqual(s.method, built.method, name); XCTAssertEqual(s.subtractiveRadius, built.subtractiveRadius, name)
            XCTAssertEqual(s.matchRadius, built.matchRadius, name)
        }
        XCTAssertNotEqual(Paper.experiments["fig1c-experts"]!.population, Paper.experiments["fig1c-transwell"]!.population)
    }
}

final class TranswellPopulationTests: XCTestCase {
    /// The scenario file and `crowdlab paper` use the same transwell crowd.
    func testShippedTranswellPopulationIsThePapers() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let shipped = try Population.load(path: url.path + "/Scenarios/populations/transwell.yaml")
        XCTAssertEqual(shipped, Paper.transwellCrowd)
        XCTAssertNotEqual(shipped, Population(), "it differs from the spot-calibrated default")
    }
}
