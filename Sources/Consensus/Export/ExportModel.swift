import Foundation

/// The annotation tools of the Quanti.us portal, as they appear in `annotation_type`.
public enum AnnotationType: String, Sendable, CaseIterable, Codable {
    case crosshairs, polygon, polyline, freehand
}

/// One vertex or click: `x` is the image column, `y` is measured from the BOTTOM edge
/// (`y = height - row`), `timestamp` is milliseconds on a clock that starts with the image.
public struct Vertex: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var timestamp: Double
    public init(x: Double, y: Double, timestamp: Double) {
        self.x = x; self.y = y; self.timestamp = timestamp
    }
}

/// One worker's submission for one image: one element of the export's top-level array.
public struct ExportRecord: Sendable, Equatable {
    public var imageFilename: String
    public var workerID: String
    public var annotationType: AnnotationType
    public var width: Int
    public var height: Int
    public var timeWhenCompleted: String?
    /// For `crosshairs` one list holding every click; for shapes one list per shape.
    public var rawData: [[Vertex]]

    public init(imageFilename: String, workerID: String, annotationType: AnnotationType,
                width: Int, height: Int, timeWhenCompleted: String? = nil, rawData: [[Vertex]]) {
        self.imageFilename = imageFilename; self.workerID = workerID
        self.annotationType = annotationType; self.width = width; self.height = height
        self.timeWhenCompleted = timeWhenCompleted; self.rawData = rawData
    }

    /// Every vertex of every shape, in drawing order.
    public var allVertices: [Vertex] { rawData.flatMap { $0 } }
    public var vertexCount: Int { rawData.reduce(0) { $0 + $1.count } }
    /// A worker who submitted without annotating: legal, and counted.
    public var isEmpty: Bool { vertexCount == 0 }

    /// An order that depends only on what the records hold: worker, completion time, then the
    /// vertices. The portal lists records in no fixed order, and greedy clustering breaks ties by
    /// the order clicks come in, so the same export listed another way must be read this way.
    public static func canonicallyOrdered(_ a: ExportRecord, _ b: ExportRecord) -> Bool {
        if a.workerID != b.workerID { return a.workerID < b.workerID }
        if a.timeWhenCompleted != b.timeWhenCompleted { return (a.timeWhenCompleted ?? "") < (b.timeWhenCompleted ?? "") }
        let va = a.allVertices, vb = b.allVertices
        for (p, q) in zip(va, vb) {
            if p.x != q.x { return p.x < q.x }
            if p.y != q.y { return p.y < q.y }
            if p.timestamp != q.timestamp { return p.timestamp < q.timestamp }
        }
        return va.count < vb.count
    }
}

/// A whole Quanti.us export: the JSON array the portal writes, one record per worker per image.
public struct QuantiusExport: Sendable {
    public var records: [ExportRecord]
    /// Records `keepingFirstSubmissions` left out of this export: a worker's repeats on an image.
    public var repeatedSubmissionsLeftOut = 0
    public init(records: [ExportRecord]) { self.records = records }

    public var emptyRecordCount: Int { records.reduce(0) { $0 + ($1.isEmpty ? 1 : 0) } }
    public var clickCount: Int { records.reduce(0) { $0 + $1.vertexCount } }

    /// Image names in first-seen order, so outputs follow the export's own order.
    public var imageNames: [String] {
        var seen = Set<String>(); var out: [String] = []
        for r in records where seen.insert(r.imageFilename).inserted { out.append(r.imageFilename) }
        return out
    }

    /// The records `keep` accepts, in an order that depends only on what they hold.
    public struct CanonicalRecords: Sendable {
        /// The kept records' worker ids, sorted; a worker's number is its place here.
        public var workerIDs: [String]
        /// Each record's worker number (-1 for records not kept).
        public var workerOf: [Int]
        /// Images in first-seen order (also those with no record kept; `first` is the image's first
        /// record of any kind), each with its kept records' indices in `ExportRecord.canonicallyOrdered`.
        public var images: [(image: String, first: Int, indices: [Int])]
    }

    /// The records `keep` accepts, grouped by image and in canonical order, so the same records
    /// listed in any order are read alike.
    public func canonicalRecords(where keep: (ExportRecord) -> Bool) -> CanonicalRecords {
        let kept = records.indices.filter { keep(records[$0]) }
        let workerIDs = Set(kept.map { records[$0].workerID }).sorted()
        let number = Dictionary(uniqueKeysWithValues: workerIDs.enumerated().map { ($1, $0) })
        var index: [String: Int] = [:]
        var groups: [(image: String, first: Int, indices: [Int])] = []
        for (i, r) in records.enumerated() where index[r.imageFilename] == nil {
            index[r.imageFilename] = groups.count
            groups.append((r.imageFilename, i, []))
        }
        var workerOf = [Int](repeating: -1, count: records.count)
        for i in kept {
            workerOf[i] = number[records[i].workerID]!
            groups[index[records[i].imageFilename]!].indices.append(i)
        }
        // Worker numbers follow the ids, so they decide most comparisons without comparing strings.
        func before(_ a: Int, _ b: Int) -> Bool {
            workerOf[a] != workerOf[b] ? workerOf[a] < workerOf[b] : ExportRecord.canonicallyOrdered(records[a], records[b])
        }
        for k in groups.indices { groups[k].indices.sort(by: before) }
        return CanonicalRecords(workerIDs: workerIDs, workerOf: workerOf, images: groups)
    }

    /// Records grouped by image, in first-seen order.
    public func recordsByImage() -> [(image: String, records: [ExportRecord])] {
        var index: [String: Int] = [:]
        var groups: [(image: String, records: [ExportRecord])] = []
        for r in records {
            if let i = index[r.imageFilename] { groups[i].records.append(r) }
            else { index[r.imageFilename] = groups.count; groups.append((r.imageFilename, [r])) }
        }
        return groups
    }
}

/// A problem in an input file, always naming the file and, where it applies, the record and field.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let record: Int?
    public let field: String?
    public let message: String
    /// What `record` counts: "record" (index in a JSON array) or "line" (in a CSV or YAML file).
    public let unit: String
    public init(file: String, record: Int? = nil, field: String? = nil, message: String, unit: String = "record") {
        self.file = file; self.record = record; self.field = field; self.message = message; self.unit = unit
    }
    /// One line: `export.json: record 12, field raw_data[0][3].x: not a finite number`.
    public var description: String {
        var s = file
        var loc: [String] = []
        if let record { loc.append("\(unit) \(record)") }
        if let field { loc.append("field \(field)") }
        if !loc.isEmpty { s += ": " + loc.joined(separator: ", ") }
        return oneLine(s + ": " + message)
    }
}

/// Text as one printable line: control characters (a newline in a key or a value the user gave)
/// are written as escapes, so an error stays one line whatever the input held.
public func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var out = ""
    for u in text.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out += u.properties.generalCategory == .control ? String(format: "\\u{%X}", u.value) : String(u)
        }
    }
    return out
}
