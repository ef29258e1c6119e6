import Crypto
import Foundation

/// An AWS access key pair, as the AWS tools keep it.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKey: String
    public var secretKey: String
    public var sessionToken: String?

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
        self.accessKey = accessKey; self.secretKey = secretKey; self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 (the `AWS4-HMAC-SHA256` scheme), for signing requests as a client and
/// checking them as a server. The canonical forms follow the AWS General Reference: the path is
/// URI-encoded per segment (as botocore does for every service but S3), query pairs are sorted,
/// header names lower-cased and values trimmed with inner runs of spaces collapsed.
public struct SignatureV4: Sendable {
    public var service: String
    public var region: String

    public init(service: String = "mturk-requester", region: String = "us-east-1") {
        self.service = service; self.region = region
    }

    /// `20150830T123600Z`, the `X-Amz-Date` form.
    public static func amzDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Parses the `X-Amz-Date` form; nil if malformed.
    public static func parseAmzDate(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48, b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8), let h = num(9..<11),
              let mi = num(11..<13), let se = num(13..<15), (1...12).contains(mo), (1...31).contains(d),
              h < 24, mi < 60, se < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900); parts.tm_mon = Int32(mo - 1); parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h); parts.tm_min = Int32(mi); parts.tm_sec = Int32(se)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when asked).
    public static func uriEncode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for c in s.utf8 {
            let unreserved = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
                || c == 45 || c == 46 || c == 95 || c == 126 || (keepSlash && c == 47)
            if unreserved { out.unicodeScalars.append(UnicodeScalar(c)) } else {
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(UnicodeScalar(hex[Int(c >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(hex[Int(c & 15)]))
            }
        }
        return out
    }

    /// The canonical query string from `a=1&b=2` as sent (values percent-decoded, then re-encoded).
    public static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let v = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            return (uriEncode(k, keepSlash: false), uriEncode(v, keepSlash: false))
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func canonicalHeaderValue(_ v: String) -> String {
        v.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// The canonical request. `headers` may hold a name more than once; only `signedHeaders`
    /// (lower-case, sorted) take part.
    public static func canonicalRequest(method: String, path: String, query: String, headers: [(String, String)],
                                        signedHeaders: [String], payloadHash: String) -> String {
        var values: [String: [String]] = [:]
        for (name, value) in headers { values[name.lowercased(), default: []].append(canonicalHeaderValue(value)) }
        let canonicalHeaders = signedHeaders.map { "\($0):\((values[$0] ?? []).joined(separator: ","))\n" }.joined()
        return [method, uriEncode(path.isEmpty ? "/" : path, keepSlash: true), canonicalQuery(query),
                canonicalHeaders, signedHeaders.joined(separator: ";"), payloadHash].joined(separator: "\n")
    }

    /// The lower-case hex SHA-256 of the bytes (SigV4's payload hash).
    public static func hexSHA256<D: DataProtocol>(_ data: D) -> String { hex(SHA256.hash(data: data)) }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// The signature for a canonical request made on `amzDate` with `secretKey`.
    public func signature(canonicalRequest: String, amzDate: String, secretKey: String) -> String {
        let day = String(amzDate.prefix(8))
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope(day: day))\n\(Self.hexSHA256(Array(canonicalRequest.utf8)))"
        var key = SymmetricKey(data: Array("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Signs a request: adds `X-Amz-Date` (and the session token) to `headers` and returns the
    /// `Authorization` value. Every header given is signed.
    public func sign(method: String, path: String, query: String = "", headers: inout [(String, String)],
                     body: [UInt8], credentials: AWSCredentials, date: Date) -> String {
        let amz = Self.amzDate(date)
        headers.removeAll { $0.0.lowercased() == "x-amz-date" || $0.0.lowercased() == "authorization" }
        headers.append(("X-Amz-Date", amz))
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        let signed = Array(Set(headers.map { $0.0.lowercased() })).sorted()
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: headers,
                                              signedHeaders: signed, payloadHash: Self.hexSHA256(body))
        let sig = signature(canonicalRequest: canonical, amzDate: amz, secretKey: credentials.secretKey)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope(day: String(amz.prefix(8)))), "
            + "SignedHeaders=\(signed.joined(separator: ";")), Signature=\(sig)"
    }

    /// Why a request was refused, in the shape AWS's JSON services answer with.
    public struct Refusal: Error, Equatable, Sendable {
        public var type: String
        public var message: String
    }

    /// Checks a request as AWS does: a well-formed `Authorization`, a known key, this service and
    /// region, a request time within `skew` of `now`, and the signature over method, path, query,
    /// the signed headers and the body. Returns the access key.
    public func verify(method: String, path: String, query: String, headers: [(String, String)], body: [UInt8],
                       secretFor: (String) -> String?, now: Date, skew: TimeInterval = 15 * 60) throws(Refusal) -> String {
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        guard let auth = header("authorization") else {
            throw Refusal(type: "MissingAuthenticationTokenException", message: "Missing Authentication Token")
        }
        guard auth.hasPrefix("AWS4-HMAC-SHA256 ") else {
            throw Refusal(type: "IncompleteSignatureException", message: "Unsupported authorization type: only AWS4-HMAC-SHA256 is accepted")
        }
        var fields: [String: String] = [:]
        for part in auth.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let credential = fields["Credential"], let signedList = fields["SignedHeaders"], let given = fields["Signature"] else {
            throw Refusal(type: "IncompleteSignatureException",
                          message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
        }
        let scopeParts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scopeParts.count == 5, scopeParts[4] == "aws4_request" else {
            throw Refusal(type: "IncompleteSignatureException", message: "Credential should be scoped to a valid region and service: \(credential)")
        }
        guard let secret = secretFor(scopeParts[0]) else {
            throw Refusal(type: "UnrecognizedClientException", message: "The security token included in the request is invalid.")
        }
        guard let amz = header("x-amz-date"), let when = Self.parseAmzDate(amz) else {
            throw Refusal(type: "IncompleteSignatureException", message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")
        }
        guard abs(when.timeIntervalSince(now)) <= skew else {
            throw Refusal(type: "InvalidSignatureException",
                          message: "Signature expired: \(amz) is now earlier than \(Self.amzDate(now.addingTimeInterval(-skew))) (\(Self.amzDate(now)) - 15 min.)")
        }
        guard scopeParts[1] == String(amz.prefix(8)), scopeParts[2] == region, scopeParts[3] == service else {
            throw Refusal(type: "InvalidSignatureException",
                          message: "Credential should be scoped to a valid region and service: expected \(amz.prefix(8))/\(region)/\(service)")
        }
        let signed = signedList.split(separator: ";").map { String($0) }
        guard signed.contains("host"), signed == signed.sorted() else {
            throw Refusal(type: "InvalidSignatureException", message: "'Host' must be a signed header and signed headers must be sorted")
        }
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: headers,
                                              signedHeaders: signed, payloadHash: Self.hexSHA256(body))
        let expected = signature(canonicalRequest: canonical, amzDate: amz, secretKey: secret)
        guard constantTimeEqual(expected, given) else {
            throw Refusal(type: "InvalidSignatureException",
                          message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
        }
        return scopeParts[0]
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in x.indices { d |= x[i] ^ y[i] }
    return d == 0
}
