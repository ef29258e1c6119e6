import Foundation

/// Large exports are read in pieces on all cores. The file is cut where one record ends and the
/// next begins (`}` `,` `{"<record key>"`), each piece is decoded on its own, and the pieces'
/// records are joined in file order. A cut is only a guess until the piece before it, read from a
/// true record boundary, ends its last record exactly there; a guess that fails that check, or any
/// piece that does not decode, sends the whole file to the one-pass reader, which gives the same
/// records, or the first error with its record's index. So the result never depends on the cuts
/// or the number of cores.
extension ExportReader {
    /// Below this many bytes a piece is not worth a thread (a megabyte decodes in about 3 ms).
    static let minimumPieceBytes = 1 << 20

    /// The records of a large, valid export read in pieces; nil when the file is too small to
    /// split, or a cut or a piece fails its check (the caller then reads it in one pass).
    static func recordsInPieces(_ bytes: UnsafeBufferPointer<UInt8>, fileName: String) -> [ExportRecord]? {
        let cores = Parallelism.maxThreads == 0 ? ProcessInfo.processInfo.activeProcessorCount : Parallelism.maxThreads
        let pieces = min(cores, bytes.count / minimumPieceBytes)
        guard pieces >= 2 else { return nil }
        var cuts: [Int] = []
        for k in 1..<pieces {
            let from = max(k * bytes.count / pieces, (cuts.last ?? 0) + 1)
            guard let cut = recordBoundary(in: bytes, from: from, before: (k + 1) * bytes.count / pieces) else { return nil }
            cuts.append(cut)
        }
        let view = SharedBytes(base: bytes.baseAddress!, count: bytes.count), bounds = cuts
        let decoded: [[ExportRecord]?] = Array(0..<pieces).parallelMap { k in
            var scanner = JSONScanner(bytes: view.buffer, file: fileName)
            return try? scanner.parsePiece(start: k == 0 ? nil : bounds[k - 1] + 1, end: k == pieces - 1 ? nil : bounds[k])
        }
        var records: [ExportRecord] = []
        for piece in decoded {
            guard let piece else { return nil }
            records += piece
        }
        return records
    }

    /// The offset of the first `,` at or after `from` (and before `limit`) that stands between a
    /// closing `}` and an opening `{` whose first key names a record field.
    static func recordBoundary(in bytes: UnsafeBufferPointer<UInt8>, from: Int, before limit: Int) -> Int? {
        let n = bytes.count
        func skip(_ p: Int) -> Int {
            var p = p
            while p < n, bytes[p] == 0x20 || bytes[p] == 0x0A || bytes[p] == 0x0D || bytes[p] == 0x09 { p += 1 }
            return p
        }
        var p = from
        while p < min(limit, n) {
            defer { p += 1 }
            guard bytes[p] == UInt8(ascii: "}") else { continue }
            let comma = skip(p + 1)
            guard comma < n, bytes[comma] == UInt8(ascii: ",") else { continue }
            let brace = skip(comma + 1)
            guard brace < n, bytes[brace] == UInt8(ascii: "{") else { continue }
            let quote = skip(brace + 1)
            guard quote < n, bytes[quote] == UInt8(ascii: "\"") else { continue }
            for key in recordKeys where quote + key.count < n {
                if (0..<key.count).allSatisfy({ bytes[quote + 1 + $0] == key[$0] }) { return comma }
            }
        }
        return nil
    }

    /// The record fields' names with their closing quote, as bytes.
    static let recordKeys: [[UInt8]] = (requiredFields + optionalRecordFields).map { Array(($0 + "\"").utf8) }
}

/// The mapped file as every piece's thread sees it: read-only for as long as the pieces are read.
private struct SharedBytes: @unchecked Sendable {
    let base: UnsafePointer<UInt8>
    let count: Int
    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }
}

extension JSONScanner {
    /// One piece's records: from the array's opening `[` (start nil) or from just after a cut, to
    /// the closing `]` and the end of the file (end nil) or to the cut `end`, which must be the `,`
    /// after one of its records; anything else throws.
    mutating func parsePiece(start: Int?, end: Int?) throws -> [ExportRecord] {
        if let start { pos = start } else {
            guard try peek(nil) == UInt8(ascii: "[") else { throw fail(nil, "not an array") }
            pos += 1
        }
        var records: [ExportRecord] = []
        while true {
            records.append(try parseRecord())
            let c = try peek(nil)
            if let end {
                if pos == end { return records }
                guard pos < end, c == UInt8(ascii: ",") else { throw fail(nil, "the cut is not between records") }
            } else if c == UInt8(ascii: "]") {
                pos += 1
                try expectEnd()
                return records
            }
            guard c == UInt8(ascii: ",") else { throw fail(nil, "expected ',' or ']' after the record") }
            pos += 1
        }
    }
}
