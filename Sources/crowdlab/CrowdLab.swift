import ArgumentParser

@main
struct CrowdLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crowdlab",
        abstract: "A lab for crowd-sourced image annotation: merge crowd clicks into consensus, score them, plan jobs.",
        subcommands: [Run.self, SweepCommand.self, Merge.self, Plan.self, PaperCommand.self, Generate.self, Simulate.self, Calibrate.self, Analyze.self, Compare.self, PopulationCommand.self, Bench.self])
}
