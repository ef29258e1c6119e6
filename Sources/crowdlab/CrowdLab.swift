import ArgumentParser
import CAllocator

/// Sets the allocator up for crowdlab's work, then runs the command line.
@main
enum Entry {
    static func main() async {
        crowdlab_tune_allocator()
        await CrowdLab.main()
    }
}

struct CrowdLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crowdlab",
        abstract: "A lab for crowd-sourced image annotation: merge crowd clicks into consensus, score them, plan jobs.",
        subcommands: [Run.self, SweepCommand.self, Merge.self, Plan.self, PaperCommand.self, Generate.self, Simulate.self, Calibrate.self, Validate.self, Predict.self, Analyze.self, ReplayCommand.self, Compare.self, PopulationCommand.self, TurkCommand.self, JobCommand.self, Bench.self])
}
