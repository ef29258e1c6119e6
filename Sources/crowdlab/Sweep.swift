import ArgumentParser
import Consensus
import Foundation
import Lab

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario over a grid of settings and seeds, in parallel; CSV, summary with intervals, plots.",
        discussion: """
        Each --vary adds an axis: key=v1,v2,... or key=start:stop:step. Every grid point \
        runs with --seeds seeds (the scenario's seed, +1, +2, ...). Writes into --out:
          runs.csv      one row per run
          summary.csv   mean and 95 % interval over seeds per grid point
          report.html   F1, recall, precision, cost and time against the first axis

        --shard i/N runs only every N-th run starting at the i-th, and writes \
        runs-shard-i-of-N.csv; `crowdlab merge` joins the shards into runs.csv, \
        summary.csv and report.html, byte-identical to the sweep run in one go.

        On a cluster: --slurm writes OUT/slurm/sweep.sbatch (a job array of --tasks \
        tasks, task i running shard i into OUT/shards) and OUT/slurm/merge.sbatch \
        (after all tasks succeed), submits both with sbatch and prints the job ids; \
        --slurm-dry-run only writes them. When tasks fail, `crowdlab sweep --resume \
        OUT` re-submits those whose shard is missing, and a new merge. --emit k8s \
        writes a Kubernetes Indexed Job and a merge Job instead (see docs/cluster.md).

        Example:
          crowdlab sweep Scenarios/spots-quickstart.yaml --vary job.replicates=3,5,10 \\
            --vary job.pay_usd=0.02,0.05 --seeds 3 --out Reports/sweep
          crowdlab sweep Scenarios/spots-quickstart.yaml --vary job.replicates=3,5,10 \\
            --seeds 20 --slurm --tasks 10 --sbatch-arg=--time=00:30:00 --out /shared/sweep
        """)

    @Argument(help: "Scenario YAML file.") var scenario: String?
    @Option(help: "An axis: key=v1,v2,... or key=start:stop:step (repeatable).") var vary: [String] = []
    @Option(help: "Seeds per grid point.") var seeds: Int = 3
    @Option(help: "Run only shard i of N (1-based), e.g. 2/8.") var shard: String?
    @Option(name: .customLong("set"), help: "Override a scenario key for every run: key=value (repeatable).") var overrides: [String] = []
    @OptionGroup var cluster: ClusterOptions
    @Option(help: "Output folder.") var out: String?

    func run() throws {
        if let dir = cluster.resume { return try resume(dir) }
        guard let scenario else { throw CLIError("sweep: give a scenario YAML file (or --resume DIR)") }
        guard let out else { throw CLIError("sweep: give --out DIR") }
        guard !vary.isEmpty else { throw CLIError("--vary: give at least one axis, e.g. --vary job.replicates=3,5,10") }
        guard (1...1000).contains(seeds) else { throw CLIError("--seeds: must be 1…1000") }
        let axes = try vary.map(Sweep.Axis.init(parsing:))
        let base = try Scenario.load(path: scenario, overrides: overrides)
        // Check every grid value parses before anything runs.
        for a in axes { for v in a.values { _ = try Scenario.load(path: scenario, overrides: overrides + ["\(a.key)=\(v)"]) } }
        let sweep = Sweep(scenarioPath: scenario, overrides: overrides, axes: axes, seeds: seeds)
        if cluster.slurm || cluster.emit != nil {
            return try layOut(scenario: scenario, runs: sweep.runs().count, title: "Sweep of \(base.name)", out: out)
        }
        try runHere(sweep, name: base.name, out: out)
    }

    /// Runs the sweep (or one shard of it) on this machine.
    func runHere(_ sweep: Sweep, name: String, out: String) throws {
        var runs = sweep.runs()
        var shardName: String? = nil
        if let shard {
            let p = shard.split(separator: "/").map { Int($0) }
            guard p.count == 2, let i = p[0], let n = p[1], n >= 1, i >= 1, i <= n else { throw CLIError("--shard: expected i/N with 1 <= i <= N, found \"\(shard)\"") }
            runs = SweepShards.select(runs, shard: i, of: n)
            shardName = SweepShards.fileName(i, of: n)
        }
        let total = runs.count
        let progress = Progress(stages: 1)
        progress.stage("sweep")
        let rows = try sweep.execute(runs) { done in progress.tick(done, total, "runs") }
        let csv = sweep.header() + "\n" + rows.map { $0 + "\n" }.joined()
        let stage = try OutputStage(destination: out)
        if let shardName {
            try stage.write(csv, shardName)
        } else {
            try stage.write(csv, "runs.csv")
            let table = try SweepSummary.summarise(csv: csv, file: "runs.csv")
            try stage.write(SweepSummary.csv(table), "summary.csv")
            try stage.write(SweepSummary.html(table, title: "Sweep of \(name)"), "report.html")
        }
        try stage.commit()
        progress.done()
        print("\(total) run(s) of \(name) → \(out)/\(shardName ?? "runs.csv, summary.csv, report.html")")
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join sweep shards into runs.csv, summary.csv and report.html.",
        discussion: "Example: crowdlab merge out/sweep/runs-shard-*.csv --out out/sweep")

    @Argument(help: "Shard CSV files written by `crowdlab sweep --shard`, or folders holding them.") var shards: [String]
    @Option(help: "Output folder.") var out: String
    @Option(help: "Report title.") var title: String = "Sweep"
    @Flag(name: .customLong("allow-partial"), help: "Merge the shards present when some are missing, and say which.") var allowPartial = false

    func run() throws {
        guard !shards.isEmpty else { throw CLIError("merge: give the shard CSV files or their folder") }
        let set = try SweepShards.gather(shards)
        var title = self.title
        if !set.missing.isEmpty {
            let list = set.missing.map(String.init).joined(separator: ", ")
            guard allowPartial else {
                throw CLIError("merge: missing shard(s) \(list) of \(set.count) (\(SweepShards.fileName(set.missing[0], of: set.count))…): their tasks failed or have not run; re-run them (crowdlab sweep --resume DIR) or pass --allow-partial")
            }
            FileHandle.standardError.write(Data("merge: partial: shard(s) \(list) of \(set.count) missing; merging the other \(set.files.count)\n".utf8))
            title += " (partial: shard(s) \(list) of \(set.count) missing)"
        }
        let (csv, runs) = try set.joinedRuns()
        let table = try SweepSummary.summarise(csv: csv, file: "runs.csv")
        let stage = try OutputStage(destination: out)
        try stage.write(csv, "runs.csv")
        try stage.write(SweepSummary.csv(table), "summary.csv")
        try stage.write(SweepSummary.html(table, title: title), "report.html")
        try stage.commit()
        print("merged \(runs) run(s) from \(set.files.count) shard(s) → \(out)/runs.csv, summary.csv, report.html")
    }
}
