import ArgumentParser
import CAllocator
import Foundation

/// Sets the allocator up for crowdlab's work, then runs the command line. A refused command line
/// is one line on standard error (ArgumentParser's own report adds the option's help and the
/// usage); help and version go to standard output as usual.
@main
enum Entry {
    static func main() async {
        crowdlab_tune_allocator()
        do {
            var command = try CrowdLab.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            let code = CrowdLab.exitCode(for: error)
            guard code != .success else { print(CrowdLab.fullMessage(for: error)); exit(code.rawValue) }
            // An exit code thrown on purpose (plan: nothing meets the targets) has said its piece.
            if let message = CrowdLab.message(for: error).split(separator: "\n").first, !(error is ExitCode) {
                FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
            }
            exit(code.rawValue)
        }
    }
}

struct CrowdLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crowdlab",
        abstract: "A lab for crowd-sourced image annotation: merge crowd clicks into consensus, score them, plan jobs.",
        subcommands: [Run.self, SweepCommand.self, Merge.self, Plan.self, PaperCommand.self, Generate.self, Simulate.self, Calibrate.self, Validate.self, Predict.self, Analyze.self, ReplayCommand.self, Compare.self, PopulationCommand.self, TurkCommand.self, JobCommand.self, DetectCommand.self, Bench.self])
}
