import Foundation
import XCTest
@testable import Consensus
import Randomness

/// Replicate policies on a real export played back.
final class ReplayTests: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    func load(_ set: String) throws -> (QuantiusExport, TruthSet) {
        let e = try ExportReader.read(path: Self.root + "/Data/quanti-us/\(set)/export.json")
        return (e, try TruthSet.load(path: Self.root + "/Data/quanti-us/\(set)", export: e))
    }

    func testPoliciesParseAndRefuseBadStrings() throws {
        XCTAssertEqual(try ReplicatePolicies.parse("fixed:7").description, "fixed:7")
        XCTAssertEqual(try ReplicatePolicies.parse("adaptive").description, "adaptive:3,15,0.15")
        XCTAssertEqual(try ReplicatePolicies.parse("adaptive:2,9,0.3").description, "adaptive:2,9,0.3")
        for (bad, why) in [("fixed", "expected fixed:K"), ("fixed:0", "expected fixed:K"), ("adaptive:5,3,0.1", "CAP at least START"),
                           ("adaptive:3,15", "expected adaptive or adaptive:START,CAP,THRESHOLD"), ("lean", "unknown policy")] {
            XCTAssertThrowsError(try ReplicatePolicies.parse(bad)) { e in
                XCTAssertTrue("\(e)".hasPrefix("--policy: \"\(bad)\": "), "\(e)")
                XCTAssertTrue("\(e)".contains(why), "\(e)")
            }
        }
    }

    func testFixedTakesKWorkersPerImageAndTheSameSeedTheSameChoice() throws {
        let (e, _) = try load("synth-cells")
        let a = Replay.run(e, policy: FixedReplicates(workers: 4), seed: 3), b = Replay.run(e, policy: FixedReplicates(workers: 4), seed: 3)
        XCTAssertEqual(a.assignments, 9 * 4)
        XCTAssertTrue(a.workersPerImage.values.allSatisfy { $0 == 4 })
        XCTAssertEqual(ExportWriter.encode(a.export), ExportWriter.encode(b.export), "same seed, same submissions")
        XCTAssertNotEqual(ExportWriter.encode(a.export), ExportWriter.encode(Replay.run(e, policy: FixedReplicates(workers: 4), seed: 4).export))
        // The chosen submissions are real ones, unchanged.
        let real = Set(e.records.map { $0.workerID + "|" + $0.imageFilename })
        XCTAssertTrue(a.export.records.allSatisfy { real.contains($0.workerID + "|" + $0.imageFilename) })
    }

    /// The curve plays every fixed design over the same orders: each costs K per image, F1 climbs
    /// with K on a real crowd, and the fixed curve is read back between its designs.
    func testTheCurvePlaysEachFixedDesignAndReadsItBack() throws {
        let (e, t) = try load("synth-cells")
        let c = ReplayCurve.run(e, truth: t, policies: [AdaptiveReplicates()], fixedRange: 3...6, seed: 1, orders: 2)
        XCTAssertEqual(c.fixed.map(\.fixedWorkers), [3, 4, 5, 6])
        for p in c.fixed { XCTAssertEqual(p.assignments, [9 * p.fixedWorkers!, 9 * p.fixedWorkers!]) }
        XCTAssertEqual(c.others.map(\.policy), ["adaptive:3,15,0.15"])
        let f1 = c.fixed.map(\.meanF1)
        XCTAssertEqual(f1, f1.sorted(), "more workers, higher F1: \(f1)")
        XCTAssertGreaterThan(f1.last! - f1.first!, 0.1)
        XCTAssertEqual(c.fixedAssignments(reaching: f1[1])!, 36, accuracy: 1e-9)
        let between = try XCTUnwrap(c.fixedAssignments(reaching: (f1[1] + f1[2]) / 2))
        XCTAssertEqual(between, 40.5, accuracy: 1e-9)
        XCTAssertEqual(c.fixedF1(at: 40.5)!, (f1[1] + f1[2]) / 2, accuracy: 1e-9)
        XCTAssertNil(c.fixedAssignments(reaching: f1.last! + 0.01), "above every fixed design")
        XCTAssertNil(c.fixedF1(at: 200))
        // Each design's errors by cause add up to its misses, order by order; more workers leave
        // fewer objects that no worker clicked.
        for p in c.points {
            XCTAssertEqual(p.errors.count, 2)
            for (o, e) in p.errors.enumerated() { XCTAssertEqual(e.missed, p.imageScores[o].values.reduce(0) { $0 + $1.fn }) }
        }
        let notClicked = c.fixed.map { $0.meanErrors![0] }
        XCTAssertEqual(ErrorBreakdown.causes[0].key, "missed_not_clicked")
        XCTAssertEqual(notClicked, notClicked.sorted(by: >), "\(notClicked)")
        // Designs past the most workers an image has are not played (they would repeat the last).
        let (s, st) = try load("smfish-inverted")
        XCTAssertEqual(ReplayCurve.run(s, truth: st, policies: [], fixedRange: 29...40, seed: 1, orders: 1).fixed.map(\.fixedWorkers), [29, 30])
    }

    /// Several exports as one job: each design's orders add their assignments, and F1 comes from the
    /// pooled counts of every image, not the mean of the exports' F1; one curve pooled alone is itself.
    func testCurvesOfSeveralExportsPoolTheirCounts() throws {
        let (e, t) = try load("synth-cells"), (s, st) = try load("smfish-inverted")
        let cells = ReplayCurve.run(e, truth: t, policies: [AdaptiveReplicates()], fixedRange: 3...5, seed: 2, orders: 2)
        let fish = ReplayCurve.run(s, truth: st, policies: [AdaptiveReplicates()], fixedRange: 3...5, seed: 2, orders: 2)
        let alone = try XCTUnwrap(ReplayCurve.pooled([cells]))
        for (a, b) in zip(alone.points, cells.points) {
            XCTAssertEqual(a.assignments, b.assignments)
            for (x, y) in zip(a.f1, b.f1) { XCTAssertEqual(x, y, accuracy: 1e-12, "an export's F1 is its images' counts pooled") }
        }
        let job = try XCTUnwrap(ReplayCurve.pooled([cells, fish]))
        XCTAssertEqual(job.points.map(\.policy), cells.points.map(\.policy))
        for (k, p) in job.points.enumerated() {
            let a = cells.points[k], b = fish.points[k]
            XCTAssertEqual(p.assignments, zip(a.assignments, b.assignments).map(+))
            XCTAssertEqual(p.imageScores[0].count, 12)
            for o in 0..<2 {
                let sum = (Array(a.imageScores[o].values) + Array(b.imageScores[o].values)).reduce(DetectionScore(), +)
                XCTAssertEqual(p.f1[o], sum.f1, accuracy: 1e-12)
                // Not the mean of the two exports' F1: synth-cells' 900 spots outweigh the fields' 643.
                XCTAssertNotEqual(p.f1[o], (a.f1[o] + b.f1[o]) / 2, accuracy: 1e-6)
                XCTAssertEqual(p.errors[o].missed, sum.fn)
            }
        }
        // The oracle chooses among the images of both.
        XCTAssertEqual(job.oracle(reference: 5)?.workers.count, 12)
        // Curves of other designs do not pool.
        let other = ReplayCurve.run(s, truth: st, policies: [], fixedRange: 3...5, seed: 2, orders: 2)
        XCTAssertNil(ReplayCurve.pooled([cells, other]))
        XCTAssertNil(ReplayCurve.pooled([]))
    }

    /// A policy the caller has already played joins the curve as if the curve had played it: the
    /// same orders, assignments, F1 and per-image figures, ahead of the policies still to play.
    func testAPolicyAlreadyPlayedJoinsTheCurveUnchanged() throws {
        let (e, t) = try load("synth-tissue")
        let adaptive = AdaptiveReplicates(), other = try ReplicatePolicies.parse("adaptive:3,10,0.075")
        let played = ReplayCurve.run(e, truth: t, policies: [adaptive, other], fixedRange: 3...4, seed: 3, orders: 2)
        var given = ReplayCurve.Point(policy: adaptive.description)
        for o in 0..<2 {
            let r = Replay.run(e, policy: adaptive, seed: 3 + UInt64(o))
            given.record(r, Analysis.run(export: r.export, truth: t))
        }
        var progress: [Int] = []
        let joined = ReplayCurve.run(e, truth: t, policies: [other], played: [given], fixedRange: 3...4, seed: 3, orders: 2) { done, total in
            progress.append(done); XCTAssertEqual(total, 3, "two fixed designs and one policy are played")
        }
        XCTAssertEqual(progress, [1, 2, 3])
        XCTAssertEqual(joined.points.map(\.policy), played.points.map(\.policy))
        for (a, b) in zip(joined.points, played.points) {
            XCTAssertEqual(a.assignments, b.assignments, a.policy)
            XCTAssertEqual(a.f1, b.f1, a.policy)
            XCTAssertEqual(a.imageWorkers, b.imageWorkers, a.policy)
            XCTAssertEqual(a.imageScores.map { $0.mapValues(\.tp) }, b.imageScores.map { $0.mapValues(\.tp) }, a.policy)
        }
        XCTAssertLessThan(given.meanAssignments, 90, "adaptive stopped some images early")
    }

    /// A fixed design already played takes its place among the fixed ones and is not played again.
    func testAFixedDesignAlreadyPlayedTakesItsPlaceOnTheCurve() throws {
        let (e, t) = try load("synth-cells")
        let played = ReplayCurve.run(e, truth: t, policies: [], fixedRange: 3...5, seed: 7, orders: 2)
        var given = ReplayCurve.Point(policy: "fixed:4", fixedWorkers: 4)
        for o in 0..<2 {
            let r = Replay.run(e, policy: FixedReplicates(workers: 4), seed: 7 + UInt64(o))
            given.record(r, Analysis.run(export: r.export, truth: t))
        }
        var totals: [Int] = []
        let joined = ReplayCurve.run(e, truth: t, policies: [], played: [given], fixedRange: 3...5, seed: 7, orders: 2) { _, total in
            totals.append(total)
        }
        XCTAssertEqual(totals, [2, 2], "fixed:3 and fixed:5 are played, fixed:4 is not")
        XCTAssertEqual(joined.points.map(\.policy), ["fixed:3", "fixed:4", "fixed:5"])
        XCTAssertEqual(joined.points.map(\.f1), played.points.map(\.f1))
        XCTAssertEqual(joined.points.map(\.assignments), played.points.map(\.assignments))
        XCTAssertEqual(joined.points[1].assignments, [36, 36], "four workers on each of nine images")
        let outside = ReplayCurve.run(e, truth: t, policies: [], played: [ReplayCurve.Point(policy: "fixed:20", fixedWorkers: 20)],
                                      fixedRange: 3...4, seed: 7, orders: 2)
        XCTAssertEqual(outside.points.map(\.policy), ["fixed:3", "fixed:4"], "a fixed design outside the range stays off the curve")
    }

    /// A gap to the reference is taken order by order: an order that lifts both designs alike
    /// adds nothing to its error, and unmatched orders give none.
    func testTheGapToTheReferenceIsPairedOverTheOrders() throws {
        let ref = ReplayCurve.Point(policy: "fixed:10", fixedWorkers: 10, assignments: [90, 90, 90], f1: [0.70, 0.90, 0.80])
        let p = ReplayCurve.Point(policy: "adaptive", fixedWorkers: nil, assignments: [70, 72, 68], f1: [0.69, 0.88, 0.80])
        let c = ReplayCurve(points: [ref, p])
        let gap = try XCTUnwrap(c.difference(p, from: ref))
        XCTAssertEqual(gap.mean, -0.01, accuracy: 1e-12)
        XCTAssertEqual(gap.standardError, (0.0001 / 3).squareRoot(), accuracy: 1e-12, "differences -0.01, -0.02, 0: SD 0.01")
        XCTAssertGreaterThan(p.sdF1, 10 * gap.standardError, "the orders move F1 far more than they move the gap")
        XCTAssertNil(c.difference(ReplayCurve.Point(policy: "x", fixedWorkers: nil, assignments: [1, 1], f1: [0.5, 0.6]), from: ref))
        XCTAssertNil(c.difference(ReplayCurve.Point(policy: "y", fixedWorkers: nil, assignments: [1], f1: [0.5]),
                                  from: ReplayCurve.Point(policy: "z", fixedWorkers: 10, assignments: [1], f1: [0.6])))
    }

    /// The oracle's allocation is the cheapest of all per-image choices that reaches the reference's
    /// F1 less the tolerance: checked against every one of the 4^9 allocations on a real crowd.
    func testTheOracleIsTheCheapestAllocationReachingTheReference() throws {
        let (e, t) = try load("synth-cells")
        let c = ReplayCurve.run(e, truth: t, policies: [], fixedRange: 3...6, seed: 1, orders: 2)
        let o = try XCTUnwrap(c.oracle(reference: 6, tolerance: 0.01))
        XCTAssertNil(c.oracle(reference: 10), "fixed:10 was not played")
        let images = o.workers.keys.sorted()
        XCTAssertEqual(images.count, 9)
        // Each image's tp, fp, fn per design, summed over the two orders (the oracle's mean, doubled).
        let counts: [[DetectionScore]] = images.map { im in c.fixed.map { p in p.imageScores.reduce(DetectionScore()) { $0 + $1[im]! } } }
        func f1(_ s: DetectionScore) -> Double { Double(2 * s.tp) / Double(2 * s.tp + s.fp + s.fn) }
        let goal = f1(counts.reduce(DetectionScore()) { $0 + $1[3] }) - 0.01
        XCTAssertEqual(o.targetF1, goal, accuracy: 1e-12)
        XCTAssertEqual(o.referenceAssignments, 54)
        var cheapest = Int.max
        for code in 0..<(1 << 18) {
            var total = 0, pooled = DetectionScore()
            for i in 0..<9 { let j = (code >> (2 * i)) & 3; total += 3 + j; pooled = pooled + counts[i][j] }
            if total < cheapest && f1(pooled) >= goal { cheapest = total }
        }
        XCTAssertEqual(o.assignments, cheapest)
        XCTAssertLessThan(o.assignments, 54, "images differ, so some need fewer than six workers")
        let chosen = images.indices.reduce(DetectionScore()) { $0 + counts[$1][o.workers[images[$1]]! - 3] }
        XCTAssertGreaterThanOrEqual(f1(chosen), goal)
        XCTAssertEqual(o.workers.values.reduce(0, +), o.assignments)
        // Knowing each order's workers as well can only need fewer.
        XCTAssertEqual(o.perOrderAssignments.count, 2)
        XCTAssertLessThanOrEqual(o.perOrderShare, o.share)
    }

    /// Three workers who clicked but agree on nothing have not settled an image; three who clicked
    /// nothing have settled it as empty.
    func testAnImageWhoseWorkersAgreeOnNothingIsNotSettled() throws {
        let (e, _) = try load("synth-cells")
        let crowded = e.records.filter { $0.imageFilename.contains("nspots150_spot_sig1.75_snr5") }
        let fewest = Array(crowded.sorted { $0.vertexCount < $1.vertexCount }.prefix(3))
        XCTAssertEqual(fewest.map(\.vertexCount), [1, 4, 10], "the three who clicked least of 150 spots")
        let policy = AdaptiveReplicates()
        let disagreeing = try XCTUnwrap(AgreementConsensus().consensus(ClickJob(export: QuantiusExport(records: fewest))).first)
        XCTAssertTrue(disagreeing.points.isEmpty, "no spot has two of them")
        XCTAssertEqual(Settledness(disagreeing).candidates, 15, "each click a candidate of its own")
        XCTAssertTrue(policy.wantsAnother(disagreeing, workers: 3))
        let silent = fewest.map { r -> ExportRecord in var r = r; r.rawData = []; return r }
        let empty = try XCTUnwrap(AgreementConsensus().consensus(ClickJob(export: QuantiusExport(records: silent))).first)
        XCTAssertEqual(Settledness(empty).uncertainty, 0)
        XCTAssertFalse(policy.wantsAnother(empty, workers: 3))
    }

    /// Adaptive asks more workers where the consensus is unsettled: it stays within start and cap,
    /// stops some images before the cap, and at its own cost it does better than the fixed designs
    /// around it (the fixed curve between the designs on either side of its assignments), over
    /// twenty orders: on three smFISH fields five orders move either figure by more than the gap.
    func testAdaptiveSpendsWhereTheConsensusIsUnsettled() throws {
        let (e, t) = try load("smfish-inverted")
        let curve = ReplayCurve.run(e, truth: t, policies: [AdaptiveReplicates()], fixedRange: 8...15, seed: 1, orders: 20)
        let adaptive = try XCTUnwrap(curve.others.first)
        XCTAssertTrue(adaptive.imageWorkers.allSatisfy { $0.values.allSatisfy { (3...15).contains($0) } })
        XCTAssertLessThan(adaptive.meanAssignments, 3 * 15 - 3, "images stop before the cap")
        let fixed = try XCTUnwrap(curve.fixedF1(at: adaptive.meanAssignments))
        XCTAssertGreaterThan(adaptive.meanF1, fixed + 0.01, "adaptive F1 \(adaptive.meanF1) at \(adaptive.meanAssignments) assignments; fixed designs \(fixed)")
    }

    /// An export of outlines is played back by its outlines: all its workers give the shape
    /// consensus of the whole export, and the adaptive policy measures each image on the groups the
    /// outlines' centroids form (three workers leave the densest image unsettled, where clicks
    /// measured on outline records would find nothing to settle), asking more where it is crowded.
    func testAnOutlineExportIsReplayedByItsOutlines() throws {
        let (e, t) = try load("circle-spots")
        XCTAssertEqual(Replay.Tool(of: e), .polygon)
        let all = Replay.run(e, policy: FixedReplicates(workers: 25), seed: 1)
        XCTAssertEqual(all.assignments, 400)
        let replayed = Replay.analyse(all, truth: t)
        let whole = try XCTUnwrap(ShapeAnalysis.run(export: e, pointTruth: t, shapeTruth: nil).score)
        XCTAssertNil(replayed.points)
        XCTAssertEqual(replayed.overall, whole)
        XCTAssertGreaterThan(whole.f1, 0.85)
        XCTAssertEqual(replayed.imageObjects.values.reduce(0) { $0 + $1.xs.count }, whole.tp + whole.fp)

        let densest = e.records.filter { $0.imageFilename == "snr_10_0_density_0.008_spot_img.png" }
        let firstThree = Array(densest.prefix(3))
        XCTAssertTrue(AgreementConsensus().consensus(ClickJob(export: QuantiusExport(records: firstThree))).allSatisfy { $0.candidateSupports.isEmpty },
                      "outline records hold no clicks")
        XCTAssertTrue(Replay.wantsAnother(firstThree, policy: AdaptiveReplicates()))
        XCTAssertFalse(Replay.wantsAnother(Array(densest.prefix(15)), policy: AdaptiveReplicates()), "at the cap")

        let curve = ReplayCurve.run(e, truth: t, policies: [AdaptiveReplicates()], fixedRange: 10...15, seed: 1, orders: 5)
        let adaptive = try XCTUnwrap(curve.others.first)
        let used = adaptive.imageWorkers.flatMap(\.values)
        XCTAssertTrue(used.allSatisfy { (3...15).contains($0) })
        XCTAssertTrue(used.contains { $0 < 15 } && used.contains(15), "some images stop before the cap, some reach it: \(used)")
        let sparse = adaptive.imageWorkers.flatMap { $0.filter { $0.key.contains("density_0.002") }.values }
        let dense = adaptive.imageWorkers.flatMap { $0.filter { $0.key.contains("density_0.008") }.values }
        XCTAssertLessThan(Consensus.mean(sparse.map(Double.init)), Consensus.mean(dense.map(Double.init)), "fewer workers where objects are few")
        XCTAssertEqual(curve.fixed.map(\.fixedWorkers), Array(10...15))
        let f1 = curve.fixed.map(\.meanF1)
        XCTAssertGreaterThan(f1.last!, f1.first!, "more outliners, more objects found: \(f1)")
    }
}

/// The verify stage's aggregation: verifiers' coins fitted by EM decide the questions.
final class VerifyStageTests: XCTestCase {
    func testTheVerifiersCoinsOutweighACarelessMajority() {
        // 200 points, half objects. Two careful verifiers (right 95 % of the time) and three who
        // say yes to nearly everything: a plain majority says yes to every point.
        let rng = SeededRandom(seed: 12)
        let truth = (0..<200).map { $0 % 2 == 0 }
        let answers: [[VerifyStage.Answer]] = truth.map { isObject in
            var list: [VerifyStage.Answer] = []
            for w in ["careful-1", "careful-2"] { list.append(.init(worker: w, yes: (rng.uniform() < 0.95) == isObject)) }
            for w in ["yes-1", "yes-2", "yes-3"] { list.append(.init(worker: w, yes: rng.uniform() < (isObject ? 0.97 : 0.85))) }
            return list
        }
        let majority = answers.map { $0.filter(\.yes).count >= 3 }
        let q = VerifyStage().posteriors(answers)
        let em = q.map { $0 >= 0.5 }
        let right = zip(em, truth).filter { $0 == $1 }.count, majorityRight = zip(majority, truth).filter { $0 == $1 }.count
        XCTAssertLessThan(majorityRight, 140, "the majority is fooled")
        XCTAssertGreaterThan(right, 185, "the coins find who to believe: \(right) of 200")
    }

    func testQuestionsAreTheBareObjectsAndNearMissesAndApplyDecidesThem() {
        func point(_ x: Double, _ w: Double) -> ConsensusPoint { ConsensusPoint(x: x, y: 0, support: Int(w), weightedSupport: w, members: []) }
        var d = MethodDiagnostics(); d.minWeightedSupport = 4
        var c = ImageConsensus(image: "a.png", points: [point(1, 9), point(2, 4.2)], candidateSupports: [9, 4, 3], diagnostics: d)
        c.nearMisses = [point(3, 3.1)]
        let stage = VerifyStage()
        let qs = stage.questions([c])
        XCTAssertEqual(qs.map(\.x), [2, 3], "the sure object is not asked about")
        XCTAssertEqual(qs.map(\.acceptedFirst), [true, false])
        let out = stage.apply([c], questions: qs, posteriors: [0.1, 0.9])
        XCTAssertEqual(out[0].points.map(\.x), [1, 3], "the bare object turned down, the near miss confirmed")
        XCTAssertEqual(out[0].points[1].confidence, 0.9)
        XCTAssertEqual(stage.assignments(questions: 21), 9, "3 HITs of 10 questions, 3 verifiers each")
    }
}
