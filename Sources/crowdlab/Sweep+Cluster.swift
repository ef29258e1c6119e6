import ArgumentParser
import Consensus
import Foundation
import Lab

/// Where a sweep's manifests are for, when not for Slurm.
enum ClusterEmit: String, ExpressibleByArgument, CaseIterable { case k8s }

/// The options that send a sweep to a cluster scheduler instead of running it here.
struct ClusterOptions: ParsableArguments {
    @Flag(help: "Submit to Slurm: a job array of --tasks tasks, then a merge that waits for them.") var slurm = false
    @Option(help: "Tasks (shards) for --slurm or --emit; default one per run, at most 100.") var tasks: Int?
    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: "An sbatch option for both scripts, e.g. --sbatch-arg=--time=00:30:00 (repeatable).") var sbatchArguments: [String] = []
    @Flag(name: .customLong("slurm-dry-run"), help: "With --slurm or --resume: write the scripts, submit nothing.") var dryRun = false
    @Option(help: "Re-submit the tasks of the cluster sweep in DIR whose shards are missing, and a new merge.") var resume: String?
    @Option(help: "Write scheduler manifests and submit nothing: k8s (an Indexed Job and a merge Job).") var emit: ClusterEmit?
    @Option(name: .customLong("k8s-image"), help: "With --emit k8s: a container image with crowdlab on its PATH.") var k8sImage: String?
    @Option(name: .customLong("k8s-claim"), help: "With --emit k8s: the PersistentVolumeClaim of the shared file system.") var k8sClaim = "crowdlab-shared"
}

extension SweepCommand {
    /// Writes the cluster layout of the sweep (and submits it to Slurm unless told not to).
    func layOut(scenario: String, runs: Int, title: String, out: String) throws {
        guard shard == nil else { throw CLIError("--shard: the cluster's tasks choose their shards; leave it out with --slurm or --emit") }
        guard !(cluster.slurm && cluster.emit != nil) else { throw CLIError("--emit: choose --slurm or --emit k8s, not both") }
        let tasks = cluster.tasks ?? min(runs, 100)
        guard tasks >= 1 else { throw CLIError("--tasks: must be at least 1") }
        guard tasks <= runs else { throw CLIError("--tasks: \(tasks) tasks for \(runs) run(s); give at most \(runs)") }
        let record = try ClusterSweep(
            binary: try Self.executablePath(), workingDirectory: FileManager.default.currentDirectoryPath,
            sweepArguments: [Self.absolute(scenario)] + vary.flatMap { ["--vary", $0] } + ["--seeds", String(seeds)]
                + overrides.flatMap { ["--set", $0] },
            out: Self.absolute(out), tasks: tasks, runs: runs, title: title, sbatchArguments: cluster.sbatchArguments)
        if !record.shards().files.isEmpty {
            throw CLIError("\(record.shardsFolder): holds shards of an earlier sweep; continue it with --resume \(out) or choose another --out")
        }
        if cluster.emit == .k8s { return try emitKubernetes(record) }
        if !cluster.dryRun { try Slurm.checkAvailable() }
        try writeScripts(record)
        if cluster.dryRun {
            print("wrote \(record.sweepScriptPath) (\(tasks) tasks, \(runs) runs) and \(record.mergeScriptPath); submit them with:")
            print("  jid=$(sbatch --parsable \(ClusterSweep.quote(record.sweepScriptPath)))")
            print("  sbatch --dependency=afterok:$jid \(ClusterSweep.quote(record.mergeScriptPath))")
            return
        }
        try submit(record, tasks: Array(1...tasks))
    }

    /// `--resume DIR`: re-submits the tasks whose shards are missing (all present: only the merge).
    func resume(_ dir: String) throws {
        guard scenario == nil, vary.isEmpty, overrides.isEmpty, shard == nil, !cluster.slurm, cluster.emit == nil else {
            throw CLIError("--resume: the sweep's settings come from \(dir)/slurm/sweep.json; give only --resume DIR (and --slurm-dry-run)")
        }
        let record = try ClusterSweep.load(out: dir)
        let missing = record.shards().missing
        if !cluster.dryRun { try Slurm.checkAvailable() }
        if !cluster.dryRun, let last = record.submissions.last {
            let active = try Slurm.active([last.arrayJob, last.mergeJob].filter { !$0.isEmpty })
            guard active.isEmpty else {
                let jobs = [last.arrayJob, last.mergeJob].filter { !$0.isEmpty }.joined(separator: ",")
                throw CLIError("--resume: jobs \(jobs) still have \(active.count) task(s) queued or running (squeue -j \(jobs)); wait for them or scancel them")
            }
        }
        try writeScripts(record)
        if cluster.dryRun {
            let array = missing.isEmpty ? "" : "--array=\(SweepShards.arrayRanges(missing)) "
            print("\(missing.count) of \(record.tasks) shard(s) missing\(missing.isEmpty ? "" : ": " + SweepShards.arrayRanges(missing)); would submit:")
            if !missing.isEmpty { print("  sbatch --parsable \(array)\(ClusterSweep.quote(record.sweepScriptPath))") }
            print("  sbatch --parsable \(missing.isEmpty ? "" : "--dependency=afterok:<that job> ")\(ClusterSweep.quote(record.mergeScriptPath))")
            return
        }
        try submit(record, tasks: missing)
    }

    func writeScripts(_ record: ClusterSweep) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: record.logsFolder, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: record.shardsFolder, withIntermediateDirectories: true)
        for (path, text) in [(record.sweepScriptPath, record.sweepScript()), (record.mergeScriptPath, record.mergeScript())] {
            try AtomicFile.write(Data(text.utf8), to: path)
            chmod(path, 0o755)
        }
        try record.save()
    }

    /// Submits the array for `tasks` (none: the merge alone) and the merge after it; records both.
    func submit(_ record: ClusterSweep, tasks: [Int]) throws {
        var record = record
        var array = ""
        var mergeOptions: [String] = []
        if !tasks.isEmpty {
            let options = tasks.count == record.tasks ? [] : ["--array=\(SweepShards.arrayRanges(tasks))"]
            array = try Slurm.submit(record.sweepScriptPath, options: options)
            mergeOptions = ["--dependency=afterok:\(array)"]
        }
        let merge = try Slurm.submit(record.mergeScriptPath, options: mergeOptions)
        record.submissions.append(.init(arrayJob: array, mergeJob: merge, tasks: tasks))
        try record.save()
        let jobs = [array, merge].filter { !$0.isEmpty }.joined(separator: ",")
        if tasks.isEmpty {
            print("all \(record.tasks) shards present; submitted merge job \(merge)")
        } else {
            print("submitted array job \(array) (tasks \(SweepShards.arrayRanges(tasks)) of \(record.tasks), \(record.runs) runs in all) and merge job \(merge) (runs once every task succeeded)")
        }
        print("watch:   squeue -j \(jobs)")
        print("account: sacct -j \(jobs) --format=JobID,JobName,State,ExitCode,Elapsed")
        print("results: \(record.out)/runs.csv, summary.csv, report.html; logs in \(record.logsFolder)")
        print("if a task fails: crowdlab sweep --resume \(ClusterSweep.quote(record.out))")
    }

    func emitKubernetes(_ record: ClusterSweep) throws {
        guard let image = cluster.k8sImage, !image.isEmpty else {
            throw CLIError("--k8s-image: give the container image that holds crowdlab (on its PATH), e.g. --k8s-image registry.example.org/crowdlab:1")
        }
        let mount = record.commonFolder
        let m = record.kubernetesManifests(image: image, claim: cluster.k8sClaim, mountPath: mount)
        let dir = (record.out as NSString).appendingPathComponent("k8s")
        try FileManager.default.createDirectory(atPath: record.shardsFolder, withIntermediateDirectories: true)
        let sweepPath = (dir as NSString).appendingPathComponent("sweep-job.yaml")
        let mergePath = (dir as NSString).appendingPathComponent("merge-job.yaml")
        try AtomicFile.write(Data(m.sweep.utf8), to: sweepPath)
        try AtomicFile.write(Data(m.merge.utf8), to: mergePath)
        print("wrote \(sweepPath) (an Indexed Job of \(record.tasks) completions) and \(mergePath); claim \(cluster.k8sClaim) mounted at \(mount). Run:")
        print("  kubectl apply -f \(ClusterSweep.quote(sweepPath))")
        print("  kubectl wait --for=condition=complete --timeout=24h job/crowdlab-sweep")
        print("  kubectl apply -f \(ClusterSweep.quote(mergePath))")
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// This binary's real path, which the cluster's tasks run.
    static func executablePath() throws -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return absolute(CommandLine.arguments[0])
    }
}
