import Consensus
import Foundation
import Imaging
import Phantoms
import XCTest
@testable import Crowd

/// The shape experiments end to end: phantom movies, simulated workers drawing on them, the shape
/// consensus, and the classic pipelines beside it.
final class MovieTests: XCTestCase {
    func frames(_ scene: any MovieScene, count: Int, seed: UInt64) -> (frames: [ShapeSimulation.Frame], truth: [String: ShapeTruth], images: [String: Image]) {
        var out: [ShapeSimulation.Frame] = []
        var truth: [String: ShapeTruth] = [:]
        var images: [String: Image] = [:]
        for t in 0..<count {
            let f = scene.frame(t, of: count, seed: seed)
            let name = String(format: "%@_%04d.png", scene.name, t)
            let st = try! JSONDecoder().decode(ShapeTruth.self, from: try! f.truthJSON())
            truth[name] = st
            images[name] = f.image
            out.append(.init(image: name, width: st.width, height: st.height, objects: st.inExportCoordinates()))
        }
        return (out, truth, images)
    }

    func testMoviesAreSeededAndFramesRenderAlone() throws {
        let a = FilamentScene().frame(7, of: 20, seed: 3), b = FilamentScene().frame(7, of: 20, seed: 3)
        XCTAssertEqual(a.image, b.image)
        XCTAssertEqual(try a.truthJSON(), try b.truthJSON())
        XCTAssertNotEqual(FilamentScene().frame(7, of: 20, seed: 4).image, a.image)
        // Every filament stays in view for the whole movie.
        for t in [0, 19] {
            for o in FilamentScene().frame(t, of: 20, seed: 3).objects {
                for p in o.points { XCTAssertTrue((0...256).contains(p[0]) && (0...256).contains(p[1])) }
            }
        }
    }

    /// Tissue, 10 workers per frame: median consensus area error <= 3 %, the stall flat in the
    /// area-over-time curve, and the classic contrast segmentation's error reported beside it.
    func testTissueOutlinesAreaAndStall() throws {
        let scene = TissueScene()
        let (fr, truth, images) = frames(scene, count: 20, seed: 2)
        let export = ShapeSimulation(population: Population(), replicates: 10, seed: 5, tool: .polygon).run(fr)
        let r = ShapeAnalysis.run(export: export, pointTruth: nil, shapeTruth: truth)
        let errors = r.areaErrors.map(\.error)
        XCTAssertEqual(errors.count, 20, "one consensus outline per frame")
        let medianError = median(errors)
        var classic: [Double] = []
        for (k, f) in fr.enumerated() {
            let t = try XCTUnwrap(r.areaOverTime[k].truth)
            classic.append(abs(ClassicShapes.largestRegionArea(images[f.image]!) - t) / t)
        }
        print(String(format: "tissue: consensus median area error %.1f %%, classic contrast segmentation %.1f %%", 100 * medianError, 100 * median(classic)))
        XCTAssertLessThanOrEqual(medianError, 0.03)
        XCTAssertGreaterThan(median(classic), medianError, "migrating cells and the halo mislead the threshold")
        // The stall: frames 8-11 lie inside 40-60 % of the movie.
        let area = r.areaOverTime.map(\.consensus)
        // Frame pairs averaged: one frame's consensus outline varies by a few per cent.
        let stallChange = abs((area[10] + area[11]) - (area[8] + area[9])) / (area[8] + area[9])
        let growthChange = (area[6] - area[3]) / area[3]
        XCTAssertLessThan(stallChange, 0.04)
        XCTAssertGreaterThan(growthChange, 3 * stallChange)
    }

    /// Filaments: the consensus length distribution is closer to the truth (KS) than single workers'
    /// traces and than the junction-splitting skeleton; track speeds within 10 %.
    func testFilamentLengthsAndVelocities() throws {
        let (fr, truth, images) = frames(FilamentScene(), count: 20, seed: 1)
        let export = ShapeSimulation(population: Population(), replicates: 10, seed: 1, tool: .polyline).run(fr)
        let r = ShapeAnalysis.run(export: export, pointTruth: nil, shapeTruth: truth)
        let skeleton = fr.flatMap { ClassicShapes.skeletonBranchLengths(images[$0.image]!) }
        let ksConsensus = ksStatistic(r.consensusLengths, r.truthLengths)
        let ksWorkers = ksStatistic(r.workerLengths, r.truthLengths)
        let ksSkeleton = ksStatistic(skeleton, r.truthLengths)
        let speedErrors = r.velocities.map { abs($0.speed - $0.truth) / $0.truth }
        print(String(format: "filaments: KS consensus %.3f, single workers %.3f, skeleton %.3f; speed error median %.1f %% over %d tracks",
                     ksConsensus, ksWorkers, ksSkeleton, 100 * median(speedErrors), speedErrors.count))
        XCTAssertLessThan(ksConsensus, ksWorkers)
        XCTAssertLessThan(ksConsensus, ksSkeleton)
        XCTAssertGreaterThanOrEqual(speedErrors.count, 10, "most of the 14 filaments are tracked over 5 frames or more")
        XCTAssertLessThanOrEqual(median(speedErrors), 0.10)
        XCTAssertGreaterThan(try XCTUnwrap(r.score).f1, 0.9)
    }

    func testMouseKeypointTrajectories() throws {
        let (fr, truth, _) = frames(MouseScene(), count: 16, seed: 1)
        let export = ShapeSimulation(population: Population(), replicates: 10, seed: 2, tool: .crosshairs).run(fr)
        let r = ShapeAnalysis.run(export: export, pointTruth: nil, shapeTruth: truth)
        XCTAssertEqual(r.keypoints.map(\.label), MouseScene.labels)
        for k in r.keypoints {
            XCTAssertEqual(k.frames.count, 16)
            XCTAssertLessThan(try XCTUnwrap(k.rmse), 3, k.label)
        }
        // The gait: a paw's x advances in steps, not uniformly (its speed changes sign relative to the body).
        let paw = r.keypoints[1].xs, nose = r.keypoints[0].xs
        let relative = zip(paw, nose).map { $0 - $1 }
        XCTAssertGreaterThan((relative.max() ?? 0) - (relative.min() ?? 0), 8)
    }
}
