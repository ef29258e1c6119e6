import Consensus
import Foundation
import Yams

/// A strict reader for crowdlab's YAML files (populations now, scenarios later): every value is
/// looked up by a dotted key, unknown keys are refused, and each problem is one line naming the
/// file, the YAML line and the key.
public struct YAMLConfig {
    public let file: String
    private var values: [String: (node: Node, line: Int)] = [:]
    private var used = Set<String>()
    /// Every key a reader asked for, present or not: the known keys, for "did you mean".
    private var asked = Set<String>()

    public init(text: String, file: String) throws {
        self.file = file
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw InputError(file: file, message: "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { throw InputError(file: file, message: "empty YAML document") }
        try flatten(root, prefix: "")
    }

    public static func load(path: String) throws -> YAMLConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(file: path, message: "cannot read file")
        }
        return try YAMLConfig(text: text, file: path)
    }

    private mutating func flatten(_ node: Node, prefix: String) throws {
        guard case .mapping(let m) = node else {
            throw InputError(file: file, record: node.mark?.line, field: prefix.isEmpty ? nil : prefix,
                             message: "expected a mapping of keys", unit: "line")
        }
        for (k, v) in m {
            guard let key = k.string else { throw InputError(file: file, record: k.mark?.line, message: "keys must be strings", unit: "line") }
            let full = prefix.isEmpty ? key : prefix + "." + key
            if case .mapping = v { try flatten(v, prefix: full) } else { values[full] = (v, v.mark?.line ?? k.mark?.line ?? 0) }
        }
    }

    public func error(_ key: String, _ message: String) -> InputError {
        let line = values[key]?.line ?? 0
        // Values given with --set have no line in the file.
        return InputError(file: line == 0 ? "--set" : file, record: line == 0 ? nil : line, field: key, message: message, unit: "line")
    }

    public var keys: [String] { values.keys.sorted() }

    /// Replaces (or adds) a value as `--set key=value` does; the value is read as YAML, so types are
    /// checked by the same reader. `known` lists the keys a file may hold.
    public mutating func set(_ key: String, _ value: String, known: Set<String>) throws {
        guard known.contains(key) else {
            throw InputError(file: "--set", field: key, message: "unknown key (known: \(known.sorted().joined(separator: ", ")))")
        }
        let node = (try? Yams.compose(yaml: value)) ?? nil
        values[key] = (node ?? Node(value), 0)
    }

    /// Whether the file (or a --set) gave this key.
    public func has(_ key: String) -> Bool { values[key] != nil }

    /// A number in `range`, or nil when the key is absent.
    public mutating func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        asked.insert(key)
        guard let v = values[key] else { return nil }
        used.insert(key)
        guard case .scalar(let s) = v.node, let d = Double(s.string), d.isFinite else {
            throw error(key, "expected a number, found \(describe(v.node))")
        }
        guard range.contains(d) else { throw error(key, "\(s.string) is outside \(range.lowerBound)…\(range.upperBound)") }
        return d
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        asked.insert(key)
        guard let v = values[key] else { return nil }
        used.insert(key)
        guard case .scalar(let s) = v.node, let d = Int(s.string) else {
            throw error(key, "expected a whole number, found \(describe(v.node))")
        }
        guard range.contains(d) else { throw error(key, "\(d) is outside \(range.lowerBound)…\(range.upperBound)") }
        return d
    }

    public mutating func string(_ key: String, oneOf allowed: [String]? = nil) throws -> String? {
        asked.insert(key)
        guard let v = values[key] else { return nil }
        used.insert(key)
        guard case .scalar(let s) = v.node else { throw error(key, "expected a text value, found \(describe(v.node))") }
        if let allowed, !allowed.contains(s.string) {
            throw error(key, "\"\(s.string)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return s.string
    }

    /// After every known key was read: refuse the rest, naming the first unknown one.
    public func refuseUnknownKeys() throws {
        if let k = values.keys.filter({ !used.contains($0) }).min(by: { (values[$0]!.line, $0) < (values[$1]!.line, $1) }) {
            // The nearest known key by edit distance, when it is near enough to be a slip.
            let near = asked.map { ($0, editDistance(k, $0)) }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            if let near, near.1 <= max(2, k.count / 5) { throw error(k, "unknown key (did you mean \(near.0)?)") }
            throw error(k, "unknown key")
        }
    }

    private func describe(_ n: Node) -> String {
        switch n {
        case .scalar(let s): return "\"\(s.string)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }
}

/// Levenshtein distance between two keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var previous = row[0]; row[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            let old = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = old
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}
