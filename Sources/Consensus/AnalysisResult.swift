import Foundation

/// How `Analysis.run` merges and scores an export.
public struct AnalysisOptions: Sendable {
    public var method: any PointConsensusMethod = AgreementConsensus()
    /// Radius for every one-to-one matching (consensus vs truth, worker vs consensus).
    public var matchRadius: Double = defaultMatchRadius()
    /// Weight of misses in the worker score `1 - (fp' + k·fn') / (2·tp')`.
    public var scoreMissWeight: Double = 0.2
    /// Share of workers dropped by score when re-running the consensus on a filtered crowd.
    public var dropShare: Double = 1.0 / 3.0
    /// Annotations over which the learning curve's linear fit runs.
    public var learningWindow: Int = 50
    public init() {}
}

/// What workers' clicks are judged against: the truth when it is given, else the consensus.
public enum Reference: String, Sendable, Codable {
    case truth, consensus
}

public struct WorkerRow: Sendable, Codable {
    public var worker: String
    public var images: Int
    public var annotations: Int
    public var medianClickPeriodS: Double?
    public var score: Double
    public var vsConsensus: DetectionScore
    public var rmseVsConsensusPx: Double?
    public var vsTruth: DetectionScore?
    public var rmsePx: Double?
    /// Mean over their images of the chance they click an object there, and the share of their
    /// clicks in consensus objects weighted by each object's confidence (`ObjectConfidence`).
    public var coverage: Double? = nil
    public var reliability: Double? = nil
}

public struct ImageRow: Sendable, Codable {
    public var image: String
    public var workers: Int
    public var emptySubmissions: Int
    public var clicks: Int
    public var consensusObjects: Int
    public var truthObjects: Int?
    public var score: DetectionScore?
    /// What the method derived for the image (its radii, the vote it took).
    public var parameters: MethodDiagnostics
    /// Consensus objects expected to be false: the sum of one less their confidence.
    public var expectedFalseObjects: Double? = nil
    /// Candidates within one vote of the support an object needs (`Settledness.undecided`): what
    /// one more worker could turn, and what the adaptive policy weighs. Nil for methods without a vote.
    public var undecidedObjects: Int? = nil
    /// Objects twice the workers would find that the consensus misses (`MissedObjects`), and that
    /// crowd's size. Nil for methods without a vote, or below five workers or three objects.
    public var expectedMissedObjects: Double? = nil
    public var missedAtWorkers: Int? = nil
    /// With truth: the mean displacement of workers' matched clicks from the true objects, `[x, y]`
    /// in the export's coordinates (`y` up). Workers' RMSE against the truth is measured about it.
    public var truthOffsetPx: [Double]? = nil
    /// With truth: the missed and false objects by cause (`ErrorBreakdown`).
    public var errors: ErrorBreakdown? = nil
}

extension ImageRow {
    mutating func setMissed(_ e: MissedObjects.Estimate?) {
        expectedMissedObjects = e?.expected
        missedAtWorkers = e?.atWorkers
    }
}

public struct LearningPoint: Sendable, Codable {
    public var index: Int
    public var annotations: Int
    public var falsePositives: Int
    public var rate: Double
}

public struct CrowdStatistics: Sendable, Codable {
    public var workers: Int
    public var records: Int
    public var emptyRecords: Int
    /// A worker's later submissions on an image they had already submitted, not counted in `records`.
    public var repeatedRecordsLeftOut: Int
    public var clicks: Int
    public var images: Int
    /// Share of worker-image submissions made by the most active 20 % of workers.
    public var top20ShareOfImages: Double
    /// Cumulative share of submissions by the top k workers, k = 1…n (the participation curve).
    public var participationCurve: [Double]
    public var medianClickPeriodS: Double?
    public var clickPeriodQuartilesS: [Double]
    public var medianWorkerRmsePx: Double?
    /// With truth: the mean displacement of workers' matched clicks from the true objects over
    /// every image, `[x, y]` (`y` up). A truth with its own pixel convention (an expert's 1-based
    /// indices: a pixel right and down) shows here, not in the workers' RMSE.
    public var truthOffsetPx: [Double]? = nil
    /// What a false positive was judged against.
    public var falsePositiveReference: Reference
    /// False-positive rate by annotation index over the workers who learn: those whose clicks
    /// are mostly right. Workers with at least 5 clicks and precision under 0.5 against the
    /// reference (the rare poor workers of Hughes et al. Fig. S1, whom the consensus dilutes) are
    /// counted in `learningExcludedWorkers` and left out, as `crowdlab calibrate` leaves them out
    /// of the learning fit; one of them in a small crowd would otherwise set the whole curve.
    public var learningCurve: [LearningPoint]
    public var learningExcludedWorkers: Int
    /// Linear fit of the false-positive rate over the first `learningWindow` annotations.
    public var learningFit: LinearFitSummary?
}

public struct LinearFitSummary: Sendable, Codable {
    public var intercept: Double, slope: Double, seIntercept: Double, seSlope: Double
    public var rateAtFirst: Double, rateAtEnd: Double, window: Int
}

public struct FittsSummary: Sendable, Codable {
    public var a: Double, b: Double, c: Double
    public var seA: Double, seB: Double, seC: Double
    public var workers: Int
    public var chiSquared: Double
    public var converged: Bool
    public var reference: Reference
    /// True when c was fixed at the measured movement amplitude (see `FittsLaw`).
    public var amplitudeFixed: Bool
    public var measuredAmplitudePx: Double
}

public struct FilteredRun: Sendable, Codable {
    public var droppedWorkers: [String]
    public var consensusObjects: Int
    public var score: DetectionScore?
}

public struct AnalysisResult: Sendable {
    /// The clicks per image as the methods saw them (overlays and reports reuse it).
    public var job: ClickJob
    public var method: String
    public var consensus: [ImageConsensus]
    public var images: [ImageRow]
    public var workers: [WorkerRow]
    public var crowd: CrowdStatistics
    public var fitts: FittsSummary?
    public var overall: DetectionScore?
    public var filtered: FilteredRun
    public var filteredConsensus: [ImageConsensus]
    public var skippedShapeRecords: Int
    public var truthNotes: [String]
    public var matchRadius: Double
    public var tpDistances: [Double]
    /// With truth: the errors of every image with truth by cause.
    public var errors: ErrorBreakdown? {
        overall == nil ? nil : images.compactMap(\.errors).reduce(ErrorBreakdown(), +)
    }
    /// Wall seconds per phase, for benchmarks (not written to metrics.json: it would break byte-identical outputs).
    public var timings: [(phase: String, seconds: Double)] = []
}
