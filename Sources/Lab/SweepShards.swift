import Consensus
import Foundation

/// The shards of one sweep split `N` ways: `runs-shard-i-of-N.csv`, shard `i` holding every
/// `N`-th run from the `i`-th (1-based). A shard file is written by renaming a complete file into
/// place, so one that exists is whole; one that is missing belongs to a task that failed, was
/// killed or has not run.
public struct SweepShards: Sendable, Equatable {
    public var count: Int
    /// Shard index → its file, for the shards present.
    public var files: [Int: String]

    public static func fileName(_ index: Int, of count: Int) -> String { "runs-shard-\(index)-of-\(count).csv" }

    /// `(i, N)` from a shard file's name, or nil for any other name.
    public static func index(fromFileName name: String) -> (index: Int, count: Int)? {
        guard name.hasPrefix("runs-shard-"), name.hasSuffix(".csv") else { return nil }
        let core = name.dropFirst("runs-shard-".count).dropLast(".csv".count)
        let p = core.components(separatedBy: "-of-")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, (1...n).contains(i) else { return nil }
        return (i, n)
    }

    /// The rows of the whole sweep shard `index` of `count` runs.
    public static func select<T>(_ runs: [T], shard index: Int, of count: Int) -> [T] {
        runs.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    /// Reads the shard set from files and folders as given on a command line: a folder stands for
    /// the shard files in it. Every file must be a shard of the same `N`.
    public static func gather(_ paths: [String]) throws -> SweepShards {
        let fm = FileManager.default
        var files: [Int: String] = [:]
        var count: Int? = nil
        var seenFolder = false
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw InputError(file: path, message: "no such file or folder") }
            var candidates = [path]
            if isDir.boolValue {
                seenFolder = true
                let names = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                candidates = names.filter { index(fromFileName: $0) != nil }.sorted().map { (path as NSString).appendingPathComponent($0) }
            }
            for file in candidates {
                let name = (file as NSString).lastPathComponent
                guard let (i, n) = index(fromFileName: name) else {
                    throw InputError(file: file, message: "not a sweep shard (expected a name like \(fileName(1, of: 4)))")
                }
                if let count, count != n {
                    throw InputError(file: file, message: "a shard of \(n), but the other shards are of \(count) (shards of different sweeps?)")
                }
                count = n
                if let other = files[i], other != file { throw InputError(file: file, message: "shard \(i) given twice (also \(other))") }
                files[i] = file
            }
        }
        guard let count else {
            throw InputError(file: paths.first ?? "merge", message: seenFolder ? "no shard files (runs-shard-i-of-N.csv) in it" : "no shard files given")
        }
        return SweepShards(count: count, files: files)
    }

    /// Shard indices with no file, ascending.
    public var missing: [Int] { (1...count).filter { files[$0] == nil } }

    /// The shards present joined into one `runs.csv` (header once, rows in grid order whatever
    /// order the shards finished in) and its row count. Refuses shards whose headers differ and a
    /// run listed in two shards, naming the file and line.
    public func joinedRuns() throws -> (csv: String, runs: Int) {
        var header: String? = nil
        var rows: [String] = []
        var seen = Set<String>()
        for (_, path) in files.sorted(by: { $0.key < $1.key }) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw InputError(file: path, message: "cannot read") }
            let lines = text.split(separator: "\n").map(String.init)
            guard let h = lines.first else { throw InputError(file: path, message: "empty file") }
            if let header, header != h { throw InputError(file: path, record: 1, message: "header differs from the first shard's (shards of different sweeps?)", unit: "line") }
            header = h
            for (n, line) in lines.enumerated().dropFirst() {
                let key = Self.runKey(line).map(String.init).joined(separator: ",")
                guard seen.insert(key).inserted else { throw InputError(file: path, record: n + 1, message: "run \(key) appears in two shards", unit: "line") }
                rows.append(line)
            }
        }
        rows.sort { Self.runKey($0).compactMap { Int($0) }.lexicographicallyPrecedes(Self.runKey($1).compactMap { Int($0) }) }
        return ((header ?? "") + "\n" + rows.map { $0 + "\n" }.joined(), rows.count)
    }

    /// A run's place in the grid: its first two columns (point, seed).
    static func runKey(_ line: String) -> ArraySlice<Substring> { line.split(separator: ",").prefix(2) }

    /// `1-3,5,7-8`: the form Slurm's `--array` takes.
    public static func arrayRanges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var k = 0
        let s = indices.sorted()
        while k < s.count {
            var j = k
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(j == k ? "\(s[k])" : "\(s[k])-\(s[j])")
            k = j + 1
        }
        return parts.joined(separator: ",")
    }
}
