import ArgumentParser
import Consensus
import Foundation
import Imaging
import Phantoms
import Randomness

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render synthetic microscopy images with exact truth.",
        discussion: """
        Writes DIR/<scene>_<n>.png and DIR/<scene>_<n>_truth.csv (col,row,snr,kind; \
        row counted from the top, as the real truth files). Image n uses a seed \
        derived from --seed and n, so any image can be re-rendered alone and the \
        output does not depend on the number of threads.

        Scenes:
          spots      Gaussian spots (defaults match the real Quanti.us spot images:
                     300x300, sigma 1.75, 50-150 spots, SNR 5-20)
          transwell  cells about 13 px across and dimmer pores on a lattice
                     (kind "pore": distractors, not objects)
          nuclei     500x500 RGB: 60-110 touching, unevenly stained nuclei
                     (blue) in spreading clusters with cytoplasm (green)
        Movies (--count frames; DIR/<scene>_<t>.png and DIR/<scene>_<t>_truth.json with \
        objects {id, track, kind, label, points} in image coordinates):
          filaments  gliding microtubules: log-normal lengths, set speeds, crossings
          tissue     a growing, branching epithelial outline with a stall then a
                     buckling step, migrating cells on the background
          mouse      ventral view: nose, paws and tail base in a trotting gait,
                     contrast varying over the movie

        Examples:
          crowdlab generate spots --count 9 --seed 1 --background tissue \\
            --out out/spots
          crowdlab generate transwell --count 4 --seed 2 --out out/transwell
        """)

    @Argument(help: "Scene: spots, transwell, nuclei, or a movie: filaments, tissue, mouse.") var scene: SceneName
    @Option(help: "Number of images.") var count: Int = 1
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Output folder.") var out: String
    @Option(help: "Image width in px.") var width: Int?
    @Option(help: "Image height in px.") var height: Int?
    @Option(help: "spots: objects per image, N or MIN-MAX.") var spots: String?
    @Option(help: "spots: objects per square pixel (replaces --spots).") var density: Double?
    @Option(help: "spots: PSF sigma in px.") var sigma: Double?
    @Option(help: "Object SNR range MIN-MAX.") var snr: String?
    @Option(help: "spots: background none, cells or tissue.") var background: Background?
    @Option(help: "transwell and nuclei: cells per image, N or MIN-MAX.") var cells: String?
    @Option(help: "transwell: pore lattice spacing in px.") var poreSpacing: Double?
    @Option(help: "nuclei: semi-major axis of a nucleus in px, X or MIN-MAX (default 4.5-6.5).") var nucleusRadius: String?
    @Option(help: "Bit depth: 8 or 16.") var bitDepth: Int = 8

    func validate() throws {
        guard count >= 1 else { throw CLIError("--count: must be at least 1") }
        guard bitDepth == 8 || bitDepth == 16 else { throw CLIError("--bit-depth: must be 8 or 16") }
        if let w = width, w < 16 || w > 20000 { throw CLIError("--width: must be 16…20000 px") }
        if let h = height, h < 16 || h > 20000 { throw CLIError("--height: must be 16…20000 px") }
        if let s = sigma, !(s > 0 && s < 50) { throw CLIError("--sigma: must be in (0, 50) px") }
        if let d = density, !(d > 0 && d < 0.1) { throw CLIError("--density: must be in (0, 0.1) objects per px²") }
    }

    func run() throws {
        let settings = try sceneSettings()
        if let problem = scene.sizeProblem(settings) { throw CLIError("--width/--height: \(problem)") }
        if let movie = scene.movie(settings) { try writeMovie(movie); return }
        guard let phantomScene = scene.still(settings) else { throw CLIError("no scene \(scene.rawValue)") }
        let progress = Progress(stages: 2)
        progress.stage("rendering \(count) \(scene.rawValue) image(s)")
        let indices = Array(0..<count)
        let rendered: [(Data, String)] = indices.parallelMap { i in
            let p = phantomScene.render(seed: SeededRandom.derive(seed, UInt64(i)))
            return ((try? PNG.encode(p.image)) ?? Data(), truthCSV(p.truth))
        }
        progress.stage("writing \(out)")
        let stage = try OutputStage(destination: out)
        for (i, (png, csv)) in rendered.enumerated() {
            guard !png.isEmpty else { throw CLIError("generate: PNG encoding failed for image \(i)") }
            let id = String(format: "%@_%04d", scene.rawValue, i)
            try stage.write(png, id + ".png")
            try stage.write(csv, id + "_truth.csv")
        }
        try stage.commit()
        progress.done()
        let objects = rendered.reduce(0) { $0 + $1.1.split(separator: "\n").count - 1 }
        print("wrote \(count) image(s) and truth files (\(objects) truth rows) to \(out)")
    }

    func writeMovie(_ movie: any MovieScene) throws {
        let progress = Progress(stages: 2)
        progress.stage("rendering \(count) frame(s) of \(scene.rawValue)")
        let frames: [(Data, Data)] = Array(0..<count).parallelMap { t in
            let f = movie.frame(t, of: count, seed: seed)
            return ((try? PNG.encode(f.image)) ?? Data(), (try? f.truthJSON()) ?? Data())
        }
        progress.stage("writing \(out)")
        let stage = try OutputStage(destination: out)
        for (t, (png, json)) in frames.enumerated() {
            guard !png.isEmpty, !json.isEmpty else { throw CLIError("generate: encoding failed for frame \(t)") }
            let id = String(format: "%@_%04d", scene.rawValue, t)
            try stage.write(png, id + ".png")
            try stage.write(json, id + "_truth.json")
        }
        try stage.commit()
        progress.done()
        print("wrote \(count) frame(s) of \(scene.rawValue) with truth JSON to \(out)")
    }

    /// The options as the scene registry takes them (`SceneSettings`); for transwell and nuclei --cells
    /// and for spots --spots give the objects per image. Movies take size, bit depth and (filaments) SNR.
    func sceneSettings() throws -> SceneSettings {
        var s = SceneSettings()
        s.width = width; s.height = height; s.bitDepth = bitDepth
        if let v = snr { s.snr = try doubleRange(v, "--snr") }
        guard !scene.isMovie else { return s }
        switch scene {
        case .spots:
            if let v = spots { s.objects = try intRange(v, "--spots") }
            s.density = density; s.sigma = sigma; s.background = background
        case .transwell:
            if let v = cells { s.objects = try intRange(v, "--cells") }
            if let v = poreSpacing {
                guard v >= 4 else { throw CLIError("--pore-spacing: must be at least 4 px") }
                s.poreSpacing = v
            }
        case .nuclei:
            if let v = cells { s.objects = try intRange(v, "--cells") }
            if let v = nucleusRadius {
                let r = try doubleRange(v, "--nucleus-radius")
                guard r.lowerBound >= 2, r.upperBound <= 40 else { throw CLIError("--nucleus-radius: must lie within 2-40 px") }
                s.nucleusRadius = r
            }
        case .filaments, .tissue, .mouse:
            break
        }
        return s
    }
}

/// "50-150" or "80" → a closed range; one-line errors name the option.
func intRange(_ s: String, _ option: String) throws -> ClosedRange<Int> {
    guard let r = RangeSpec.int(s) else { throw CLIError("\(option): expected N or MIN-MAX with 0 <= MIN <= MAX, found \"\(s)\"") }
    return r
}

func doubleRange(_ s: String, _ option: String) throws -> ClosedRange<Double> {
    guard let r = RangeSpec.double(s) else { throw CLIError("\(option): expected X or MIN-MAX with 0 < MIN <= MAX, found \"\(s)\"") }
    return r
}
