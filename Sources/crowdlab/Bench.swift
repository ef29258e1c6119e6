import ArgumentParser
import Consensus
import Randomness
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each against a peer measured in the same run.",
        subcommands: [BenchAnalyze.self, BenchMethods.self, BenchSimulate.self, BenchPhantoms.self, BenchTurk.self, BenchDetect.self])
}
