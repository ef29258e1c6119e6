import Foundation

/// Writes exports in the portal's own schema, so that any reader of real Quanti.us exports reads
/// crowdlab's (and crowdlab's reader reads them back unchanged).
public enum ExportWriter {
    /// Records are encoded in parallel and joined in order (the bytes do not depend on threads).
    public static func encode(_ export: QuantiusExport) -> Data {
        var out = Data()
        for c in chunks(export) { out.append(contentsOf: c) }
        return out
    }

    /// The export as byte chunks in file order: the opening bracket, runs of records with their
    /// separators (one buffer per run, runs encoded in parallel), the closing bracket.
    public static func chunks(_ export: QuantiusExport) -> [[UInt8]] {
        let runs = Runs(export)
        return Array(0..<runs.parts).parallelMap { runs.part($0) }
    }

    /// The file cut into parts: `[`, runs of records, `]`. Several runs per thread, so that runs of
    /// larger records do not leave a thread idle; the bytes do not depend on the number of runs.
    struct Runs: Sendable {
        let records: [ExportRecord]
        let bounds: [Int]
        var parts: Int { bounds.count + 1 }

        init(_ export: QuantiusExport) {
            records = export.records
            let threads = Parallelism.maxThreads == 0 ? ProcessInfo.processInfo.activeProcessorCount : Parallelism.maxThreads
            let runs = max(1, min(records.count, 8 * threads))
            bounds = (0...runs).map { [count = records.count] in count * $0 / runs }
        }

        func part(_ k: Int) -> [UInt8] {
            if k == 0 { return [0x5B] }
            if k == parts - 1 { return Array("\n]\n".utf8) }
            return encodeRun(records[bounds[k - 1]..<bounds[k]], first: k == 1)
        }
    }

    /// Records in order, each after its separator (a newline before the file's first record,
    /// a comma and newline before the others), into one buffer sized by their upper bounds.
    static func encodeRun(_ records: ArraySlice<ExportRecord>, first: Bool) -> [UInt8] {
        var capacity = 0
        for r in records { capacity += 2 + upperBound(r) }
        return [UInt8](unsafeUninitializedCapacity: capacity) { buf, count in
            var p = buf.baseAddress!
            for (i, r) in records.enumerated() {
                if i == 0 && first { p[0] = 0x0A; p += 1 } else { p[0] = 0x2C; p[1] = 0x0A; p += 2 }
                write(r, to: &p)
            }
            count = p - buf.baseAddress!
        }
    }

    /// A `raw_data` value alone (`[[{"x":..,"y":..,"timestamp":..}, ...], ...]`), as a worker's
    /// annotation form submits it.
    public static func rawDataJSON(_ rawData: [[Vertex]]) -> String {
        rawData.map { shape in
            "[" + shape.map { "{\"x\":\(formatNumber($0.x)),\"y\":\(formatNumber($0.y)),\"timestamp\":\(formatNumber($0.timestamp))}" }.joined(separator: ",") + "]"
        }.joined(separator: ",").wrappedInBrackets
    }

    /// One record's JSON object, as bytes.
    public static func encode(record r: ExportRecord) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: upperBound(r)) { buf, count in
            var p = buf.baseAddress!
            write(r, to: &p)
            count = p - buf.baseAddress!
        }
    }

    /// Bytes one record can take at most: the keys and punctuation, each string escaped at worst
    /// (6 bytes per byte), and per vertex its keys (27 bytes) and three numbers, each at most as
    /// long as the widest whole number in the record (or 24 bytes when any value is fractional).
    static func upperBound(_ r: ExportRecord) -> Int {
        var widest = 1.0, whole = true
        for shape in r.rawData {
            for v in shape {
                widest = max(widest, abs(v.x), abs(v.y), abs(v.timestamp))
                if !isWhole(v.x) || !isWhole(v.y) || !isWhole(v.timestamp) { whole = false }
            }
        }
        let numberBytes = whole && widest < 1e15 ? Int(log10(widest)) + 2 : 24
        let strings = r.imageFilename.utf8.count + r.workerID.utf8.count + (r.timeWhenCompleted?.utf8.count ?? 0)
        return 200 + 6 * strings + r.rawData.count * 3 + r.vertexCount * (28 + 3 * numberBytes)
    }

    /// Writes one record's JSON object at `p` and moves `p` past it.
    @inline(__always) static func write(_ r: ExportRecord, to p: inout UnsafeMutablePointer<UInt8>) {
        writeBytes(&p, "{\"image_filename\": "); writeJSONString(&p, r.imageFilename)
        writeBytes(&p, ", \"worker_id\": "); writeJSONString(&p, r.workerID)
        writeBytes(&p, ", \"annotation_type\": \""); writeBytes(&p, r.annotationType.rawValue)
        writeBytes(&p, "\", \"width\": "); writeNumber(&p, Double(r.width))
        writeBytes(&p, ", \"height\": "); writeNumber(&p, Double(r.height))
        if let t = r.timeWhenCompleted {
            writeBytes(&p, ", \"time_when_completed\": "); writeJSONString(&p, t)
        }
        writeBytes(&p, ", \"raw_data\": [")
        for (k, shape) in r.rawData.enumerated() {
            if k > 0 { p.pointee = 0x2C; p += 1 }
            p.pointee = 0x5B; p += 1
            shape.withUnsafeBufferPointer { vertices in
            for j in 0..<vertices.count {
                if j > 0 { p.pointee = 0x2C; p += 1 }
                let v = vertices[j]
                // {"x":
                p[0] = 0x7B; p[1] = 0x22; p[2] = 0x78; p[3] = 0x22; p[4] = 0x3A; p += 5
                writeNumber(&p, v.x)
                // ,"y":
                p[0] = 0x2C; p[1] = 0x22; p[2] = 0x79; p[3] = 0x22; p[4] = 0x3A; p += 5
                writeNumber(&p, v.y)
                // ,"timestamp":
                p[0] = 0x2C; p[1] = 0x22; p[2] = 0x74; p[3] = 0x69; p[4] = 0x6D; p[5] = 0x65; p[6] = 0x73; p[7] = 0x74
                p[8] = 0x61; p[9] = 0x6D; p[10] = 0x70; p[11] = 0x22; p[12] = 0x3A; p += 13
                writeNumber(&p, v.timestamp)
                p.pointee = 0x7D; p += 1
            }
            }
            p.pointee = 0x5D; p += 1
        }
        p[0] = 0x5D; p[1] = 0x7D; p += 2
    }

    @inline(__always) static func writeBytes(_ p: inout UnsafeMutablePointer<UInt8>, _ s: String) {
        var s = s
        s.withUTF8 { b in if let base = b.baseAddress { p.update(from: base, count: b.count); p += b.count } }
    }

    /// A JSON string literal: the bytes as they are when nothing needs escaping (file names,
    /// worker ids, dates), else `jsonString`'s escaping.
    @inline(__always) static func writeJSONString(_ p: inout UnsafeMutablePointer<UInt8>, _ s: String) {
        if !needsEscaping(s) {
            p.pointee = 0x22; p += 1; writeBytes(&p, s); p.pointee = 0x22; p += 1
        } else {
            writeBytes(&p, jsonString(s))
        }
    }

    /// Whole numbers digit by digit (pixels and milliseconds); others as `formatNumber` writes them.
    @inline(__always) static func writeNumber(_ p: inout UnsafeMutablePointer<UInt8>, _ v: Double) {
        if isWhole(v) {
            var x = Int64(v)
            if x < 0 { p.pointee = 0x2D; p += 1; x = -x }
            if x == 0 { p.pointee = 0x30; p += 1; return }
            var digits = 1, limit: Int64 = 10
            while x >= limit && digits < 18 { digits += 1; limit &*= 10 }
            // Two digits per division, from a table of "00"..."99".
            var i = digits
            digitPairs.withUnsafeBufferPointer { pairs in
                while x >= 100 {
                    let r = Int(x % 100); x /= 100
                    i -= 2; p[i] = pairs[2 * r]; p[i + 1] = pairs[2 * r + 1]
                }
                if x >= 10 { let r = Int(x); i -= 2; p[i] = pairs[2 * r]; p[i + 1] = pairs[2 * r + 1] }
                else { p[i - 1] = UInt8(truncatingIfNeeded: 48 + x) }
            }
            p += digits
        } else {
            for b in formatNumber(v).utf8 { p.pointee = b; p += 1 }
        }
    }

    /// Writes the export atomically: runs of records encoded in parallel and written in order as
    /// they are ready (no single buffer holding the whole file).
    public static func write(_ export: QuantiusExport, to path: String) throws {
        let runs = Runs(export)
        try AtomicFile.write(parts: runs.parts, to: path) { runs.part($0) }
    }
}

/// "00", "01", … "99" as ASCII bytes.
let digitPairs: [UInt8] = {
    var out: [UInt8] = []
    for n in 0..<100 {
        let tens = UInt8(n / 10), ones = UInt8(n % 10)
        out.append(48 + tens); out.append(48 + ones)
    }
    return out
}()

/// A whole number small enough to print exactly as an integer (no call into libm's round).
@inline(__always) func isWhole(_ v: Double) -> Bool {
    guard abs(v) < 1e15 else { return false }
    return Double(Int64(v)) == v
}

/// Whole numbers as integers (as the portal writes pixels and milliseconds), others with up to
/// 17 significant digits so values round-trip exactly.
public func formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return String(v)
}

/// Whether a JSON string literal of `s` needs escapes (control characters, quotes, backslashes);
/// the usual file names, worker ids and dates do not.
@inline(__always) func needsEscaping(_ s: String) -> Bool {
    !s.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }
}

public func jsonString(_ s: String) -> String {
    if !needsEscaping(s) { return "\"" + s + "\"" }
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

extension String {
    fileprivate var wrappedInBrackets: String { "[" + self + "]" }
}
