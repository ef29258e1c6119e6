import Foundation

/// Reads Quanti.us exports with a streaming scanner written for this one schema.
///
/// Why not `JSONDecoder`: it builds a full object tree first (about 24 MB/s measured here), so a
/// several-hundred-MB export needs several copies in memory. This reader memory-maps the file and
/// decodes straight into `ExportRecord`s, validating as it goes: any problem is one `InputError`
/// naming the file, the record index (0-based, as in the JSON array) and the field.
public enum ExportReader {
    /// Errors name the file as the user gave it (`path`).
    public static func read(path: String) throws -> QuantiusExport {
        let name = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw InputError(file: name, message: "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data, fileName: name)
    }

    public static func decode(_ data: Data, fileName: String) throws -> QuantiusExport {
        try data.withUnsafeBytes { raw -> QuantiusExport in
            let bytes = raw.bindMemory(to: UInt8.self)
            if let records = recordsInPieces(bytes, fileName: fileName) { return QuantiusExport(records: records) }
            var scanner = JSONScanner(bytes: bytes, file: fileName)
            return QuantiusExport(records: try scanner.parseExport())
        }
    }
}

/// The bytes of the point key `timestamp"`, made once rather than for every point.
private let timestampKey = Array("timestamp\"".utf8)

/// The fields every record must have; with `optionalRecordFields`, every field a record is read for.
let requiredFields = ["image_filename", "worker_id", "annotation_type", "width", "height", "raw_data"]
let optionalRecordFields = ["time_when_completed"]

/// A key of a point object: the three the portal writes, or another (skipped).
enum VertexKey {
    case x, y, timestamp, other
    /// The key's suffix in a field path (`raw_data[0][3].x`).
    var path: String {
        switch self { case .x: ".x"; case .y: ".y"; case .timestamp: ".timestamp"; case .other: "" }
    }
}

/// The Quanti.us schema on the JSON scanner: the export array, its records and their points.
extension JSONScanner {
    // MARK: top level

    mutating func parseExport() throws -> [ExportRecord] {
        guard bytes.count > 0 else { throw fail(nil, "empty file: expected a JSON array of records") }
        let first = try peek(nil)
        guard first == UInt8(ascii: "[") else {
            throw fail(nil, "top level must be a JSON array of records, found \(describe(first))")
        }
        pos += 1
        var records: [ExportRecord] = []
        if try peek(nil) == UInt8(ascii: "]") { pos += 1; try expectEnd(); return records }
        while true {
            record = records.count
            records.append(try parseRecord())
            let c = try peek(nil)
            pos += 1
            if c == UInt8(ascii: "]") { break }
            guard c == UInt8(ascii: ",") else { throw fail(nil, "expected ',' or ']' after the record, found \(describe(c))") }
        }
        record = nil
        try expectEnd()
        return records
    }

    mutating func expectEnd() throws {
        skipWS()
        if pos < bytes.count { throw fail(nil, "unexpected data after the closing ']'") }
    }

    mutating func parseRecord() throws -> ExportRecord {
        let c = try peek(nil)
        guard c == UInt8(ascii: "{") else { throw fail(nil, "expected a record object, found \(describe(c))") }
        pos += 1
        var image: String?, worker: String?, type: AnnotationType?, width: Int?, height: Int?
        var completed: String?, raw: [[Vertex]]?
        var seen = Set<String>()
        if try peek(nil) == UInt8(ascii: "}") { pos += 1 } else {
            while true {
                let key = try parseString(nil)
                try expect(UInt8(ascii: ":"), key, "':' after the key")
                if !seen.insert(key).inserted { throw fail(key, "field appears twice") }
                switch key {
                case "image_filename": image = try parseString(key)
                case "worker_id": worker = try parseString(key)
                case "annotation_type":
                    let s = try parseString(key)
                    guard let t = AnnotationType(rawValue: s) else {
                        throw fail(key, "unknown annotation type \"\(s)\" (expected crosshairs, polygon, polyline or freehand)")
                    }
                    type = t
                case "width": width = try parseDimension(key)
                case "height": height = try parseDimension(key)
                case "time_when_completed":
                    if try peek(key) == UInt8(ascii: "n") { try parseNull(key) } else { completed = try parseString(key) }
                case "raw_data": raw = try parseRawData()
                default: try skipValue(key)
                }
                let d = try peek(nil)
                pos += 1
                if d == UInt8(ascii: "}") { break }
                guard d == UInt8(ascii: ",") else { throw fail(nil, "expected ',' or '}' in the record, found \(describe(d))") }
            }
        }
        for f in requiredFields where !seen.contains(f) { throw fail(f, "missing required field") }
        return ExportRecord(imageFilename: image!, workerID: worker!, annotationType: type!,
                            width: width!, height: height!, timeWhenCompleted: completed, rawData: raw!)
    }

    mutating func parseDimension(_ field: String) throws -> Int {
        let v = try parseNumber(field)
        guard v == v.rounded(), v >= 1, v <= 1_000_000 else {
            throw fail(field, "must be a positive whole number of pixels, found \(v)")
        }
        return Int(v)
    }

    mutating func parseRawData() throws -> [[Vertex]] {
        let field = "raw_data"
        try expect(UInt8(ascii: "["), field, "an array of annotations")
        var shapes: [[Vertex]] = []
        if try peek(field) == UInt8(ascii: "]") { pos += 1; return shapes }
        while true {
            let si = shapes.count
            let sf = "raw_data[\(si)]"
            try expect(UInt8(ascii: "["), sf, "an array of points")
            var pts: [Vertex] = []
            if try peek(sf) == UInt8(ascii: "]") { pos += 1 } else {
                while true {
                    pts.append(try parseVertex(shape: si, index: pts.count))
                    let c = try peek(sf); pos += 1
                    if c == UInt8(ascii: "]") { break }
                    guard c == UInt8(ascii: ",") else { throw fail(sf, "expected ',' or ']' between points, found \(describe(c))") }
                }
            }
            shapes.append(pts)
            let c = try peek(field); pos += 1
            if c == UInt8(ascii: "]") { break }
            guard c == UInt8(ascii: ",") else { throw fail(field, "expected ',' or ']' between annotations, found \(describe(c))") }
        }
        return shapes
    }

    /// The hot path: field paths are only built when there is an error, and the three keys are
    /// recognised from their bytes without making Strings.
    mutating func parseVertex(shape: Int, index: Int) throws -> Vertex {
        var key = VertexKey.other
        do { return try parseVertexBody(shape: shape, index: index, key: &key) } catch let e as InputError where e.field == nil {
            // Errors raised without a field (end of file, say) get the point's path, and the key if one was read.
            throw fail("raw_data[\(shape)][\(index)]" + key.path, e.message)
        }
    }

    mutating func parseVertexBody(shape: Int, index: Int, key lastKey: inout VertexKey) throws -> Vertex {
        func base() -> String { "raw_data[\(shape)][\(index)]" }
        guard try peek(nil) == UInt8(ascii: "{") else {
            throw fail(base(), "expected a point object {x, y, timestamp}, found \(describe(bytes[pos]))")
        }
        pos += 1
        var x: Double?, y: Double?, t: Double?
        if try peek(nil) != UInt8(ascii: "}") {
            while true {
                let key = try vertexKey(base)
                lastKey = key
                if try peek(nil) != UInt8(ascii: ":") {
                    throw fail(base() + (key == .other ? "." : key.path), "expected ':' after the key, found \(describe(bytes[pos]))")
                }
                pos += 1
                switch key {
                case .x: x = try parseFiniteFast { base() + ".x" }
                case .y: y = try parseFiniteFast { base() + ".y" }
                case .timestamp: t = try parseFiniteFast { base() + ".timestamp" }
                case .other: try skipValue(base())
                }
                let c = try peek(nil); pos += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw fail(base(), "expected ',' or '}' in the point, found \(describe(c))") }
            }
        } else { pos += 1 }
        guard let x else { throw fail(base() + ".x", "missing required field") }
        guard let y else { throw fail(base() + ".y", "missing required field") }
        guard let t else { throw fail(base() + ".timestamp", "missing required field") }
        return Vertex(x: x, y: y, timestamp: t)
    }

    /// The point object's next key, recognised from its bytes.
    mutating func vertexKey(_ base: () -> String) throws -> VertexKey {
        let c = try peek(nil)
        guard c == UInt8(ascii: "\"") else { throw fail(base(), "expected a key, found \(describe(c))") }
        let n = bytes.count
        if pos + 2 < n, bytes[pos + 2] == UInt8(ascii: "\"") {
            if bytes[pos + 1] == UInt8(ascii: "x") { pos += 3; return .x }
            if bytes[pos + 1] == UInt8(ascii: "y") { pos += 3; return .y }
        }
        let ts = timestampKey
        if pos + 1 + ts.count <= n {
            var same = true
            for k in 0..<ts.count where bytes[pos + 1 + k] != ts[k] { same = false; break }
            if same { pos += 1 + ts.count; return .timestamp }
        }
        _ = try parseString(base())
        return .other
    }
}
