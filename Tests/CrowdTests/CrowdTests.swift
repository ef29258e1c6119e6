import Foundation
import XCTest
@testable import Consensus
@testable import Crowd
@testable import Phantoms

final class CrowdTests: XCTestCase {
    func tasks(_ n: Int, objects: Int = 100) -> [ImageTask] {
        var scene = SpotsScene()
        scene.count = objects...objects
        return (0..<n).map { i in
            let p = scene.render(seed: UInt64(i))
            return ImageTask(name: "img\(i).png", width: 300, height: 300, xs: p.truth.map(\.col),
                             ys: p.truth.map { 300 - $0.row }, visibility: p.truth.map(\.snr))
        }
    }

    func testSameSeedSameExportBytesOtherSeedOther() {
        let t = tasks(6)
        let a = ExportWriter.encode(CrowdSimulation(population: Population(), replicates: 5, pay: 0.02, seed: 3).run(t).export)
        let b = ExportWriter.encode(CrowdSimulation(population: Population(), replicates: 5, pay: 0.02, seed: 3).run(t).export)
        let c = ExportWriter.encode(CrowdSimulation(population: Population(), replicates: 5, pay: 0.02, seed: 4).run(t).export)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    /// Workers are simulated in parallel and records encoded in parallel runs: one thread or all
    /// must give the same file, byte for byte.
    func testSameSeedSameFileOnOneThreadOrAll() throws {
        let t = tasks(12, objects: 60)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crowdlab-threads-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var files: [Data] = []
        for threads in [1, 0] {
            Parallelism.maxThreads = threads
            defer { Parallelism.maxThreads = 0 }
            let export = CrowdSimulation(population: Population(), replicates: 6, pay: 0.02, seed: 9).run(t).export
            let path = dir + "/export-\(threads).json"
            try ExportWriter.write(export, to: path)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(files.last, ExportWriter.encode(export))
        }
        XCTAssertGreaterThan(files[0].count, 10_000)
        XCTAssertEqual(files[0], files[1])
    }

    func testExportHasThePortalSchemaAndReplicates() throws {
        let r = CrowdSimulation(population: Population(), replicates: 7, pay: 0.02, seed: 1).run(tasks(4))
        let back = try ExportReader.decode(ExportWriter.encode(r.export), fileName: "sim.json")
        XCTAssertEqual(back.records.count, 28)
        for (name, recs) in back.recordsByImage() {
            XCTAssertEqual(Set(recs.map(\.workerID)).count, 7, "distinct workers per image \(name)")
            for rec in recs {
                XCTAssertEqual(rec.annotationType, .crosshairs)
                XCTAssertNotNil(rec.timeWhenCompleted)
                for v in rec.allVertices { XCTAssertTrue((0...300).contains(v.y) && v.x == v.x.rounded()) }
            }
        }
    }

    func testClicksLandOnObjectsWithPopulationError() {
        var pop = Population()
        pop.carelessShare = 0; pop.falsePositiveFirst = 0; pop.falsePositiveLater = 0
        pop.rmseMedian = 2; pop.rmseLogSD = 0; pop.activityErrorExponent = 0
        let t = tasks(3)
        let r = CrowdSimulation(population: pop, replicates: 10, pay: 0.05, seed: 2).run(t)
        var d2: [Double] = []
        for rec in r.export.records {
            let task = t.first { $0.name == rec.imageFilename }!
            for v in rec.allVertices { d2.append(zip(task.xs, task.ys).map { ($0 - v.x) * ($0 - v.x) + ($1 - v.y) * ($1 - v.y) }.min()!) }
        }
        let rmse = (d2.reduce(0, +) / Double(d2.count)).squareRoot()
        XCTAssertEqual(rmse, 2.1, accuracy: 0.4, "radial RMSE 2 px plus rounding to whole pixels")
    }

    func testDetectionRisesWithSNR() {
        var pop = Population()
        pop.carelessShare = 0
        let bands: [Double] = [0, 6, 10, 100]
        let t = tasks(6)
        let r = CrowdSimulation(population: pop, replicates: 10, pay: 0.05, seed: 5).run(t)
        var truth = TruthSet(byImage: [:], imagesWithoutTruth: [], unusedTruthFiles: [])
        for task in t { truth.byImage[task.name] = TruthPoints(xs: task.xs, ys: task.ys, snr: task.visibility, source: task.name) }
        let d = CrowdComparison.detectionBySNR(export: r.export, truth: truth, bands: bands)
        XCTAssertLessThan(d[0].rate, d[1].rate)
        XCTAssertLessThan(d[1].rate, d[2].rate)
    }

    func testFalsePositivesFallWithExperience() {
        var pop = Population()
        pop.carelessShare = 0; pop.falsePositiveFirst = 0.2; pop.falsePositiveLater = 0.02; pop.learningAnnotations = 50
        let a = Annotator(population: pop)
        let w = WorkerAgent(id: "A", activity: 1, plateau: 1, rmse: 1, period: 1, careless: false)
        XCTAssertEqual(a.falsePositiveRate(w, 0), 0.2, accuracy: 1e-12)
        XCTAssertEqual(a.falsePositiveRate(w, 25), 0.11, accuracy: 1e-12)
        XCTAssertEqual(a.falsePositiveRate(w, 500), 0.02, accuracy: 1e-12)
    }

    func testParetoParticipation() {
        // A large job (many images, few replicates): the most active fifth of the workers does most
        // of the work. (In a small job the busiest run out of images or of time, so it is less so.)
        // Participation does not depend on what is in the images: plain tasks, no phantoms rendered.
        let plain = (0..<600).map { i in
            ImageTask(name: "img\(i).png", width: 300, height: 300, xs: (0..<30).map { Double(10 * $0 + 5) },
                      ys: (0..<30).map { Double((37 * $0 + i) % 290 + 5) }, visibility: Array(repeating: 15, count: 30))
        }
        let r = CrowdSimulation(population: Population(), replicates: 3, pay: 0.05, seed: 9).run(plain)
        let counts = r.imagesPerWorker.sorted(by: >)
        let top = counts.prefix(max(1, Int((Double(counts.count) * 0.2).rounded(.up)))).reduce(0, +)
        let share = Double(top) / Double(counts.reduce(0, +))
        XCTAssertGreaterThan(share, 0.55, "top 20 % share \(share)")
    }

    /// Images far above what the pay tolerates: almost every visitor declines, yet every image
    /// still gets its replicates, each from a different worker (nothing is silently left undone).
    func testAJobNearlyEveryoneDeclinesStillCompletes() {
        let crowded = (0..<3).map { i in
            ImageTask(name: "img\(i).png", width: 300, height: 300, xs: (0..<600).map { Double($0 % 30 * 10 + 5) },
                      ys: (0..<600).map { Double($0 / 30 * 14 + 5) }, visibility: Array(repeating: 15, count: 600))
        }
        let r = CrowdSimulation(population: Population(), replicates: 3, pay: 0.02, seed: 2, poolSize: 40).run(crowded)
        XCTAssertGreaterThan(r.declinedArrivals, 20, "acceptance (60/600)^3 = 0.001")
        XCTAssertEqual(r.export.records.count, 9)
        for (_, recs) in r.export.recordsByImage() { XCTAssertEqual(Set(recs.map(\.workerID)).count, 3) }
    }

    func testHigherPayBringsMoreWorkAndFasterCollection() {
        let t = tasks(20, objects: 120)
        let low = CrowdSimulation(population: Population(), replicates: 5, pay: 0.02, seed: 4).run(t)
        let high = CrowdSimulation(population: Population(), replicates: 5, pay: 0.08, seed: 4).run(t)
        XCTAssertGreaterThan(high.annotationsPerHour, low.annotationsPerHour)
        XCTAssertGreaterThan(high.clicks, low.clicks, "above tolerance, workers click less of what they see")
    }
}
