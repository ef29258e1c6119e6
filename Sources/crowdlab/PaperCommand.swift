import ArgumentParser
import Consensus
import Foundation
import Lab
import Reports

struct PaperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paper",
        abstract: "Re-run the Quanti.us paper's crowd findings on phantoms: a teaching report and paper.json.",
        discussion: """
        Writes DIR/report.html (a section and a figure per claim, the paper's value beside \
        the simulated one and why it happens, and Fig. 1c: each worker against the \
        threshold-watershed-size pipeline), DIR/paper.json (id, claim, paper, simulated, \
        tolerance, holds; holds is computed), and every simulated export of the first seed as \
        DIR/exports/<experiment>/export.json with truth/<image>.csv, so anyone can re-analyse it.

        Each experiment is also a scenario file, Scenarios/paper-*.yaml, for crowdlab run and sweep.
        """)

    @Option(help: "Output folder.") var out: String = "Reports/paper"
    @Option(help: "Seeds: the claims are stated on the mean of the experiments over these (comma-separated).") var seeds: String = "1,2,3,4,5"

    func run() throws {
        let seedList = seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !seedList.isEmpty, seedList.count == seeds.split(separator: ",").count else { throw CLIError("--seeds: expected whole numbers like 1,2,3, found \"\(seeds)\"") }
        let progress = Progress(stages: 4 * seedList.count + 1)
        let start = Date()
        let result = try Paper.run(seeds: seedList) { progress.stage($0) }
        progress.stage("writing \(out)")
        let writeStart = Date()
        try write(result)
        progress.done()
        printSummary(result, total: Date().timeIntervalSince(start), writing: Date().timeIntervalSince(writeStart))
    }

    /// The report, paper.json and each experiment's export with its truth and how to re-analyse it.
    func write(_ result: Paper.Result) throws {
        let stage = try OutputStage(destination: out)
        try stage.write(Paper.json(result), "paper.json")
        try stage.write(Paper.html(result), "report.html")
        for e in result.experiments {
            try stage.write(ExportWriter.encode(e.outcome.simulation.export), "exports/\(e.name)/export.json")
            for (name, csv) in Paper.truthFiles(e.outcome) { try stage.write(csv, "exports/\(e.name)/truth/\(name)") }
            // How the claim analysed it, so a re-analysis gives the same numbers.
            let sc = e.outcome.scenario
            var command = "crowdlab analyze export.json --truth truth --method \(sc.method)"
            if let r = sc.subtractiveRadius { command += " --radius \(r)" }
            command += " --match-radius \(formatNumber(sc.matchRadius))"
            try stage.write("\(sc.description.isEmpty ? e.name : sc.description)\nRe-analyse as the paper report did:\n  \(command)\n", "exports/\(e.name)/README.txt")
        }
        try stage.commit()
    }

    /// Each claim against the paper, then where the time went.
    func printSummary(_ result: Paper.Result, total: Double, writing: Double) {
        for c in result.claims {
            print((c.holds ? "holds  " : "FAILS  ") + c.id.padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: "paper %10.4g  simulated %10.4g  ± %.3g", c.paper, c.simulated, c.tolerance))
        }
        func list(_ t: [(String, Double)]) -> String { t.map { String(format: "%@ %.1f s", $0.0, $0.1) }.joined(separator: ", ") }
        let held = result.claims.filter(\.holds).count
        print(String(format: "%d of %d claims hold; %.1f s (experiments %@; writing %.1f s)", held, result.claims.count, total, list(result.timings), writing))
        let work = result.phases + [("writing the report and exports", writing)]
        let sum = work.map(\.1).reduce(0, +)
        print("time by kind of work: " + work.map { String(format: "%@ %.1f s (%.0f %%)", $0.0, $0.1, 100 * $0.1 / max(sum, 1e-9)) }.joined(separator: ", "))
        print("wrote \(out)/report.html, paper.json, exports/")
    }
}
