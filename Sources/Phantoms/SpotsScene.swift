import Foundation
import Imaging
import Randomness

/// Diffraction-limited fluorescent spots (Gaussian point-spread function) on an optional cell or
/// tissue background. Defaults reproduce the real images of the Quanti.us spot data sets:
/// 300 x 300 px, σ = 1.75 px, 50-150 spots, SNR 5-20 per spot.
public struct SpotsScene: PhantomScene, Equatable {
    public var name: String { "spots" }
    public var width = 300
    public var height = 300
    public var sigma = 1.75
    /// Spots per image, drawn uniformly from this range (one value for a fixed count).
    public var count: ClosedRange<Int> = 50...150
    /// Spots per square pixel; when set it replaces `count`.
    public var density: Double? = nil
    public var snr: ClosedRange<Double> = 5...20
    public var background: Background = .none
    /// Background structure amplitude in photons.
    public var backgroundLevel = 60.0
    /// Keep spots this far from the border (px).
    public var margin = 4
    public var camera = Camera()

    public init() {}

    public func render(seed: UInt64) -> Phantom { make(seed: seed, pixels: true) }
    public func layout(seed: UInt64) -> Phantom { make(seed: seed, pixels: false) }

    func make(seed: UInt64, pixels: Bool) -> Phantom {
        let rng = SeededRandom(seed: seed)
        // The background draws its structure from the generator first, so it is made either way.
        var field = background == .none && !pixels ? [] : background.render(width: width, height: height, level: backgroundLevel, rng: rng)
        if pixels { for i in 0..<field.count { field[i] += camera.backgroundPhotons } }
        let n: Int
        if let d = density { n = rng.poisson(d * Double(width * height)) }
        else { n = count.lowerBound + rng.int(count.upperBound - count.lowerBound + 1) }
        var truth: [TruthObject] = []
        let noise = camera.noiseSD
        for _ in 0..<n {
            let col = Double(margin + rng.int(width - 2 * margin)), row = Double(margin + rng.int(height - 2 * margin))
            let s = snr.lowerBound + rng.uniform() * (snr.upperBound - snr.lowerBound)
            if pixels { addGaussian(&field, width, height, col, row, sigma, s * noise) }
            truth.append(TruthObject(col: col, row: row, snr: s, kind: .spot))
        }
        return Phantom(image: pixels ? camera.expose(field, width: width, height: height, rng: rng) : camera.blank(width: width, height: height), truth: truth)
    }
}
