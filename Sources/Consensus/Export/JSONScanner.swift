import Foundation

/// A JSON scanner over bytes for readers that decode as they go (`ExportReader`): whitespace,
/// punctuation, strings with their escapes, numbers (`DecimalNumber`, with a fast path for plain
/// integers) and skipping unknown values, strict to RFC 8259. Every problem is one `InputError`
/// naming the file, the record and the field.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let file: String
    var pos = 0
    var record: Int? = nil

    init(bytes: UnsafeBufferPointer<UInt8>, file: String) { self.bytes = bytes; self.file = file }

    func fail(_ field: String?, _ message: String) -> InputError {
        InputError(file: file, record: record, field: field, message: message)
    }

    mutating func skipWS() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { break }
        }
    }

    mutating func peek(_ field: String?) throws -> UInt8 {
        skipWS()
        guard pos < bytes.count else { throw fail(field, "unexpected end of file (truncated export?)") }
        return bytes[pos]
    }

    mutating func expect(_ c: UInt8, _ field: String?, _ what: String) throws {
        let got = try peek(field)
        guard got == c else { throw fail(field, "expected \(what), found \(describe(got))") }
        pos += 1
    }

    func describe(_ c: UInt8) -> String {
        switch c {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : String(format: "byte 0x%02X", c)
        }
    }

    /// A finite number; the field's name is built only on error (this runs once per coordinate).
    mutating func parseFiniteFast(_ field: () -> String) throws -> Double {
        skipWS()
        if pos < bytes.count {
            // Fast path: a plain integer, as the portal writes pixels and milliseconds.
            var p = pos
            var negative = false
            if bytes[p] == UInt8(ascii: "-") { negative = true; p += 1 }
            var v: Int64 = 0
            var digits = 0
            while p < bytes.count, bytes[p] >= 0x30, bytes[p] <= 0x39, digits < 15 {
                v = v * 10 + Int64(bytes[p] - 0x30); p += 1; digits += 1
            }
            if digits > 0, !(digits > 1 && bytes[negative ? pos + 1 : pos] == 0x30), p < bytes.count, bytes[p] != UInt8(ascii: "."), bytes[p] != UInt8(ascii: "e"),
               bytes[p] != UInt8(ascii: "E"), !(bytes[p] >= 0x30 && bytes[p] <= 0x39) {
                pos = p
                return Double(negative ? -v : v)
            }
        }
        let v = try parseNumber(field)
        guard v.isFinite else { throw fail(field(), "not a finite number (\(v))") }
        return v
    }

    // MARK: values

    mutating func parseFinite(_ field: String) throws -> Double { try parseFiniteFast { field } }

    mutating func parseNumber(_ field: String) throws -> Double { try parseNumber { field } }

    /// Numbers (`DecimalNumber`: RFC 8259's grammar, correctly rounded), plus the non-standard
    /// NaN/Infinity tokens some writers emit, which are reported as non-finite rather than as a
    /// syntax error so the user learns what is really wrong.
    mutating func parseNumber(_ field: () -> String) throws -> Double {
        let c = try peek(nil)
        if c == UInt8(ascii: "N") { if match("NaN") { throw fail(field(), "not a finite number (NaN)") } }
        if c == UInt8(ascii: "I") { if match("Infinity") { throw fail(field(), "not a finite number (Infinity)") } }
        if c == UInt8(ascii: "-"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "I") {
            pos += 1
            if match("Infinity") { throw fail(field(), "not a finite number (-Infinity)") }
        }
        guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else {
            throw fail(field(), "expected a number, found \(describe(c))")
        }
        switch DecimalNumber.scan(bytes, from: pos) {
        case .value(let v, let end):
            pos = end
            return v
        case .malformed:
            throw fail(field(), "malformed number")
        }
    }

    mutating func match(_ word: String) -> Bool {
        let u = Array(word.utf8)
        guard pos + u.count <= bytes.count else { return false }
        for i in 0..<u.count where bytes[pos + i] != u[i] { return false }
        pos += u.count
        return true
    }

    mutating func parseNull(_ field: String?) throws {
        guard match("null") else { throw fail(field, "expected null") }
    }

    mutating func parseString(_ field: String?) throws -> String {
        let c = try peek(field)
        guard c == UInt8(ascii: "\"") else { throw fail(field, "expected a string, found \(describe(c))") }
        pos += 1
        let start = pos
        var hasEscape = false, beyondASCII = false
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<pos])
                // JSON text is UTF-8 (RFC 8259): bytes that are not are refused, not replaced.
                if beyondASCII && String(bytes: raw, encoding: .utf8) == nil { throw fail(field, "string is not valid UTF-8") }
                let s: String
                if hasEscape { s = try unescape(start, pos, field) }
                else { s = String(decoding: raw, as: UTF8.self) }
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") { hasEscape = true; pos += 2; continue }
            if b < 0x20 { throw fail(field, "control character inside a string") }
            if b >= 0x80 { beyondASCII = true }
            pos += 1
        }
        throw fail(field, "unexpected end of file inside a string (truncated export?)")
    }

    func unescape(_ start: Int, _ end: Int, _ field: String?) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= end else { throw fail(field, "bad \\u escape") }
            var v: UInt32 = 0
            for k in 0..<4 {
                let h = bytes[at + k]
                let d: UInt32
                switch h {
                case 0x30...0x39: d = UInt32(h - 0x30)
                case 0x41...0x46: d = UInt32(h - 0x41 + 10)
                case 0x61...0x66: d = UInt32(h - 0x61 + 10)
                default: throw fail(field, "bad \\u escape")
                }
                v = v * 16 + d
            }
            return v
        }
        while i < end {
            let b = bytes[i]
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            guard i + 1 < end else { throw fail(field, "bad escape") }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i); i += 4
                if scalar >= 0xD800, scalar < 0xDC00, i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let low = try hex4(i + 2)
                    if low >= 0xDC00, low < 0xE000 { scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00); i += 6 }
                }
                guard let us = Unicode.Scalar(scalar) else { throw fail(field, "\\u escape of a lone surrogate") }
                out.append(contentsOf: Array(String(Character(us)).utf8))
            default: throw fail(field, "bad escape \\" + (e >= 0x20 && e < 0x7F ? String(Character(Unicode.Scalar(e))) : String(format: "(byte 0x%02X)", e)))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Skips a value of an unknown key, so that extra fields newer portals add do not break reading.
    /// Nesting deeper than this in an unknown field is refused (each level is a call: deeper input
    /// would overflow the stack).
    static let maximumDepth = 512

    mutating func skipValue(_ field: String, depth: Int = 0) throws {
        guard depth < Self.maximumDepth else { throw fail(field, "nested deeper than \(Self.maximumDepth) levels") }
        let c = try peek(field)
        switch c {
        case UInt8(ascii: "\""): _ = try parseString(field)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            if try peek(field) == close { pos += 1; return }
            while true {
                if c == UInt8(ascii: "{") { _ = try parseString(field); try expect(UInt8(ascii: ":"), field, "':'") }
                try skipValue(field, depth: depth + 1)
                let d = try peek(field); pos += 1
                if d == close { return }
                guard d == UInt8(ascii: ",") else { throw fail(field, "malformed value") }
            }
        case UInt8(ascii: "t"): guard match("true") else { throw fail(field, "malformed value") }
        case UInt8(ascii: "f"): guard match("false") else { throw fail(field, "malformed value") }
        case UInt8(ascii: "n"): try parseNull(field)
        default: _ = try parseNumber(field)
        }
    }
}
