import Foundation

/// Every scene crowdlab renders, by the name `generate` and scenario files (`scene.kind`) use:
/// the one place a new scene is added (docs/architecture.md).
public enum SceneName: String, Sendable, CaseIterable {
    case spots, transwell, nuclei, filaments, tissue, mouse

    /// Movies render frames over time (`MovieScene`); the others one image per seed (`PhantomScene`).
    public var isMovie: Bool {
        switch self {
        case .spots, .transwell, .nuclei: false
        case .filaments, .tissue, .mouse: true
        }
    }

    /// The scenes a scenario can run (one image per seed).
    public static let stills = allCases.filter { !$0.isMovie }
}

/// What a front end may set on a scene; nil keeps the scene's default. `objects` is spots per
/// image for `spots`, cells per image for `transwell` and nuclei per frame for `nuclei`; `snr` is the cells' for `transwell`.
public struct SceneSettings: Sendable, Equatable {
    public var width: Int?, height: Int?
    public var objects: ClosedRange<Int>?
    public var density: Double?
    public var sigma: Double?
    public var snr: ClosedRange<Double>?
    public var background: Background?
    public var poreSpacing: Double?
    /// Semi-major axes of the nuclei of `nuclei`, px.
    public var nucleusRadius: ClosedRange<Double>?
    public var bitDepth: Int?
    public init() {}
}

/// A scene drawn through a camera at a set size: what `SceneSettings` set on every scene.
protocol FramedScene {
    var width: Int { get set }
    var height: Int { get set }
    var camera: Camera { get set }
}

extension SpotsScene: FramedScene {}
extension TranswellScene: FramedScene {}
extension NucleiScene: FramedScene {}
extension FilamentScene: FramedScene {}
extension TissueScene: FramedScene {}
extension MouseScene: FramedScene {}

extension FramedScene {
    /// The scene with the settings' size and bit depth, where they are given.
    func framed(_ s: SceneSettings) -> Self {
        var scene = self
        if let w = s.width { scene.width = w }
        if let h = s.height { scene.height = h }
        if let d = s.bitDepth { scene.camera.bitDepth = d }
        return scene
    }
}

extension SceneName {
    /// The still scene with the settings applied (nil for a movie).
    public func still(_ s: SceneSettings) -> (any PhantomScene)? {
        switch self {
        case .spots:
            var scene = SpotsScene().framed(s)
            if let o = s.objects { scene.count = o }
            if let d = s.density { scene.density = d }
            if let g = s.sigma { scene.sigma = g }
            if let r = s.snr { scene.snr = r }
            if let b = s.background { scene.background = b }
            return scene
        case .transwell:
            var scene = TranswellScene().framed(s)
            if let o = s.objects { scene.cells = o }
            if let r = s.snr { scene.cellSNR = r }
            if let p = s.poreSpacing { scene.poreSpacing = p }
            return scene
        case .nuclei:
            var scene = NucleiScene().framed(s)
            if let o = s.objects { scene.count = o }
            if let r = s.nucleusRadius { scene.radius = r }
            return scene
        case .filaments, .tissue, .mouse:
            return nil
        }
    }

    /// The movie with the settings applied (nil for a still scene); only filaments take an SNR.
    public func movie(_ s: SceneSettings) -> (any MovieScene)? {
        switch self {
        case .filaments:
            var scene = FilamentScene().framed(s)
            if let r = s.snr { scene.snr = r }
            return scene
        case .tissue: return TissueScene().framed(s)
        case .mouse: return MouseScene().framed(s)
        case .spots, .transwell, .nuclei: return nil
        }
    }

    /// Why images of the settings' size cannot hold this scene's objects, or nil.
    public func sizeProblem(_ s: SceneSettings) -> String? {
        switch self {
        case .spots:
            let d = SpotsScene(), w = s.width ?? d.width, h = s.height ?? d.height
            return w > 2 * d.margin + 1 && h > 2 * d.margin + 1 ? nil : "too small"
        case .transwell:
            let d = TranswellScene(), w = s.width ?? d.width, h = s.height ?? d.height
            return w > 3 * Int(d.cellDiameter) && h > 3 * Int(d.cellDiameter) ? nil : "too small for 13 px cells"
        case .nuclei:
            return (s.width ?? 500) >= 200 && (s.height ?? 500) >= 200 ? nil : "too small for clusters of nuclei (200 px at least)"
        case .filaments, .tissue, .mouse:
            return nil
        }
    }
}
