import Consensus
import Crowd
import Foundation
import Lab

/// Scenario YAML: any text gives a scenario or one line naming the file (and, where it can, the
/// line and key); never a crash or a hang. What is read is within the ranges the file allows.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenarioYAML(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(bytes: UnsafeRawBufferPointer(start: start, count: count), encoding: .utf8) else { return 0 }
    do {
        var y = try YAMLConfig(text: text, file: "fuzz.yaml")
        let s = try Scenario.parse(&y, defaultName: "fuzz", baseDirectory: "/nonexistent-fuzz-folder")
        precondition(s.images >= 1 && s.replicates >= 1 && s.pay > 0 && s.adaptive.cap >= s.adaptive.start, "read outside its ranges")
    } catch let e as InputError {
        precondition(!e.description.contains("\n") && e.description.hasPrefix("fuzz.yaml"), "error not one line naming the file: \(e)")
    } catch {
        fatalError("not an InputError: \(error)")
    }
    return 0
}
