import Consensus
import Foundation

/// The few Slurm commands a cluster sweep needs, run as the user would run them (found on PATH).
public enum Slurm {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `sbatch --parsable OPTIONS SCRIPT`; the job id (`--parsable` prints `id` or `id;cluster`).
    public static func submit(_ script: String, options: [String] = []) throws -> String {
        let out = try run("sbatch", ["--parsable"] + options + [script])
        guard let id = out.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
              !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw Failure(description: "sbatch: unexpected answer \"\(oneLine(out))\" for \(script)")
        }
        return id
    }

    /// Fails with the one-line reason when `sbatch` cannot be run here (checked before anything is written).
    public static func checkAvailable() throws {
        _ = try run("sbatch", ["--version"])
    }

    /// The ids of the jobs' tasks still queued or running (`squeue`), none once all have ended.
    public static func active(_ jobs: [String]) throws -> [String] {
        guard !jobs.isEmpty else { return [] }
        let out: String
        do {
            out = try run("squeue", ["--noheader", "--array", "--jobs", jobs.joined(separator: ","), "--format", "%i %T"])
        } catch let f as Failure where f.description.contains("Invalid job id") {
            return []  // ended long enough ago that the controller forgot them
        }
        return out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Runs a Slurm command and returns its standard output; its standard error on failure.
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw Failure(description: "\(tool): cannot start (\(error))") }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if p.terminationStatus == 127 {
            throw Failure(description: "\(tool): not found on PATH (run where Slurm's commands are installed, or pass --slurm-dry-run and submit the scripts yourself)")
        }
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")): exit \(p.terminationStatus): \(oneLine(stderr))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}
