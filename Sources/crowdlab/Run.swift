import ArgumentParser
import Consensus
import Foundation
import Lab

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario end to end: phantoms, simulated crowd, consensus, report.",
        discussion: """
        A scenario file (YAML) names a phantom scene, a crowd population, a job \
        (images, workers per image, pay) and the analysis; see Scenarios/*.yaml. \
        Writes Reports/<scenario>/ by default: report.html, metrics.json, export.json, \
        images/ and truth/ (so anyone can re-analyse it), consensus.csv, workers.csv.

        crowd.population is a built-in population (paper, transwell, experts) or a population YAML; a path is relative to the scenario's folder, not the working directory.

        Examples:
          crowdlab run Scenarios/spots-quickstart.yaml
          crowdlab run Scenarios/spots-quickstart.yaml --seed 7 \\
            --set job.replicates=5 --set job.pay_usd=0.05
        """)

    @Argument(help: "Scenario YAML file.") var scenario: String
    @Option(help: "Output folder (default Reports/<scenario name>).") var out: String?
    @Option(help: "Seed (overrides the scenario's).") var seed: UInt64?
    @Option(name: .customLong("set"), help: "Override a scenario key: key=value (repeatable).") var overrides: [String] = []

    func run() throws {
        var s = try Scenario.load(path: scenario, overrides: overrides)
        if let seed { s.seed = seed }
        let progress = Progress(stages: 2)
        progress.stage("running \(s.name): \(s.images) image(s) x \(s.replicates) workers")
        let outcome = try LabRun.run(s)
        let dir = out ?? "Reports/\(s.name)"
        progress.stage("writing \(dir)")
        try LabRun.write(outcome, to: dir)
        progress.done()
        for (k, v) in LabRun.preface(outcome) { print("\(k): \(v)") }
        if let o = outcome.analysis.overall {
            print(String(format: "consensus vs truth: precision %.3f  recall %.3f  F1 %.3f", o.precision, o.recall, o.f1))
        }
        print("wrote \(dir)/report.html")
    }
}
