import AsyncHTTPClient
import Foundation
import NIOCore

/// The requester API over HTTPS (or HTTP to `crowdlab turk serve`): Signature V4 on every request,
/// retries with exponential backoff and jitter on throttling and service faults, the service's
/// errors as `TurkError`.
public final class LiveTurkClient: TurkBackend, Sendable {
    /// Amazon's sandbox endpoint (free, fake money) and the live one.
    public static let sandbox = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
    public static let production = "https://mturk-requester.us-east-1.amazonaws.com"

    public let endpoint: String
    let credentials: AWSCredentials
    let signer: SignatureV4
    public let maxRetries: Int
    let host: String
    let scheme: String

    /// A client of `endpoint`, signing with `credentials`; throttling and faults are retried up to `maxRetries` times.
    public init(endpoint: String, credentials: AWSCredentials, region: String = "us-east-1", maxRetries: Int = 5) throws {
        guard let url = URL(string: endpoint), let h = url.host, let s = url.scheme, s == "http" || s == "https" else {
            throw TurkError(type: "InvalidEndpoint", message: "endpoint \"\(endpoint)\" is not an http(s) URL")
        }
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.credentials = credentials
        self.signer = SignatureV4(service: "mturk-requester", region: region)
        self.maxRetries = maxRetries
        scheme = s
        // The Host header as the HTTP client will send it: the port only when not the scheme's own.
        if let port = url.port, !(s == "http" && port == 80), !(s == "https" && port == 443) { host = "\(h):\(port)" } else { host = h }
    }

    /// Whether this endpoint is Amazon's (which hosts no images) rather than a local marketplace.
    public var isAmazon: Bool { host.hasSuffix("amazonaws.com") }
    /// A local marketplace behind this client hosts images; Amazon's service does not.
    public var hostsImages: Bool { !isAmazon }

    /// Sends one signed request and decodes the answer, or throws the service's error.
    public func send<Op: TurkOperation>(_ operation: Op) async throws -> Op.Response {
        let body = Array(try JSONEncoder().encode(operation))
        let out = try await signedRequest(method: "POST", path: "/", body: body, contentType: "application/x-amz-json-1.1",
                                          target: TurkServer.targetPrefix + Op.name)
        return try JSONDecoder().decode(Op.Response.self, from: Data(out))
    }

    /// An operation by name with a JSON body, for hand use (`crowdlab turk call`).
    public func raw(operation: String, body: [UInt8]) async throws -> [UInt8] {
        try await signedRequest(method: "POST", path: "/", body: body, contentType: "application/x-amz-json-1.1",
                                target: TurkServer.targetPrefix + operation)
    }

    /// Uploads an image to a local marketplace; Amazon hosts none (an error naming `--image-base-url`).
    public func putImage(name: String, png: Data, truthCSV: String?) async throws -> String {
        guard !isAmazon else {
            throw TurkError(type: "ImagesNotHosted", message: "Mechanical Turk does not host images: serve them yourself (any HTTPS host) and give their base URL")
        }
        guard isValidImageName(name) else { throw TurkError.request("image name \"\(name)\" must be letters, digits, '.', '_' or '-'") }
        _ = try await signedRequest(method: "PUT", path: "/images/\(name)", body: Array(png), contentType: "image/png", target: nil)
        if let truthCSV {
            _ = try await signedRequest(method: "PUT", path: "/images/\(name).truth.csv", body: Array(truthCSV.utf8), contentType: "text/csv", target: nil)
        }
        return "\(endpoint)/images/\(name)"
    }

    static func retryable(_ e: TurkError) -> Bool {
        e.status >= 500 || e.status == 429 || ["ThrottlingException", "ServiceFault", "ServiceUnavailable", "TooManyRequestsException",
                                                 "RequestLimitExceeded", "ProvisionedThroughputExceededException"].contains(e.type)
    }

    func signedRequest(method: String, path: String, body: [UInt8], contentType: String, target: String?) async throws -> [UInt8] {
        var attempt = 0
        while true {
            var headers: [(String, String)] = [("Host", host), ("Content-Type", contentType)]
            if let target { headers.append(("X-Amz-Target", target)) }
            let authorization = signer.sign(method: method, path: path, headers: &headers, body: body, credentials: credentials, date: Date())
            var request = HTTPClientRequest(url: endpoint + path)
            request.method = .RAW(value: method)
            for (k, v) in headers where k.lowercased() != "host" { request.headers.add(name: k, value: v) }
            request.headers.add(name: "Authorization", value: authorization)
            request.body = .bytes(ByteBuffer(bytes: body))
            var failure: TurkError
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let data = Array(buffer: try await response.body.collect(upTo: 256 << 20))
                if response.status.code == 200 { return data }
                failure = TurkError.parse(body: data, status: Int(response.status.code))
            } catch {
                // Connection refused, reset, timed out: the endpoint did not answer.
                failure = TurkError(type: "ServiceUnavailable", message: "cannot reach \(endpoint) (\(error))", status: 503)
            }
            guard Self.retryable(failure), attempt < maxRetries else { throw failure }
            // Full jitter: a random wait up to 0.2 s x 2^attempt, capped at 20 s.
            let cap = min(20.0, 0.2 * pow(2, Double(attempt)))
            try await Task.sleep(nanoseconds: UInt64(Double.random(in: 0...cap) * 1e9))
            attempt += 1
        }
    }
}

extension AWSCredentials {
    /// Credentials as the AWS tools find them: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
    /// (and `AWS_SESSION_TOKEN`) in the environment, else the profile (`AWS_PROFILE`, or
    /// `default`) of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, or `~/.aws/credentials`).
    public static func fromEnvironment(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSCredentials {
        if profile == nil, let ak = environment["AWS_ACCESS_KEY_ID"], let sk = environment["AWS_SECRET_ACCESS_KEY"], !ak.isEmpty, !sk.isEmpty {
            return AWSCredentials(accessKey: ak, secretKey: sk, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let name = profile ?? environment["AWS_PROFILE"] ?? "default"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TurkError(type: "MissingCredentials", message: "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write profile [\(name)] in \(path)")
        }
        return try parseCredentialsFile(text, profile: name, file: path)
    }

    /// The INI format of `~/.aws/credentials`.
    public static func parseCredentialsFile(_ text: String, profile: String, file: String) throws -> AWSCredentials {
        var section: String? = nil
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if section?.hasPrefix("profile ") == true { section = String(section!.dropFirst(8)) }
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let ak = values["aws_access_key_id"], let sk = values["aws_secret_access_key"] else {
            throw TurkError(type: "MissingCredentials", message: "\(file): profile [\(profile)] has no aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKey: ak, secretKey: sk, sessionToken: values["aws_session_token"])
    }
}
