import Consensus
import Foundation

/// Truth CSVs: any text gives points or one line naming the file; never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTruthCSV(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(bytes: UnsafeRawBufferPointer(start: start, count: count), encoding: .utf8) else { return 0 }
    do {
        let t = try parseTruthCSV(text: text, name: "truth.csv", height: 300)
        precondition(t.xs.count == t.ys.count && t.xs.allSatisfy(\.isFinite) && t.ys.allSatisfy(\.isFinite), "points not finite or unpaired")
    } catch let e as InputError {
        precondition(!e.description.contains("\n") && e.description.hasPrefix("truth.csv"), "error not one line naming the file: \(e)")
    } catch {
        fatalError("not an InputError: \(error)")
    }
    return 0
}
