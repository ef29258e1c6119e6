import Foundation
import XCTest

/// `crowdlab sweep --slurm` and `--emit k8s` as a cluster runs them: the written scripts executed
/// the way the scheduler would (each task with its index in the environment, from another working
/// directory), the merge compared with the sweep run in one go. Tests/External/slurm_sweep.sh runs
/// the same under a real Slurm.
final class ClusterSweepCommandTests: XCTestCase {
    let cli = CLIRunner()
    let grid = ["Scenarios/spots-quickstart.yaml", "--vary", "job.replicates=3,5", "--seeds", "2", "--set", "scene.images=3"]

    /// Runs a written script with `bash` in `/`, as a scheduler's task would.
    func task(_ script: String, _ environment: [String: String] = [:]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script]
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        return p.terminationStatus
    }

    func testSlurmScriptsRunAsTasksAndMergeToTheSweepRunInOneGo() throws {
        let dir = cli.temp()
        var r = try cli.run(["sweep"] + grid + ["--out", dir + "/local"])
        XCTAssertEqual(r.status, 0, r.err)
        r = try cli.run(["sweep"] + grid + ["--slurm", "--slurm-dry-run", "--tasks", "3", "--sbatch-arg=--time=00:10:00", "--out", dir + "/cluster"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("sbatch --dependency=afterok:$jid"), r.out)
        let sweep = dir + "/cluster/slurm/sweep.sbatch", merge = dir + "/cluster/slurm/merge.sbatch"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: sweep))
        let text = try String(contentsOfFile: sweep, encoding: .utf8)
        XCTAssertTrue(text.contains("#SBATCH --array=1-3"))
        XCTAssertTrue(text.contains(CLIRunner.root + "/Scenarios/spots-quickstart.yaml"), "the scenario's path is absolute")
        for i in [1, 3] { XCTAssertEqual(try task(sweep, ["SLURM_ARRAY_TASK_ID": "\(i)"]), 0) }

        // Task 2 has not run: the merge refuses, naming it; --allow-partial merges and says so.
        r = try cli.run(["merge", dir + "/cluster/shards", "--out", dir + "/partial"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.contains("missing shard(s) 2 of 3"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/partial/runs.csv"))
        r = try cli.run(["merge", dir + "/cluster/shards", "--allow-partial", "--out", dir + "/partial"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("partial: shard(s) 2 of 3 missing"), r.err)
        XCTAssertTrue(try String(contentsOfFile: dir + "/partial/report.html", encoding: .utf8).contains("partial"))

        r = try cli.run(["sweep", "--resume", dir + "/cluster", "--slurm-dry-run"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("--array=2 "), r.out)
        XCTAssertEqual(try task(sweep, ["SLURM_ARRAY_TASK_ID": "2"]), 0)
        XCTAssertEqual(try task(merge), 0)
        for f in ["runs.csv", "summary.csv", "report.html"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/cluster/" + f)),
                           try Data(contentsOf: URL(fileURLWithPath: dir + "/local/" + f)), f)
        }
        // A second sweep into the same folder would mix shards: refused.
        r = try cli.run(["sweep"] + grid + ["--slurm", "--slurm-dry-run", "--tasks", "3", "--out", dir + "/cluster"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("--resume"), r.err)
    }

    func testKubernetesIndexedJobCommandsMakeEveryShard() throws {
        let dir = cli.temp()
        var r = try cli.run(["sweep"] + grid + ["--emit", "k8s", "--k8s-image", "crowdlab:test", "--tasks", "2", "--out", dir + "/k8s"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("kubectl wait --for=condition=complete"), r.out)
        let yaml = try String(contentsOfFile: dir + "/k8s/k8s/sweep-job.yaml", encoding: .utf8)
        XCTAssertTrue(yaml.contains("completionMode: Indexed"))
        // The container's command, run by sh with each completion index and crowdlab on PATH.
        let line = try XCTUnwrap(yaml.split(separator: "\n").first { $0.contains("command:") })
        let json = line.drop { $0 != "[" }
        let command = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        let bin = (cli.binary as NSString).deletingLastPathComponent
        for index in 0..<2 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: command[0])
            p.arguments = Array(command.dropFirst())
            p.currentDirectoryURL = URL(fileURLWithPath: CLIRunner.root)
            var env = ProcessInfo.processInfo.environment
            env["JOB_COMPLETION_INDEX"] = "\(index)"
            env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/k8s/shards").filter { !$0.hasPrefix(".") }.sorted(),
                       ["runs-shard-1-of-2.csv", "runs-shard-2-of-2.csv"])
        r = try cli.run(["merge", dir + "/k8s/shards", "--out", dir + "/k8s"])
        XCTAssertEqual(r.status, 0, r.err)
    }

    func testBadClusterOptionsAreOneLine() throws {
        let out = cli.temp() + "/never"
        for (args, says) in [(["--slurm", "--tasks", "0"], "--tasks"), (["--slurm", "--tasks", "99"], "at most 4"),
                             (["--slurm", "--sbatch-arg=--array=1-2"], "--sbatch-arg"), (["--emit", "k8s"], "--k8s-image"),
                             (["--slurm", "--shard", "1/2"], "--shard"), (["--emit", "swarm"], "--emit")] {
            let r = try cli.run(["sweep"] + grid + args + ["--out", out])
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.contains(says), "\(args): \(r.err)")
        }
        // No Slurm on the PATH: one line, and nothing written.
        var r = try cli.run(["sweep"] + grid + ["--slurm", "--out", out], environment: ["PATH": "/nonexistent"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.contains("sbatch: not found on PATH"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        r = try cli.run(["sweep", "--resume", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("sweep.json"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
