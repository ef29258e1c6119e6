import Consensus
import Foundation

/// A sweep laid out for a cluster scheduler: one task per shard writing into `OUT/shards`, then a
/// merge into `OUT`. The layout is recorded in `OUT/slurm/sweep.json` so a later `--resume` knows
/// what to re-submit. Every path in the scripts is absolute and shell-quoted, so they run from any
/// working directory on the cluster's shared file system.
public struct ClusterSweep: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public var version = ClusterSweep.formatVersion
    /// The crowdlab binary the tasks run (absolute).
    public var binary: String
    /// Where the sweep was launched; the tasks start there too.
    public var workingDirectory: String
    /// `crowdlab sweep`'s arguments without `--shard` and `--out`: the scenario (absolute) first.
    public var sweepArguments: [String]
    /// The output folder (absolute).
    public var out: String
    public var tasks: Int
    public var runs: Int
    public var title: String
    /// Extra `#SBATCH` options, in the order given.
    public var sbatchArguments: [String]
    public var submissions: [Submission] = []

    /// One `sbatch` of the array (all tasks or those re-submitted) and its merge.
    public struct Submission: Codable, Sendable, Equatable {
        public var arrayJob: String
        public var mergeJob: String
        public var tasks: [Int]
        public init(arrayJob: String, mergeJob: String, tasks: [Int]) { self.arrayJob = arrayJob; self.mergeJob = mergeJob; self.tasks = tasks }
    }

    public init(binary: String, workingDirectory: String, sweepArguments: [String], out: String, tasks: Int, runs: Int,
                title: String, sbatchArguments: [String]) throws {
        self.binary = binary; self.workingDirectory = workingDirectory; self.sweepArguments = sweepArguments
        self.out = out; self.tasks = tasks; self.runs = runs; self.title = title; self.sbatchArguments = sbatchArguments
        try validate()
    }

    public var shardsFolder: String { (out as NSString).appendingPathComponent("shards") }
    public var slurmFolder: String { (out as NSString).appendingPathComponent("slurm") }
    public var logsFolder: String { (slurmFolder as NSString).appendingPathComponent("logs") }
    public var recordPath: String { (slurmFolder as NSString).appendingPathComponent("sweep.json") }
    public var sweepScriptPath: String { (slurmFolder as NSString).appendingPathComponent("sweep.sbatch") }
    public var mergeScriptPath: String { (slurmFolder as NSString).appendingPathComponent("merge.sbatch") }

    /// Options the scripts set themselves, and text an `#SBATCH` line cannot carry.
    func validate() throws {
        for a in sbatchArguments {
            guard a.hasPrefix("-") else { throw InputError(file: "--sbatch-arg", message: "\"\(a)\" is not an sbatch option (write --sbatch-arg=--time=01:00:00)") }
            let name = String(a.prefix { $0 != "=" && $0 != " " })
            for own in ["--array", "-a", "--dependency", "-d", "--output", "-o", "--job-name", "-J", "--chdir", "-D"] where name == own {
                throw InputError(file: "--sbatch-arg", message: "\(own) is set by crowdlab itself")
            }
            guard !a.contains(where: { $0.isNewline }) else { throw InputError(file: "--sbatch-arg", message: "an option cannot hold a line break") }
        }
        for (what, p) in [("--out", out), ("the working directory", workingDirectory)] where p.contains(where: { $0.isWhitespace }) {
            throw InputError(file: what, message: "\(p): Slurm's #SBATCH --output cannot take a path with spaces; choose another folder")
        }
    }

    // MARK: Slurm

    /// The array job: task `i` runs shard `i` of `tasks`.
    public func sweepScript() -> String {
        var s = """
        #!/bin/bash
        # A crowdlab sweep as a Slurm job array: task i runs shard i of \(tasks) into shards/.
        # Submitted by `crowdlab sweep --slurm`; `crowdlab sweep --resume \(Self.quote(out))` re-submits
        # the tasks whose shard is missing.
        #SBATCH --job-name=crowdlab-sweep
        #SBATCH --array=1-\(tasks)
        #SBATCH --output=\(logsFolder)/sweep-%A_%a.out

        """
        for a in sbatchArguments { s += "#SBATCH \(a)\n" }
        s += "set -euo pipefail\ncd \(Self.quote(workingDirectory))\n"
        let command = [binary, "sweep"] + sweepArguments
        s += "exec " + command.map(Self.quote).joined(separator: " ")
            + " --shard \"${SLURM_ARRAY_TASK_ID}/\(tasks)\" --out \(Self.quote(shardsFolder))\n"
        return s
    }

    /// The merge, submitted with `--dependency=afterok:<array job>`; cancelled by Slurm when a task
    /// fails (`--kill-on-invalid-dep`), so it never waits forever.
    public func mergeScript() -> String {
        var s = """
        #!/bin/bash
        # Merges the shards of a crowdlab sweep once every array task has succeeded.
        #SBATCH --job-name=crowdlab-merge
        #SBATCH --output=\(logsFolder)/merge-%j.out
        #SBATCH --kill-on-invalid-dep=yes

        """
        for a in sbatchArguments where !a.hasPrefix("--array") { s += "#SBATCH \(a)\n" }
        s += "set -euo pipefail\ncd \(Self.quote(workingDirectory))\n"
        s += "exec " + [binary, "merge", shardsFolder, "--title", title, "--out", out].map(Self.quote).joined(separator: " ") + "\n"
        return s
    }

    // MARK: Kubernetes

    /// An Indexed Job (completion index `k` runs shard `k + 1`) and a merge Job, both mounting the
    /// claim `claim` at `mountPath`, which must hold the scenario and the output folder.
    public func kubernetesManifests(image: String, claim: String, mountPath: String, binary: String = "crowdlab") -> (sweep: String, merge: String) {
        let name = "crowdlab-sweep"
        let task = ([binary, "sweep"] + sweepArguments).map(Self.quote).joined(separator: " ")
            + " --shard \"$((JOB_COMPLETION_INDEX + 1))/\(tasks)\" --out \(Self.quote(shardsFolder))"
        let merge = [binary, "merge", shardsFolder, "--title", title, "--out", out].map(Self.quote).joined(separator: " ")
        func job(_ jobName: String, _ spec: String, _ command: String) -> String {
            """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: \(jobName)
              labels:
                app.kubernetes.io/name: crowdlab
            spec:
            \(spec)  template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: crowdlab
                    image: \(Self.yamlString(image))
                    workingDir: \(Self.yamlString(workingDirectory))
                    command: ["/bin/sh", "-c", \(Self.yamlString("exec " + command))]
                    volumeMounts:
                    - name: shared
                      mountPath: \(Self.yamlString(mountPath))
                  volumes:
                  - name: shared
                    persistentVolumeClaim:
                      claimName: \(Self.yamlString(claim))

            """
        }
        let indexed = "  completions: \(tasks)\n  parallelism: \(tasks)\n  completionMode: Indexed\n  backoffLimit: \(3 * tasks)\n"
        return (job(name, indexed, task), job("crowdlab-merge", "  backoffLimit: 2\n", merge))
    }

    /// The deepest folder holding both the working directory and the output folder (the scenario
    /// is under one of them or must be on the claim too).
    public var commonFolder: String {
        let paths = [workingDirectory, out, sweepArguments.first.map { ($0 as NSString).deletingLastPathComponent } ?? out]
        let parts = paths.map { $0.split(separator: "/").map(String.init) }
        var common = parts[0]
        for p in parts.dropFirst() { common = zip(common, p).prefix { $0 == $1 }.map(\.0) }
        return "/" + common.joined(separator: "/")
    }

    // MARK: Record

    public func save() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self) + Data("\n".utf8), to: recordPath)
    }

    public static func load(out: String) throws -> ClusterSweep {
        let path = ((out as NSString).appendingPathComponent("slurm") as NSString).appendingPathComponent("sweep.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "no cluster sweep here (write one with crowdlab sweep --slurm --out \(out))")
        }
        let record: ClusterSweep
        do { record = try JSONDecoder().decode(ClusterSweep.self, from: data) } catch {
            throw InputError(file: path, message: "not a crowdlab cluster sweep record")
        }
        guard record.version == formatVersion else {
            throw InputError(file: path, field: "version", message: "version \(record.version); this crowdlab reads \(formatVersion)")
        }
        try record.validate()
        return record
    }

    /// The shards present in `OUT/shards` (none when it does not exist yet).
    public func shards() -> SweepShards {
        var files: [Int: String] = [:]
        for i in 1...tasks {
            let f = (shardsFolder as NSString).appendingPathComponent(SweepShards.fileName(i, of: tasks))
            if FileManager.default.fileExists(atPath: f) { files[i] = f }
        }
        return SweepShards(count: tasks, files: files)
    }

    /// POSIX shell single quotes: the text exactly, whatever it holds.
    public static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=:,+@%".contains($0)) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A YAML double-quoted scalar: a JSON string literal is one (YAML 1.2 reads JSON).
    static func yamlString(_ s: String) -> String { jsonString(s) }
}
