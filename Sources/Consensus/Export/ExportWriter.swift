import Foundation

/// Writes exports in the portal's own schema, so that any reader of real Quanti.us exports reads
/// crowdlab's (and crowdlab's reader reads them back unchanged).
public enum ExportWriter {
    public static func encode(_ export: QuantiusExport) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(64 + export.clickCount * 40)
        out.append(contentsOf: Array("[".utf8))
        for (i, r) in export.records.enumerated() {
            if i > 0 { out.append(contentsOf: Array(",\n".utf8)) } else { out.append(0x0A) }
            var s = "{\"image_filename\": \(jsonString(r.imageFilename)), \"worker_id\": \(jsonString(r.workerID)), "
            s += "\"annotation_type\": \"\(r.annotationType.rawValue)\", \"width\": \(r.width), \"height\": \(r.height), "
            if let t = r.timeWhenCompleted { s += "\"time_when_completed\": \(jsonString(t)), " }
            s += "\"raw_data\": ["
            out.append(contentsOf: Array(s.utf8))
            for (k, shape) in r.rawData.enumerated() {
                if k > 0 { out.append(0x2C) }
                out.append(0x5B)
                for (j, v) in shape.enumerated() {
                    if j > 0 { out.append(0x2C) }
                    let p = "{\"x\": \(formatNumber(v.x)), \"y\": \(formatNumber(v.y)), \"timestamp\": \(formatNumber(v.timestamp))}"
                    out.append(contentsOf: Array(p.utf8))
                }
                out.append(0x5D)
            }
            out.append(contentsOf: Array("]}".utf8))
        }
        out.append(contentsOf: Array("\n]\n".utf8))
        return Data(out)
    }

    public static func write(_ export: QuantiusExport, to path: String) throws {
        try AtomicFile.write(encode(export), to: path)
    }
}

/// Whole numbers as integers (as the portal writes pixels and milliseconds), others with up to
/// 17 significant digits so values round-trip exactly.
public func formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return String(v)
}

public func jsonString(_ s: String) -> String {
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
