import Consensus
import Foundation
import XCTest
import Yams
@testable import Lab

/// The cluster layout of a sweep: shard sets, Slurm scripts, Kubernetes manifests.
final class ClusterSweepTests: XCTestCase {
    func record(out: String = "/shared/lab/sweep", scenario: String = "/shared/lab/My Scenarios/it's.yaml",
                sbatch: [String] = ["--time=00:30:00"]) throws -> ClusterSweep {
        try ClusterSweep(binary: "/opt/crowdlab/bin/crowdlab", workingDirectory: "/shared/lab",
                         sweepArguments: [scenario, "--vary", "job.replicates=3,5", "--seeds", "2", "--set", "job.pay_usd=0.05"],
                         out: out, tasks: 3, runs: 4, title: "Sweep of it's", sbatchArguments: sbatch)
    }

    func testArrayRangesAreWhatSlurmTakes() {
        XCTAssertEqual(SweepShards.arrayRanges([7, 1, 2, 3, 5, 8]), "1-3,5,7-8")
        XCTAssertEqual(SweepShards.arrayRanges([4]), "4")
        XCTAssertEqual(SweepShards.arrayRanges([]), "")
    }

    func testShardNamesReadBack() {
        for (i, n) in [(1, 1), (3, 12), (12, 12)] {
            let parsed = SweepShards.index(fromFileName: SweepShards.fileName(i, of: n))
            XCTAssertEqual(parsed?.index, i); XCTAssertEqual(parsed?.count, n)
        }
        for name in ["runs-shard-0-of-3.csv", "runs-shard-4-of-3.csv", "runs-shard-1-of-3.txt", "runs.csv", "runs-shard-x-of-3.csv"] {
            XCTAssertNil(SweepShards.index(fromFileName: name), name)
        }
        // Every run lands in exactly one shard.
        let runs = Array(0..<10)
        let union = (1...3).flatMap { SweepShards.select(runs, shard: $0, of: 3) }
        XCTAssertEqual(union.sorted(), runs)
    }

    func testGatherNamesTheMissingShardsAndRefusesMixedSweeps() throws {
        let dir = NSTemporaryDirectory() + "shards-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in [1, 3] { try "h\n".write(toFile: dir + "/" + SweepShards.fileName(i, of: 4), atomically: true, encoding: .utf8) }
        let set = try SweepShards.gather([dir])
        XCTAssertEqual(set.count, 4)
        XCTAssertEqual(set.missing, [2, 4])
        try "h\n".write(toFile: dir + "/" + SweepShards.fileName(2, of: 5), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepShards.gather([dir])) { e in
            XCTAssertTrue("\(e)".contains("shards of different sweeps"), "\(e)")
        }
        XCTAssertThrowsError(try SweepShards.gather([dir + "/nothing"])) { e in XCTAssertTrue("\(e)".contains("no such file")) }
    }

    func testJoinedRunsAreInGridOrderAndRefuseARunTwice() throws {
        let dir = NSTemporaryDirectory() + "join-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Two shards of four runs (point, seed), each listed out of order; point 10 sorts after 1 as a number.
        let shard1 = dir + "/" + SweepShards.fileName(1, of: 2), shard2 = dir + "/" + SweepShards.fileName(2, of: 2)
        try "point,seed,f1\n1,2,0.8\n0,1,0.7\n".write(toFile: shard1, atomically: true, encoding: .utf8)
        try "point,seed,f1\n10,1,0.9\n0,2,0.6\n".write(toFile: shard2, atomically: true, encoding: .utf8)
        let joined = try SweepShards.gather([dir]).joinedRuns()
        XCTAssertEqual(joined.runs, 4)
        XCTAssertEqual(joined.csv, "point,seed,f1\n0,1,0.7\n0,2,0.6\n1,2,0.8\n10,1,0.9\n")

        try "point,seed,f1\n0,1,0.5\n".write(toFile: shard2, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepShards.gather([dir]).joinedRuns()) { e in
            XCTAssertEqual("\(e)", "\(shard2): line 2: run 0,1 appears in two shards")
        }
        try "point,seed,recall\n0,3,0.5\n".write(toFile: shard2, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepShards.gather([dir]).joinedRuns()) { e in
            XCTAssertEqual("\(e)", "\(shard2): line 1: header differs from the first shard's (shards of different sweeps?)")
        }
    }

    func testSlurmScriptsQuoteEveryPathAndChainTheMerge() throws {
        let r = try record()
        let sweep = r.sweepScript(), merge = r.mergeScript()
        XCTAssertTrue(sweep.hasPrefix("#!/bin/bash\n"))
        XCTAssertTrue(sweep.contains("#SBATCH --array=1-3\n"))
        XCTAssertTrue(sweep.contains("#SBATCH --time=00:30:00\n"))
        XCTAssertTrue(sweep.contains("#SBATCH --output=/shared/lab/sweep/slurm/logs/sweep-%A_%a.out\n"))
        XCTAssertTrue(sweep.contains("'/shared/lab/My Scenarios/it'\\''s.yaml'"), sweep)
        XCTAssertTrue(sweep.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\" --out /shared/lab/sweep/shards"))
        XCTAssertTrue(merge.contains("#SBATCH --kill-on-invalid-dep=yes\n"))
        XCTAssertTrue(merge.contains("merge /shared/lab/sweep/shards --title 'Sweep of it'\\''s' --out /shared/lab/sweep"), merge)
        XCTAssertFalse(merge.contains("--array"))
        // The quoting survives a real shell: each argument comes back as it was.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        let args = ["plain", "with space", "it's", "$HOME", "a\"b", ""]
        p.arguments = ["-c", "printf '%s\\n' " + args.map(ClusterSweep.quote).joined(separator: " ")]
        let o = Pipe(); p.standardOutput = o
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), args.map { $0 + "\n" }.joined())
    }

    func testSbatchOptionsCrowdlabSetsItselfAreRefused() {
        for bad in ["--array=1-4", "--dependency=afterok:1", "-o", "--output=x", "time=1", "--chdir=/x"] {
            XCTAssertThrowsError(try record(sbatch: [bad]), bad) { e in XCTAssertTrue("\(e)".hasPrefix("--sbatch-arg"), "\(e)") }
        }
        XCTAssertThrowsError(try record(out: "/shared/my sweep")) { e in XCTAssertTrue("\(e)".contains("spaces"), "\(e)") }
    }

    func testKubernetesManifestsAreAnIndexedJobAndAMerge() throws {
        let r = try record()
        let m = r.kubernetesManifests(image: "registry.example.org/crowdlab:1", claim: "lab-data", mountPath: r.commonFolder)
        XCTAssertEqual(r.commonFolder, "/shared/lab")
        let sweep = try XCTUnwrap(try Yams.load(yaml: m.sweep) as? [String: Any])
        XCTAssertEqual(sweep["apiVersion"] as? String, "batch/v1")
        XCTAssertEqual(sweep["kind"] as? String, "Job")
        let spec = try XCTUnwrap(sweep["spec"] as? [String: Any])
        XCTAssertEqual(spec["completionMode"] as? String, "Indexed")
        XCTAssertEqual(spec["completions"] as? Int, 3)
        let pod = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        XCTAssertEqual(pod["restartPolicy"] as? String, "Never")
        let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(container["image"] as? String, "registry.example.org/crowdlab:1")
        let command = try XCTUnwrap(container["command"] as? [String])
        XCTAssertEqual(Array(command.prefix(2)), ["/bin/sh", "-c"])
        XCTAssertTrue(command[2].contains("--shard \"$((JOB_COMPLETION_INDEX + 1))/3\""), command[2])
        let mount = try XCTUnwrap((container["volumeMounts"] as? [[String: Any]])?.first)
        XCTAssertEqual(mount["mountPath"] as? String, "/shared/lab")
        let claim = (((pod["volumes"] as? [[String: Any]])?.first)?["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String
        XCTAssertEqual(claim, "lab-data")
        let merge = try XCTUnwrap(try Yams.load(yaml: m.merge) as? [String: Any])
        XCTAssertEqual((merge["metadata"] as? [String: Any])?["name"] as? String, "crowdlab-merge")
        XCTAssertNil((merge["spec"] as? [String: Any])?["completionMode"])
    }

    func testTheRecordReadsBackAndRefusesForeignFiles() throws {
        let out = NSTemporaryDirectory() + "cluster-" + UUID().uuidString
        var r = try record(out: out)
        r.submissions = [.init(arrayJob: "41", mergeJob: "42", tasks: [1, 2, 3])]
        try r.save()
        XCTAssertEqual(try ClusterSweep.load(out: out), r)
        try "{\"version\": 9}".write(toFile: r.recordPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ClusterSweep.load(out: out)) { e in XCTAssertTrue("\(e)".contains("sweep.json"), "\(e)") }
    }
}
