import Consensus
import Crowd
import Foundation

/// Population YAML: any text gives a population, which written out reads back (what `calibrate`
/// writes, `simulate` reads), or one line naming the file; never a crash or a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPopulationYAML(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(bytes: UnsafeRawBufferPointer(start: start, count: count), encoding: .utf8) else { return 0 }
    do {
        let p = try Population.parse(text, file: "fuzz.yaml")
        do { _ = try Population.parse(p.yaml(title: "again"), file: "again.yaml") } catch { fatalError("what was read does not read back: \(error)") }
    } catch let e as InputError {
        precondition(!e.description.contains("\n") && e.description.hasPrefix("fuzz.yaml"), "error not one line naming the file: \(e)")
    } catch {
        fatalError("not an InputError: \(error)")
    }
    return 0
}
