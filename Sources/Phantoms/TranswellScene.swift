import Foundation
import Imaging
import Randomness

/// The Quanti.us paper's first task: fluorescent cells (about 13 px across) that migrated through
/// a porous membrane, and autofluorescent pores on a lattice: dimmer and smaller, but easy to
/// confuse with cells. Pores are written to the truth as kind "pore" (distractors, not objects).
public struct TranswellScene: PhantomScene, Equatable {
    public var name: String { "transwell" }
    public var width = 400
    public var height = 400
    /// Cell diameter (FWHM) in px.
    public var cellDiameter = 13.0
    public var cells: ClosedRange<Int> = 40...120
    public var cellSNR: ClosedRange<Double> = 2...20
    /// Pore lattice spacing (px), pore FWHM (px) and SNR: dimmer and smaller than cells, but not by much.
    public var poreSpacing = 28.0
    public var poreDiameter = 7.0
    public var poreSNR: ClosedRange<Double> = 3...8
    /// Uneven illumination: the background rises by this share of itself across the field.
    public var illuminationGradient = 0.45
    /// Share of lattice sites that hold a visible pore.
    public var poreFill = 0.7
    public var camera = Camera()

    public init() {}

    public func render(seed: UInt64) -> Phantom { make(seed: seed, pixels: true) }
    public func layout(seed: UInt64) -> Phantom { make(seed: seed, pixels: false) }

    func make(seed: UInt64, pixels: Bool) -> Phantom {
        let rng = SeededRandom(seed: seed)
        var field = [Double](repeating: camera.backgroundPhotons, count: pixels ? width * height : 0)
        // Uneven illumination in a random direction: what defeats one global threshold.
        let angle = rng.uniform() * 2 * Double.pi
        let gx = cos(angle), gy = sin(angle)
        if pixels { for r in 0..<height { for c in 0..<width {
            let t = (gx * (Double(c) / Double(width) - 0.5) + gy * (Double(r) / Double(height) - 0.5)) + 0.5
            field[r * width + c] *= 1 + illuminationGradient * max(0, min(1, t))
        } } }
        let noise = camera.noiseSD
        var truth: [TruthObject] = []
        // Pores: a hexagonal lattice with a random offset and small jitter.
        let ox = rng.uniform() * poreSpacing, oy = rng.uniform() * poreSpacing
        let poreSigma = poreDiameter / 2.3548
        var row = oy, line = 0
        while row < Double(height) - 2 {
            var col = ox + (line % 2 == 0 ? 0 : poreSpacing / 2)
            while col < Double(width) - 2 {
                if rng.uniform() < poreFill {
                    let c = (col + rng.gaussian(sigma: 0.8)).rounded(), r = (row + rng.gaussian(sigma: 0.8)).rounded()
                    if c >= 2, r >= 2, c < Double(width - 2), r < Double(height - 2) {
                        let s = poreSNR.lowerBound + rng.uniform() * (poreSNR.upperBound - poreSNR.lowerBound)
                        if pixels { addGaussian(&field, width, height, c, r, poreSigma, s * noise) }
                        truth.append(TruthObject(col: c, row: r, snr: s, kind: .pore))
                    }
                }
                col += poreSpacing
            }
            row += poreSpacing * 0.866
            line += 1
        }
        // Cells: soft-edged discs (a flat-topped profile: two Gaussians) with some texture.
        let n = cells.lowerBound + rng.int(cells.upperBound - cells.lowerBound + 1)
        let cellSigma = cellDiameter / 2.3548
        let m = Int(cellDiameter)
        for _ in 0..<n {
            let c = Double(m + rng.int(width - 2 * m)), r = Double(m + rng.int(height - 2 * m))
            let s = cellSNR.lowerBound + rng.uniform() * (cellSNR.upperBound - cellSNR.lowerBound)
            // The texture's offset is drawn whether or not pixels are made, so the truth that
            // follows is the same either way.
            let tc = c + rng.gaussian(sigma: 1), tr = r + rng.gaussian(sigma: 1)
            if pixels {
                addGaussian(&field, width, height, c, r, cellSigma, 0.7 * s * noise)
                addGaussian(&field, width, height, tc, tr, cellSigma * 0.5, 0.3 * s * noise)
            }
            truth.append(TruthObject(col: c, row: r, snr: s, kind: .cell))
        }
        return Phantom(image: pixels ? camera.expose(field, width: width, height: height, rng: rng) : camera.blank(width: width, height: height), truth: truth)
    }
}
