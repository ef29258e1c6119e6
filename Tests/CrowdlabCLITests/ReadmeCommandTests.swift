import Foundation
import XCTest

/// The README's commands are commands crowdlab has: every `crowdlab …` line in its shell blocks
/// names a real subcommand, and each option it passes is one that subcommand's help lists.
final class ReadmeCommandTests: XCTestCase {
    func testTheReadmesCommandsExist() throws {
        let cli = CLIRunner()
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
}
