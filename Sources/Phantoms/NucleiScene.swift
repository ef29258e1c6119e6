import Foundation
import Imaging
import Randomness

/// Nuclei of epithelial cells spreading in clusters, as in the Quanti.us paper's Fig. 2d (mammary
/// epithelial cells, a nuclear stain and a second channel): 500 x 500 RGB, nuclei in the blue
/// channel as elliptical discs with soft edges, packed in clusters so that many touch or overlap,
/// each stained unevenly (a brightness per nucleus and a slow gradient across the frame) over the
/// stain's out-of-focus haze beneath each cluster, and the cells' cytoplasm as a dim, smooth glow
/// around each cluster in the green channel. The truth is each nucleus's centre.
public struct NucleiScene: PhantomScene, Equatable {
    public var name: String { "nuclei" }
    public var width = 500
    public var height = 500
    /// Nuclei per frame, drawn uniformly (the paper's frames hold 60-110).
    public var count: ClosedRange<Int> = 60...110
    public var clusters: ClosedRange<Int> = 3...6
    /// Semi-major axis of a nucleus, px.
    public var radius: ClosedRange<Double> = 4.5...6.5
    /// Centres at least this many radii apart: below 2 nuclei touch or overlap.
    public var packing = 1.8
    /// Peak photons of a nucleus above the background, before the stain's variation.
    public var brightness = 120.0
    /// Spread of the stain from nucleus to nucleus (log-normal σ): a few take up 3x the dye of others.
    public var stainSpread = 0.5
    /// Out-of-focus light of the nuclear stain under each cluster, as a share of `brightness`.
    public var haze = 0.35
    public var camera: Camera = {
        var c = Camera()
        c.backgroundPhotons = 20
        return c
    }()

    public init() {}

    public func render(seed: UInt64) -> Phantom { make(seed: seed, pixels: true) }
    public func layout(seed: UInt64) -> Phantom { make(seed: seed, pixels: false) }

    func make(seed: UInt64, pixels: Bool) -> Phantom {
        let rng = SeededRandom(seed: seed)
        let n = count.lowerBound + rng.int(count.upperBound - count.lowerBound + 1)
        let k = clusters.lowerBound + rng.int(clusters.upperBound - clusters.lowerBound + 1)
        // Clusters and their glow grow with the nuclei: the default radii give a scale of exactly 1.
        let scale = (radius.lowerBound + radius.upperBound) / 2 / 5.5
        let centres = (0..<k).map { _ in (col: 80 + rng.uniform() * Double(width - 160), row: 80 + rng.uniform() * Double(height - 160)) }
        // Uneven illumination: a slow gradient across the frame, up to 1.6x from one side to the other.
        let tilt = (col: (rng.uniform() - 0.5) * 1.2 / Double(width), row: (rng.uniform() - 0.5) * 1.2 / Double(height))
        struct Nucleus { var col: Double, row: Double, a: Double, b: Double, angle: Double, stain: Double }
        var nuclei: [Nucleus] = []
        var attempts = 0
        while nuclei.count < n && attempts < 50 * n {
            attempts += 1
            let c = centres[rng.int(k)]
            // Clusters spread: nuclei fall off from the centre with a Gaussian of 35 px (at the default radii).
            let col = c.col + rng.gaussian(sigma: 35 * scale), row = c.row + rng.gaussian(sigma: 35 * scale)
            let a = radius.lowerBound + rng.uniform() * (radius.upperBound - radius.lowerBound)
            guard col > a + 2, col < Double(width) - a - 2, row > a + 2, row < Double(height) - a - 2 else { continue }
            guard nuclei.allSatisfy({ ($0.col - col) * ($0.col - col) + ($0.row - row) * ($0.row - row) >= packing * packing * $0.a * a }) else { continue }
            let stain = exp(rng.gaussian(sigma: stainSpread)) * (1 + tilt.col * (col - Double(width) / 2) + tilt.row * (row - Double(height) / 2))
            nuclei.append(Nucleus(col: col, row: row, a: a, b: a * (0.7 + 0.3 * rng.uniform()), angle: rng.uniform() * .pi, stain: stain))
        }
        let noise = camera.noiseSD
        let truth = nuclei.map { TruthObject(col: $0.col, row: $0.row, snr: brightness * $0.stain / noise, kind: .cell) }
        guard pixels else { return Phantom(image: Image(width: width, height: height, channels: 3), truth: truth) }
        var blue = [Double](repeating: camera.backgroundPhotons, count: width * height)
        var green = blue
        for nu in nuclei {
            let reach = Int(nu.a + 3), ca = cos(nu.angle), sa = sin(nu.angle)
            for r in max(0, Int(nu.row) - reach)...min(height - 1, Int(nu.row) + reach) {
                for c in max(0, Int(nu.col) - reach)...min(width - 1, Int(nu.col) + reach) {
                    let dx = Double(c) - nu.col, dy = Double(r) - nu.row
                    let u = (dx * ca + dy * sa) / nu.a, v = (-dx * sa + dy * ca) / nu.b
                    let rho = (u * u + v * v).squareRoot()
                    // A disc with a soft edge (about 1.5 px wide) and a little chromatin texture.
                    let disc = 1 / (1 + exp((rho - 1) * nu.a / 0.75))
                    blue[r * width + c] += brightness * nu.stain * disc * (0.85 + 0.15 * cos((dx * 0.9 + dy * 0.7) / scale))
                }
            }
        }
        for c in centres {
            let spread = 70.0 * scale, glow = haze * brightness
            for r in max(0, Int(c.row - 3 * spread))...min(height - 1, Int(c.row + 3 * spread)) {
                for q in max(0, Int(c.col - 3 * spread))...min(width - 1, Int(c.col + 3 * spread)) {
                    let d2 = (Double(q) - c.col) * (Double(q) - c.col) + (Double(r) - c.row) * (Double(r) - c.row)
                    let g = exp(-d2 / (2 * spread * spread))
                    green[r * width + q] += 25 * g
                    blue[r * width + q] += glow * exp(-d2 / (2 * 0.6 * spread * 0.6 * spread))
                }
            }
        }
        // One gain for both channels (set by the brightest nucleus), as one camera records both.
        var shared = camera
        shared.gain = camera.gain ?? (255 * 0.85 - camera.offset) / max((blue.max() ?? 1) + 4 * noise, 1)
        let b = shared.expose(blue, width: width, height: height, rng: rng), g = shared.expose(green, width: width, height: height, rng: rng)
        var image = Image(width: width, height: height, channels: 3, bitDepth: 8)
        for i in 0..<(width * height) {
            image.samples[i * 3 + 1] = g.samples[i]
            image.samples[i * 3 + 2] = b.samples[i]
        }
        return Phantom(image: image, truth: truth)
    }
}
