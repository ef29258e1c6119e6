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

    /// The export as byte chunks in file order: the opening bracket, each record, the closing bracket.
    public static func chunks(_ export: QuantiusExport) -> [[UInt8]] {
        framed(export.records.parallelMap { encode(record: $0) })
    }

    /// Encoded records framed as the file's chunks: `[`, records separated by `,` and newlines, `]`.
    static func framed(_ records: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = [[0x5B]]
        out.reserveCapacity(records.count * 2 + 2)
        for (i, r) in records.enumerated() { out.append(i == 0 ? [0x0A] : [0x2C, 0x0A]); out.append(r) }
        out.append(Array("\n]\n".utf8))
        return out
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
        var headBytes: [UInt8] = []
        headBytes.reserveCapacity(200)
        headBytes.append(contentsOf: "{\"image_filename\": ".utf8); headBytes.append(contentsOf: jsonString(r.imageFilename).utf8)
        headBytes.append(contentsOf: ", \"worker_id\": ".utf8); headBytes.append(contentsOf: jsonString(r.workerID).utf8)
        headBytes.append(contentsOf: ", \"annotation_type\": \"".utf8); headBytes.append(contentsOf: r.annotationType.rawValue.utf8)
        headBytes.append(contentsOf: "\", \"width\": ".utf8); headBytes.append(contentsOf: String(r.width).utf8)
        headBytes.append(contentsOf: ", \"height\": ".utf8); headBytes.append(contentsOf: String(r.height).utf8)
        if let t = r.timeWhenCompleted {
            headBytes.append(contentsOf: ", \"time_when_completed\": ".utf8); headBytes.append(contentsOf: jsonString(t).utf8)
        }
        headBytes.append(contentsOf: ", \"raw_data\": [".utf8)
        // Upper bound: keys and punctuation (27 bytes) plus three numbers, each at most as long as
        // the widest whole number in the record (or 24 bytes when any value is fractional).
        var widest = 1.0, whole = true
        for shape in r.rawData {
            for v in shape {
                widest = max(widest, abs(v.x), abs(v.y), abs(v.timestamp))
                if !isWhole(v.x) || !isWhole(v.y) || !isWhole(v.timestamp) { whole = false }
            }
        }
        let numberBytes = whole && widest < 1e15 ? Int(log10(widest)) + 2 : 24
        let capacity = headBytes.count + 8 + r.rawData.count * 3 + r.vertexCount * (28 + 3 * numberBytes)
        return [UInt8](unsafeUninitializedCapacity: capacity) { buf, count in
            let start = buf.baseAddress!
            var p = start
            headBytes.withUnsafeBufferPointer { h in p.update(from: h.baseAddress!, count: h.count) }
            p += headBytes.count
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
            count = p - start
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

    /// Writes the export atomically: records encoded in parallel, then written in parallel parts
    /// (no single buffer holding the whole file).
    public static func write(_ export: QuantiusExport, to path: String) throws {
        try AtomicFile.write(chunks: chunks(export), to: path)
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

public func jsonString(_ s: String) -> String {
    // Fast path: nothing to escape (the usual file names, worker ids and dates).
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) { return "\"" + s + "\"" }
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
