import Consensus
import Foundation

/// The Quanti.us export reader, differentially: whatever it accepts must be valid JSON that
/// Foundation reads to the same records (count, names, workers, sizes, clicks); whatever it refuses
/// is one line naming the file; never a crash or a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExportReader(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let ours: QuantiusExport
    do {
        ours = try ExportReader.decode(data, fileName: "fuzz.json")
    } catch let e as InputError {
        precondition(!e.description.contains("\n") && e.description.hasPrefix("fuzz.json"), "error not one line naming the file: \(e)")
        return 0
    } catch {
        fatalError("not an InputError: \(error)")
    }
    guard let any = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
        fatalError("accepted what is not JSON")
    }
    guard let records = any as? [[String: Any]], records.count == ours.records.count else { fatalError("record count differs") }
    for (a, b) in zip(records, ours.records) {
        precondition(a["image_filename"] as? String == b.imageFilename && a["worker_id"] as? String == b.workerID, "names differ")
        precondition((a["width"] as? NSNumber)?.doubleValue == Double(b.width) && (a["height"] as? NSNumber)?.doubleValue == Double(b.height), "sizes differ")
        guard let raw = a["raw_data"] as? [Any] else { fatalError("raw_data not an array") }
        precondition(raw.count == b.rawData.count, "shape count differs")
        for (shape, vertices) in zip(raw, b.rawData) {
            guard let clicks = shape as? [[String: Any]], clicks.count == vertices.count else { fatalError("click count differs") }
            for (c, v) in zip(clicks, vertices) {
                for (key, value) in [("x", v.x), ("y", v.y), ("timestamp", v.timestamp)] {
                    guard let n = foundationsDouble(c[key]) else { fatalError("\(key) missing in Foundation's reading") }
                    precondition(n == value || abs(n - value) <= 4 * value.ulp, "\(key) \(value) against Foundation's \(n)")
                }
            }
        }
    }
    return 0
}

/// Foundation's value of a JSON number as a Double. Foundation on Linux reads some 17-digit numbers
/// 1-2 ulps off, and numbers of more digits than a UInt64 holds as NSDecimalNumber, whose
/// `doubleValue` can be several ulps off (6 on a 118-digit x): for those the decimal's own 38
/// significant digits, rounded by `strtod`, are the reference.
private func foundationsDouble(_ value: Any?) -> Double? {
    if let decimal = value as? NSDecimalNumber { return strtod(decimal.description, nil) }
    return (value as? NSNumber)?.doubleValue
}
