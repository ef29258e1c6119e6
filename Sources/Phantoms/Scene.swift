import Foundation
import Imaging
import Randomness

/// One true object of a phantom, in image coordinates (row counted from the top, as the real
/// truth files). `kind` tells objects ("spot", "cell") from distractors ("pore").
public struct TruthObject: Sendable, Equatable {
    /// What an object is; the truth CSV's `kind` column holds the raw value.
    public enum Kind: String, Sendable, CaseIterable {
        case spot, cell, pore
        /// Pores look like cells and draw clicks, but are not objects: never scored as ones.
        public var isDistractor: Bool { self == .pore }
    }
    public var col: Double
    public var row: Double
    public var snr: Double
    public var kind: Kind
    public init(col: Double, row: Double, snr: Double, kind: Kind) {
        self.col = col; self.row = row; self.snr = snr; self.kind = kind
    }
}

/// A rendered phantom: the picture and its exact truth.
public struct Phantom: Sendable {
    public var image: Image
    public var truth: [TruthObject]
}

/// A synthetic microscopy scene. Rendering is a pure function of the seed, so the same seed gives
/// byte-identical images whatever the number of threads.
public protocol PhantomScene: Sendable {
    var name: String { get }
    func render(seed: UInt64) -> Phantom
    /// The same truth as `render(seed:)` (the same random draws in the same order) with a blank
    /// image of the same size: for runs that need where the objects are but not the pixels, whose
    /// camera noise is most of the cost of a phantom.
    func layout(seed: UInt64) -> Phantom
}

/// Camera model shared by the scenes: a photon field plus shot (Poisson) and read (Gaussian)
/// noise, scaled to 8- or 16-bit counts. SNR of an object = its peak photons over the noise
/// standard deviation at the background, `sqrt(background + read²)`.
public struct Camera: Sendable, Equatable {
    public var backgroundPhotons = 100.0
    public var readNoise = 3.0
    public var bitDepth = 8
    /// Counts per photon; chosen so the brightest objects stay below saturation.
    public var gain: Double? = nil
    public var offset = 10.0

    public init() {}

    public var noiseSD: Double { (backgroundPhotons + readNoise * readNoise).squareRoot() }

    /// An unexposed frame of the camera's format (all zero): the image of a phantom's layout.
    public func blank(width: Int, height: Int) -> Image { Image(width: width, height: height, channels: 1, bitDepth: bitDepth) }

    /// Adds noise to the photon field and quantises it.
    public func expose(_ field: [Double], width: Int, height: Int, rng: SeededRandom) -> Image {
        var img = Image(width: width, height: height, channels: 1, bitDepth: bitDepth)
        let maxCount = Double(img.maxValue)
        let peak = field.max() ?? 1
        let g = gain ?? (maxCount * 0.85 - offset) / max(peak + 4 * noiseSD, 1)
        for i in 0..<field.count {
            let photons = Double(rng.poisson(max(field[i], 0))) + rng.gaussian(sigma: readNoise)
            let v = (offset + g * photons).rounded()
            img.samples[i] = UInt16(max(0, min(maxCount, v)))
        }
        return img
    }
}

/// Smooth structured backgrounds that make real images hard: cell bodies or tissue texture,
/// built from overlapping broad Gaussians (in photons, added to the camera background).
public enum Background: String, Sendable, CaseIterable {
    case none, cells, tissue

    public func render(width: Int, height: Int, level: Double, rng: SeededRandom) -> [Double] {
        var field = [Double](repeating: 0, count: width * height)
        switch self {
        case .none: return field
        case .cells:
            // A few large cell bodies of varied brightness, with darker nuclei.
            let n = 4 + rng.int(5)
            for _ in 0..<n {
                let cx = rng.uniform() * Double(width), cy = rng.uniform() * Double(height)
                let s = 25 + rng.uniform() * 35
                addGaussian(&field, width, height, cx, cy, s, level * (0.8 + 1.6 * rng.uniform()))
                addGaussian(&field, width, height, cx + rng.gaussian(sigma: 5), cy + rng.gaussian(sigma: 5), s * 0.35, -level * 0.6)
            }
        case .tissue:
            // Texture at several scales and a gradient, like autofluorescent tissue.
            for scale in [40.0, 18.0, 8.0] {
                let n = Int(Double(width * height) / (scale * scale) * 0.6)
                for _ in 0..<n {
                    addGaussian(&field, width, height, rng.uniform() * Double(width), rng.uniform() * Double(height),
                                scale * (0.7 + 0.6 * rng.uniform()), level * 0.35 * rng.uniform())
                }
            }
            let gx = rng.gaussian(sigma: 0.5), gy = rng.gaussian(sigma: 0.5)
            for r in 0..<height { for c in 0..<width {
                field[r * width + c] += level * 0.5 * (1 + gx * Double(c) / Double(width) + gy * Double(r) / Double(height))
            } }
        }
        for i in 0..<field.count { field[i] = max(field[i], -level * 0.5) }
        return field
    }
}

/// Adds `amplitude · exp(-r²/2σ²)` within 4σ of (cx, cy) (column, row from the top).
public func addGaussian(_ field: inout [Double], _ width: Int, _ height: Int, _ cx: Double, _ cy: Double, _ sigma: Double, _ amplitude: Double) {
    let reach = Int((4 * sigma).rounded(.up))
    let c0 = max(0, Int(cx) - reach), c1 = min(width - 1, Int(cx) + reach)
    let r0 = max(0, Int(cy) - reach), r1 = min(height - 1, Int(cy) + reach)
    guard c0 <= c1, r0 <= r1 else { return }
    let k = -1 / (2 * sigma * sigma)
    for r in r0...r1 {
        let dy = Double(r) - cy
        for c in c0...c1 {
            let dx = Double(c) - cx
            field[r * width + c] += amplitude * exp((dx * dx + dy * dy) * k)
        }
    }
}

/// The truth CSV the real data sets use: `col,row,snr` plus `kind` (row from the top).
public func truthCSV(_ truth: [TruthObject]) -> String {
    var s = "col,row,snr,kind\n"
    for t in truth { s += "\(fmtNum(t.col)),\(fmtNum(t.row)),\(String(format: "%.4f", t.snr)),\(t.kind.rawValue)\n" }
    return s
}

func fmtNum(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.3f", v) }

/// "50-150" or "80" as a range: the form scene options take on the command line and in scenarios.
public enum RangeSpec {
    public static func int(_ s: String) -> ClosedRange<Int>? {
        let parts = s.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 1, let v = parts[0], v >= 0 { return v...v }
        if parts.count == 2, let a = parts[0], let b = parts[1], a >= 0, a <= b { return a...b }
        return nil
    }

    /// Positive, finite bounds only.
    public static func double(_ s: String) -> ClosedRange<Double>? {
        let parts = s.split(separator: "-").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 1, let v = parts[0], v > 0, v.isFinite { return v...v }
        if parts.count == 2, let a = parts[0], let b = parts[1], a > 0, a <= b, b.isFinite { return a...b }
        return nil
    }
}
