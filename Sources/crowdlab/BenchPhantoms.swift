import ArgumentParser
import Consensus
import Crowd
import Foundation
import Imaging
import Phantoms
import Randomness

/// `crowdlab bench phantoms`: pixels per second rendering spot phantoms, with and without PNG encoding.
struct BenchPhantoms: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "phantoms", abstract: "Phantom pixels per second, with and without PNG encoding, 1 core and all cores.")
    @Option(help: "Images.") var images: Int = 64
    @Option(help: "Background: none, cells or tissue.") var background: String = "tissue"

    func run() throws {
        var configured = SpotsScene()
        guard let bg = Background(rawValue: background) else { throw CLIError("--background: expected none, cells or tissue") }
        configured.background = bg
        let scene = configured
        let pixels = Double(images * scene.width * scene.height)
        let seeds = Array(0..<images).map { UInt64($0) }
        func timed(threads: Int, encode: Bool) -> Double {
            Parallelism.maxThreads = threads
            defer { Parallelism.maxThreads = 0 }
            let t = Date()
            let out: [Int] = seeds.parallelMap { s in
                let p = scene.render(seed: s)
                return encode ? ((try? PNG.encode(p.image))?.count ?? 0) : p.image.samples.count
            }
            precondition(out.count == images)
            return Date().timeIntervalSince(t)
        }
        print("\(images) images of \(scene.width)x\(scene.height), \(background) background")
        for threads in [1, 0] {
            let render = timed(threads: threads, encode: false), png = timed(threads: threads, encode: true)
            print(String(format: "  %@  render %.2f M px/s   render + PNG %.2f M px/s", threads == 1 ? "1 core   " : "all cores", pixels / render / 1e6, pixels / png / 1e6))
        }
    }
}
