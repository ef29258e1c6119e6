import Consensus
import Crowd
import Foundation
import Imaging
import Phantoms

/// An experiment as a file: a phantom scene, a crowd population, a job and the analysis.
/// Read strictly: unknown keys, wrong types and impossible values are refused with the file,
/// line and key. `--set key=value` overrides any key.
public struct Scenario: Sendable {
    /// The scenes a scenario runs: the still scenes of the registry (`SceneName.stills`).
    public enum SceneKind: String, Sendable, CaseIterable {
        case spots, transwell, nuclei
        public var scene: SceneName { SceneName(rawValue: rawValue)! }
    }

    public var name: String
    public var description: String = ""
    public var seed: UInt64 = 1
    // scene
    public var sceneKind: SceneKind = .spots
    public var images = 9
    public var width: Int? = nil
    public var height: Int? = nil
    public var objects: ClosedRange<Int>? = nil
    public var snr: ClosedRange<Double>? = nil
    public var background: Background = .none
    public var sigma: Double? = nil
    public var poreSpacing: Double? = nil
    // crowd
    public var population = Population()
    public var populationSource = "built-in (Scenarios/populations/paper.yaml)"
    // job
    public var replicates = 10
    public var pay = 0.02
    /// How many workers each image gets: `replicates` (fixed), or adaptively (`adaptive`'s start,
    /// cap and threshold; see docs/replicates.md).
    /// `verify`: `replicates` workers per image, then the undecided objects as yes/no questions
    /// to new workers (`VerifyStage`), paid `verifyPay` per HIT of `verify.questionsPerHIT`.
    public enum PolicyKind: String, Sendable, CaseIterable { case fixed, adaptive, verify }
    public var policy: PolicyKind = .fixed
    public var adaptive = AdaptiveReplicates()
    public var verify = VerifyStage()
    /// Reward per verify HIT (default: the first stage's pay per image).
    public var verifyPay: Double?
    /// On Mechanical Turk: post HITs only to workers whose score recorded by an earlier job's
    /// review (`crowdlab job review --record-scores`, 0-100) is at least this. A simulated run
    /// draws a fresh crowd and does not use it.
    public var requireScore: Int?
    /// What workers draw: clicks (`crosshairs`), the one tool a scenario's spot scenes take.
    public var tool = AnnotationType.crosshairs
    /// The job's policy as metrics.json names it: `fixed:10`, `adaptive:3,15,0.15`, `verify:10,3,10`
    /// (first-stage workers, verifiers per question, questions per HIT).
    public var policyDescription: String {
        policy == .verify ? "verify:\(replicates),\(verify.workersPerQuestion),\(verify.questionsPerHIT)" : replicatePolicy.description
    }
    /// Who annotates each image in the first (or only) stage.
    public var replicatePolicy: any ReplicatePolicy { policy == .adaptive ? adaptive : FixedReplicates(workers: replicates) }
    // analysis
    public var method = PointMethods.defaultName
    public var subtractiveRadius: String? = nil

    /// Hear the images for the candidates the vote turned down (`ImageEvidenceConsensus`).
    public var imageEvidence = false

    /// The analysis's consensus method as the scenario configures it (the radius is `subtractive`'s alone).
    /// A verify stage asks about the agreement method's near misses; with `analysis.image_evidence`
    /// the vote hears `images` (by file name).
    public func pointMethod(images: [String: Image]? = nil) throws -> any PointConsensusMethod {
        let made = try PointMethods.make(method, radius: subtractiveRadius)
        guard var agreement = made as? AgreementConsensus else { return made }
        agreement.reportNearMisses = policy == .verify
        guard imageEvidence else { return agreement }
        guard let images else { throw InputError(file: "analysis.image_evidence", message: "the images are not available here") }
        var heard = ImageEvidenceConsensus(images: images)
        heard.vote = agreement
        return heard
    }
    public var matchRadius = 8.0
    public var overlays = 3

    public init(name: String) { self.name = name }

    /// Every key a scenario file may hold.
    public static let keys: Set<String> = [
        "name", "description", "seed",
        "scene.kind", "scene.images", "scene.width", "scene.height", "scene.objects", "scene.snr", "scene.background",
        "scene.sigma", "scene.pore_spacing",
        "crowd.population",
        "job.replicates", "job.pay_usd", "job.tool",
        "job.policy", "job.adaptive_start", "job.adaptive_cap", "job.adaptive_threshold",
        "job.verify_workers", "job.verify_questions_per_hit", "job.verify_pay_usd", "job.require_score",
        "analysis.method", "analysis.radius", "analysis.match_radius_px", "analysis.image_evidence",
        "report.overlays",
    ]

    /// Loads a scenario; `overrides` are `key=value` strings from `--set`.
    public static func load(path: String, overrides: [String] = []) throws -> Scenario {
        var y = try YAMLConfig.load(path: path)
        for o in overrides {
            guard let eq = o.firstIndex(of: "=") else { throw InputError(file: "--set", message: "expected key=value, found \"\(o)\"") }
            try y.set(String(o[..<eq]).trimmingCharacters(in: .whitespaces), String(o[o.index(after: eq)...]), known: keys)
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(&y, defaultName: stem, baseDirectory: (path as NSString).deletingLastPathComponent)
    }

    public static func parse(_ y: inout YAMLConfig, defaultName: String, baseDirectory: String) throws -> Scenario {
        var s = Scenario(name: defaultName)
        if let v = try y.string("name") {
            guard !v.isEmpty, v.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw y.error("name", "use letters, digits, - and _ only (it names the report folder)")
            }
            s.name = v
        }
        if let v = try y.string("description") { s.description = v }
        if let v = try y.int("seed", in: 0...Int.max) { s.seed = UInt64(v) }
        if let v = try y.string("scene.kind", oneOf: SceneKind.allCases.map(\.rawValue)) { s.sceneKind = SceneKind(rawValue: v)! }
        if let v = try y.int("scene.images", in: 1...100_000) { s.images = v }
        s.width = try y.int("scene.width", in: 32...10_000)
        s.height = try y.int("scene.height", in: 32...10_000)
        if let v = try y.string("scene.objects") { s.objects = try intRange(v, key: "scene.objects", y) }
        if let v = try y.string("scene.snr") { s.snr = try doubleRange(v, key: "scene.snr", y) }
        if let v = try y.string("scene.background", oneOf: Background.allCases.map(\.rawValue)) { s.background = Background(rawValue: v)! }
        s.sigma = try y.double("scene.sigma", in: 0.3...30)
        s.poreSpacing = try y.double("scene.pore_spacing", in: 4...500)
        if let v = try y.string("crowd.population") {
            // A built-in population by name (so a scenario file copied anywhere still runs), or a
            // population file, relative to the scenario's folder.
            let builtIn: [String: (Population, String)] = [
                "paper": (Population(), "built-in (Scenarios/populations/paper.yaml)"),
                "transwell": (Paper.transwellCrowd, "transwell (Scenarios/populations/transwell.yaml)"),
                "experts": (Paper.experts, "experts (Scenarios/populations/experts.yaml)"),
            ]
            if let (population, source) = builtIn[v] { s.population = population; s.populationSource = source } else {
                let p = v.hasPrefix("/") ? v : (baseDirectory as NSString).appendingPathComponent(v)
                guard FileManager.default.fileExists(atPath: p) else {
                    throw y.error("crowd.population", "no such file: \(p) (a path is relative to the scenario's folder; built-in populations: paper, transwell, experts)")
                }
                s.population = try Population.load(path: p)
                s.populationSource = v
            }
        }
        if let v = try y.int("job.replicates", in: 1...1000) { s.replicates = v }
        if let v = try y.double("job.pay_usd", in: 0.001...100) { s.pay = v }
        // Scenarios simulate clicks only: the key is read so that any other tool is refused, not run as clicks.
        if let v = try y.string("job.tool", oneOf: [AnnotationType.crosshairs.rawValue]) { s.tool = AnnotationType(rawValue: v)! }
        if let v = try y.string("job.policy", oneOf: PolicyKind.allCases.map(\.rawValue)) { s.policy = PolicyKind(rawValue: v)! }
        if let v = try y.int("job.adaptive_start", in: 1...1000) { s.adaptive.start = v }
        if let v = try y.int("job.adaptive_cap", in: 1...1000) { s.adaptive.cap = v }
        if let v = try y.double("job.adaptive_threshold", in: 0...100) { s.adaptive.threshold = v }
        if let v = try y.int("job.verify_workers", in: 1...50) { s.verify.workersPerQuestion = v }
        if let v = try y.int("job.verify_questions_per_hit", in: 1...200) { s.verify.questionsPerHIT = v }
        if let v = try y.double("job.verify_pay_usd", in: 0.001...100) { s.verifyPay = v }
        if let v = try y.int("job.require_score", in: 0...100) { s.requireScore = v }
        if s.adaptive.cap < s.adaptive.start { throw y.error(y.has("job.adaptive_cap") ? "job.adaptive_cap" : "job.adaptive_start", "the cap must be at least the start (\(s.adaptive.start))") }
        if let v = try y.string("analysis.method", oneOf: PointMethods.names) { s.method = v }
        if s.policy == .verify && s.method != PointMethods.Name.agreement.rawValue {
            throw y.error(y.has("analysis.method") ? "analysis.method" : "job.policy", "job.policy verify asks about the agreement method's undecided objects: use analysis.method agreement")
        }
        if let v = try y.string("analysis.image_evidence", oneOf: ["true", "false"]) { s.imageEvidence = v == "true" }
        if s.imageEvidence && s.method != PointMethods.Name.agreement.rawValue {
            throw y.error("analysis.image_evidence", "works with analysis.method agreement, not \(s.method)")
        }
        s.subtractiveRadius = try y.string("analysis.radius")
        if let v = try y.double("analysis.match_radius_px", in: 0.5...1000) { s.matchRadius = v }
        if let v = try y.int("report.overlays", in: 0...1000) { s.overlays = v }
        try y.refuseUnknownKeys()
        if let problem = s.sceneKind.scene.sizeProblem(s.sceneSettings) { throw y.error(y.has("scene.width") ? "scene.width" : "scene.height", problem) }
        if let o = s.objects, s.sceneKind == .spots, o.upperBound > 5000 { throw y.error("scene.objects", "at most 5000 objects per image") }
        return s
    }

    static func intRange(_ v: String, key: String, _ y: YAMLConfig) throws -> ClosedRange<Int> {
        guard let r = RangeSpec.int(v) else { throw y.error(key, "expected N or MIN-MAX with 0 <= MIN <= MAX, found \"\(v)\"") }
        return r
    }

    static func doubleRange(_ v: String, key: String, _ y: YAMLConfig) throws -> ClosedRange<Double> {
        guard let r = RangeSpec.double(v) else { throw y.error(key, "expected X or MIN-MAX with 0 < MIN <= MAX, found \"\(v)\"") }
        return r
    }

    /// The scenario's scene settings, as the scene registry takes them.
    public var sceneSettings: SceneSettings {
        var settings = SceneSettings()
        settings.width = width; settings.height = height; settings.objects = objects; settings.snr = snr
        settings.background = background
        switch sceneKind {
        case .spots: settings.sigma = sigma
        case .transwell: settings.poreSpacing = poreSpacing
        case .nuclei: break
        }
        return settings
    }

    /// The phantom scene this scenario renders (the registry's, with the scenario's settings).
    public var scene: any PhantomScene {
        sceneKind.scene.still(sceneSettings)!   // a SceneKind is a still scene
    }
}
