import Foundation

/// The clicks of one image, flattened: the input every point-consensus method takes.
public struct ImageClicks: Sendable {
    public var image: String
    public var width: Int
    public var height: Int
    /// Job-wide worker indices of everyone who submitted this image (also those who clicked nothing).
    public var workers: [Int]
    public var xs: [Double]
    public var ys: [Double]
    public var worker: [Int32]
    public var timestamp: [Double]
    public var count: Int { xs.count }
}

/// A whole job in the shape the methods use: worker ids interned once, clicks per image.
public struct ClickJob: Sendable {
    public var workerIDs: [String]
    public var images: [ImageClicks]

    /// Builds the job from crosshair records; shape records are left to the shape methods and
    /// counted in `skippedShapeRecords` so nothing is silently dropped. Images keep the export's
    /// order; workers are numbered by their ids and each image's records read in
    /// `ExportRecord.canonicallyOrdered`, so the same records listed in any order give the same job.
    public init(export: QuantiusExport) {
        let records = export.records
        let canonical = export.canonicalRecords { $0.annotationType == .crosshairs }
        var images: [ImageClicks] = []
        var crosshairs = 0
        for (image, first, indices) in canonical.images {
            var im = ImageClicks(image: image, width: records[first].width, height: records[first].height,
                                 workers: [], xs: [], ys: [], worker: [], timestamp: [])
            let clicks = indices.reduce(0) { $0 + records[$1].vertexCount }
            im.xs.reserveCapacity(clicks); im.ys.reserveCapacity(clicks)
            im.worker.reserveCapacity(clicks); im.timestamp.reserveCapacity(clicks)
            for i in indices {
                let w = canonical.workerOf[i]
                if im.workers.last != w { im.workers.append(w) }  // a worker's records are adjacent
                for shape in records[i].rawData {
                    for v in shape {
                        im.xs.append(v.x); im.ys.append(v.y)
                        im.worker.append(Int32(w)); im.timestamp.append(v.timestamp)
                    }
                }
            }
            crosshairs += indices.count
            images.append(im)
        }
        self.workerIDs = canonical.workerIDs
        self.images = images.filter { !$0.workers.isEmpty }
        self.skippedShapeRecords = records.count - crosshairs
    }

    public init(workerIDs: [String], images: [ImageClicks]) {
        self.workerIDs = workerIDs; self.images = images; self.skippedShapeRecords = 0
    }

    public var skippedShapeRecords: Int

    /// The same job without some workers (for re-running the consensus on a filtered crowd).
    public func without(workers drop: Set<Int>) -> ClickJob {
        var copy = self
        copy.images = images.map { im in
            var o = im
            o.workers = im.workers.filter { !drop.contains($0) }
            o.xs = []; o.ys = []; o.worker = []; o.timestamp = []
            for i in 0..<im.count where !drop.contains(Int(im.worker[i])) {
                o.xs.append(im.xs[i]); o.ys.append(im.ys[i]); o.worker.append(im.worker[i]); o.timestamp.append(im.timestamp[i])
            }
            return o
        }
        return copy
    }

    /// Per image, each click's index in `without(workers: drop)`, or -1 for a dropped worker's.
    public func indices(without drop: Set<Int>) -> [[Int]] {
        images.map { im in
            var next = 0
            return (0..<im.count).map { i in
                if drop.contains(Int(im.worker[i])) { return -1 }
                defer { next += 1 }
                return next
            }
        }
    }
}

/// One consensus object: where the crowd agrees there is something, and who agreed.
public struct ConsensusPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// Distinct workers whose click is in the cluster.
    public var support: Int
    /// Support weighted by each worker's estimated reliability (equals `support` for unweighted methods).
    public var weightedSupport: Double
    /// Click indices (into the image's arrays) that formed the object.
    public var members: [Int]
    /// The posterior that it is an object (`ObjectConfidence`), once analysed.
    public var confidence: Double? = nil
    /// Admitted by the image (`ImageEvidenceConsensus`) after the vote turned it down: overlays
    /// draw it apart, so a user can see what the pixels added.
    public var admittedByImage = false
}

/// The consensus of one image, with the parameters the method derived for it.
public struct ImageConsensus: Sendable {
    public var image: String
    public var points: [ConsensusPoint]
    /// Clusters considered before the support rule (kept or not), for the support histogram.
    public var candidateSupports: [Int]
    public var diagnostics: MethodDiagnostics
    /// Candidates one vote short of acceptance that two or more workers share, when the method
    /// was asked for them (`AgreementConsensus.reportNearMisses`): what a verify stage asks about.
    public var nearMisses: [ConsensusPoint] = []
    /// Every candidate cluster as click indices, kept or not (agreement), so a re-run on part of
    /// the crowd can vote on the same clusters instead of clustering again.
    public var clusters: [[Int]] = []
}

/// What a method measured or derived for one image, as `metrics.json` reports it per image under
/// `parameters`; each method fills the fields it has.
public struct MethodDiagnostics: Sendable, Equatable, Codable {
    /// Click spread measured from the data (agreement, dbscan).
    public var sigmaPx: Double? = nil
    /// Cluster radius (agreement: 3σ; subtractive: the influence radius).
    public var radiusPx: Double? = nil
    /// Radius within which fragments join a larger cluster (agreement).
    public var mergeRadiusPx: Double? = nil
    /// Weighted votes an object needed (agreement).
    public var minWeightedSupport: Double? = nil
    /// Workers who saw the image (agreement).
    public var workers: Double? = nil
    /// Neighbourhood radius and core size (dbscan).
    public var epsPx: Double? = nil
    public var minPts: Double? = nil
    /// Subtractive clustering's squash factor and accept / reject ratios.
    public var squash: Double? = nil
    public var accept: Double? = nil
    public var reject: Double? = nil
    /// Image evidence (`ImageEvidenceConsensus`): candidates tested, objects admitted, the response
    /// they had to exceed and the spot scale read from the accepted objects.
    public var evidenceTested: Double? = nil
    public var evidenceAdmitted: Double? = nil
    public var evidenceThreshold: Double? = nil
    public var evidenceScalePx: Double? = nil

    public init() {}

    enum CodingKeys: String, CodingKey {
        case sigmaPx = "sigma_px", radiusPx = "radius_px", mergeRadiusPx = "merge_radius_px"
        case minWeightedSupport = "min_weighted_support", workers, epsPx = "eps_px", minPts = "min_pts"
        case squash, accept, reject
        case evidenceTested = "evidence_tested", evidenceAdmitted = "evidence_admitted"
        case evidenceThreshold = "evidence_threshold", evidenceScalePx = "evidence_scale_px"
    }
}

/// The one interface every point-consensus method implements (one method per file).
/// Methods see the whole job, because worker reliability is a property of a worker across images.
public protocol PointConsensusMethod: Sendable {
    var name: String { get }
    func consensus(_ job: ClickJob) -> [ImageConsensus]
    /// The method with the scale it measured on `consensus` held fixed, for a re-run on part of the
    /// same crowd (without its weakest workers) where only who votes should change.
    func keepingScale(of consensus: [ImageConsensus]) -> any PointConsensusMethod
    /// The consensus of `job` without the workers in `dropped`, given this method's `consensus` of
    /// the whole job: its scale held fixed, and whatever of its work holds for part of the crowd
    /// shared rather than done again.
    func rerun(_ consensus: [ImageConsensus], of job: ClickJob, without dropped: Set<Int>) -> [ImageConsensus]
    /// The distinct workers an object needs when `workers` workers saw the image, for methods with
    /// such a vote (nil otherwise): what a larger crowd would ask of a candidate (`MissedObjects`).
    func votesNeeded(workers: Int) -> Int?
}

extension PointConsensusMethod {
    public func keepingScale(of consensus: [ImageConsensus]) -> any PointConsensusMethod { self }
    public func rerun(_ consensus: [ImageConsensus], of job: ClickJob, without dropped: Set<Int>) -> [ImageConsensus] {
        keepingScale(of: consensus).consensus(job.without(workers: dropped))
    }
    public func votesNeeded(workers: Int) -> Int? { nil }
}

/// The methods by name, as `--method` and scenarios' `analysis.method` take them: the one registry.
public enum PointMethods {
    public enum Name: String, CaseIterable, Sendable {
        case agreement, subtractive, dbscan
    }
    public static let names = Name.allCases.map(\.rawValue)
    public static let defaultName = Name.agreement.rawValue

    public static func make(_ name: Name, radius: String? = nil) throws -> any PointConsensusMethod {
        switch name {
        case .agreement: return AgreementConsensus()
        case .subtractive:
            var m = SubtractiveClustering()
            if let radius { m.radius = try SubtractiveClustering.Radius(parsing: radius) }
            return m
        case .dbscan: return DensityConsensus()
        }
    }

    public static func make(_ name: String, radius: String? = nil) throws -> any PointConsensusMethod {
        guard let known = Name(rawValue: name) else {
            throw InputError(file: "--method", message: "unknown method \"\(name)\" (choose from \(names.joined(separator: ", ")))")
        }
        return try make(known, radius: radius)
    }
}
