import Foundation
import XCTest

/// The README's commands are commands crowdlab has: every `crowdlab …` line in its shell blocks
/// names a real subcommand, and each option it passes is one that subcommand's help lists.
final class ReadmeCommandTests: XCTestCase {
    func testTheReadmesCommandsExist() throws {
        let cli = CLIRunner()
        let commands = try readmeCommands()
        XCTAssertGreaterThanOrEqual(commands.count, 10, "the tour's commands were found")
        for words in commands {
            let path = Array(words.prefix { !$0.hasPrefix("-") && !$0.contains("/") && !$0.contains(".") })
            let help = try cli.run(path + ["--help"])
            XCTAssertEqual(help.status, 0, "crowdlab \(path.joined(separator: " ")): \(help.err)")
            for option in words where option.hasPrefix("--") {
                let name = String(option.split(separator: "=")[0])
                XCTAssertTrue(help.out.contains(name), "crowdlab \(path.joined(separator: " ")) has no \(name)")
            }
        }
    }

    /// The tour's quick commands run as written (outputs sent to a temporary folder): analyze,
    /// calibrate, predict, run and sweep. (plan, paper and the marketplace take longer and
    /// are run by their own tests; a sweep sent to Slurm needs a cluster, and
    /// Tests/External/slurm_sweep.sh starts one.)
    func testTheTourRunsAsWritten() throws {
        let cli = CLIRunner()
        let tmp = cli.temp()
        var renamed: [String: String] = [:]
        var ran = 0
        for words in try readmeCommands() where ["analyze", "calibrate", "predict", "validate", "run", "sweep"].contains(words.first ?? "")
            && !words.contains("--slurm") && !words.contains("--resume") {
            var args: [String] = []
            var k = 0
            while k < words.count {
                let w = words[k]
                if ["--out", "--json", "--report"].contains(w), k + 1 < words.count {
                    let target = tmp + "/" + (words[k + 1] as NSString).lastPathComponent
                    renamed[words[k + 1]] = target
                    args += [w, target]; k += 2; continue
                }
                args.append(renamed[w] ?? w); k += 1
            }
            if words.first == "run" && !args.contains("--out") { args += ["--out", tmp + "/run"] }
            let r = try cli.run(args)
            XCTAssertEqual(r.status, 0, "crowdlab \(words.joined(separator: " ")): \(r.err)")
            ran += 1
        }
        XCTAssertGreaterThanOrEqual(ran, 5)
    }

    func readmeCommands() throws -> [[String]] {
        let readme = try String(contentsOfFile: CLIRunner.root + "/README.md", encoding: .utf8)
        var commands: [[String]] = []
        var inShell = false, pending = ""
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inShell = line == "```sh"; continue }
            guard inShell else { continue }
            pending += line.hasSuffix("\\") ? String(line.dropLast()) + " " : line
            if line.hasSuffix("\\") { continue }
            for part in pending.components(separatedBy: ";") {
                let words = part.split(separator: " ").map(String.init)
                if let k = words.firstIndex(of: "crowdlab") { commands.append(Array(words[(k + 1)...])) }
            }
            pending = ""
        }
        return commands
    }
}
