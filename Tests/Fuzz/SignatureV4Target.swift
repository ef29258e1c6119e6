import Foundation

/// SigV4 request checking, as the local marketplace does for every request: the input is read as
/// a request (`METHOD path?query`, header lines `name: value`, a blank line, the body). Checking it
/// must end in an access key or a refusal, never a crash or a hang; the same request signed with a
/// known key must be accepted, and refused once a byte of its body or its path changes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignatureV4(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let (head, bodyText) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
    var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let requestLine = lines.isEmpty ? "" : lines.removeFirst()
    let parts = requestLine.split(separator: " ", maxSplits: 1).map(String.init)
    let method = parts.first ?? "POST", target = parts.count > 1 ? parts[1] : "/"
    let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
    let query = target.contains("?") ? String(target[target.index(after: target.firstIndex(of: "?")!)...]) : ""
    // Header names are HTTP tokens (RFC 9110 tchar); a line with anything else is no header.
    let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    var headers: [(String, String)] = lines.compactMap { line in
        guard let colon = line.firstIndex(of: ":"), colon > line.startIndex, line[..<colon].allSatisfy({ tchar.contains($0) }) else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }
    let body = Array(bodyText.utf8)
    let v4 = SignatureV4()
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    // Whatever arrives: a key or a refusal.
    do {
        _ = try v4.verify(method: method, path: path, query: query, headers: headers, body: body,
                          secretFor: { $0 == "AKIDEXAMPLE" ? secret : nil }, now: now)
    } catch {}
    // Signed by the client, the server accepts it; changed afterwards, it refuses it.
    headers.removeAll { $0.0.lowercased() == "host" }
    headers.append(("Host", "localhost"))
    let credentials = AWSCredentials(accessKey: "AKIDEXAMPLE", secretKey: secret)
    let auth = v4.sign(method: method, path: path, query: query, headers: &headers, body: body, credentials: credentials, date: now)
    headers.append(("Authorization", auth))
    func accepted(_ path: String, _ body: [UInt8]) -> Bool {
        do {
            return try v4.verify(method: method, path: path, query: query, headers: headers, body: body,
                                 secretFor: { $0 == "AKIDEXAMPLE" ? secret : nil }, now: now) == "AKIDEXAMPLE"
        } catch { return false }
    }
    precondition(accepted(path, body), "a request signed with a known key is refused")
    if !body.isEmpty {
        var changed = body; changed[changed.count / 2] ^= 0x01
        precondition(!accepted(path, changed), "a changed body is accepted")
    }
    precondition(!accepted(path + "x", body), "a changed path is accepted")
    return 0
}
