import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The local marketplace on the wire: the Mechanical Turk requester protocol (`POST /` with
/// `X-Amz-Target: MTurkRequesterServiceV20170117.<Operation>`, `application/x-amz-json-1.1`,
/// Signature V4 for `mturk-requester` in `us-east-1` checked on every request), plus image
/// hosting (`PUT`/`GET /images/NAME`) and a work page where a person can do a HIT as a worker would
/// (`GET /work/HITID?workerId=W`, posting back to `/mturk/externalSubmit` as the real page does).
public struct TurkServer: Sendable {
    /// What `X-Amz-Target` starts with: the service and API version.
    public static let targetPrefix = "MTurkRequesterServiceV20170117."
    public let market: LocalMarketplace
    let signer = SignatureV4()

    /// The HTTP front of a marketplace (Hummingbird): the requester API, images, the work page.
    public init(market: LocalMarketplace) { self.market = market }

    /// Runs until cancelled. `onRunning` gets the bound port (useful with port 0).
    public func run(host: String = "127.0.0.1", port: Int, logLevel: Logger.Level = .warning,
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        let server = self
        router.post("/") { request, _ in try await server.api(request) }
        router.put("/images/:name") { request, context in try await server.upload(request, name: context.parameters.get("name") ?? "") }
        router.get("/images/:name") { _, context in try server.download(name: context.parameters.get("name") ?? "") }
        router.get("/work/:hit") { request, context in try server.work(request, hit: context.parameters.get("hit") ?? "") }
        router.get("/hits/:hit/question") { _, context in try server.questionPage(hit: context.parameters.get("hit") ?? "") }
        router.post("/mturk/externalSubmit") { request, _ in try await server.externalSubmit(request) }
        router.get("/health") { _, _ in "ok" }
        var logger = Logger(label: "crowdlab.turk")
        logger.logLevel = logLevel
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        // The marketplace clock moves on its own: simulated workers arrive and submit between requests.
        let market = self.market
        let tickLogger = logger
        let ticker = Task {
            while !Task.isCancelled {
                do { try market.tick() } catch { tickLogger.error("marketplace clock: \(error)") }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        }
        defer { ticker.cancel() }
        try await app.runService()
    }

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        var headers: HTTPFields = [.contentType: "application/x-amz-json-1.1"]
        headers[HTTPField.Name("x-amzn-RequestId")!] = UUID().uuidString.lowercased()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func error(_ e: TurkError) -> Response {
        json(HTTPResponse.Status(code: e.status), e.body)
    }

    /// The headers as signed: HTTP/1.1's Host travels as the request's authority in HTTPTypes.
    static func signedHeaders(_ request: Request) -> [(String, String)] {
        var out: [(String, String)] = []
        if let authority = request.head.authority { out.append(("host", authority)) }
        for field in request.headers { out.append((field.name.canonicalName, field.value)) }
        return out
    }

    func verify(_ request: Request, body: [UInt8]) throws(TurkError) {
        let credentials = market.options.credentials
        do {
            _ = try signer.verify(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                                  headers: Self.signedHeaders(request), body: body,
                                  secretFor: { credentials[$0] }, now: Date())
        } catch {
            throw TurkError(type: error.type, message: error.message, status: error.type == "MissingAuthenticationTokenException" ? 403 : 400)
        }
    }

    func api(_ request: Request) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: 16 << 20))
        do {
            try verify(request, body: body)
            guard let target = request.headers.first(where: { $0.name.canonicalName == "x-amz-target" })?.value, target.hasPrefix(Self.targetPrefix) else {
                throw TurkError(type: "UnknownOperationException", message: "X-Amz-Target must name an operation of \(Self.targetPrefix.dropLast())")
            }
            let out = try market.handle(operation: String(target.dropFirst(Self.targetPrefix.count)), body: body)
            return Self.json(.ok, out)
        } catch let e as TurkError {
            return Self.error(e)
        }
    }

    func upload(_ request: Request, name: String) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: 64 << 20))
        do {
            try verify(request, body: body)
            if name.hasSuffix(".truth.csv") {
                try market.storeTruth(name: name, truthCSV: String(decoding: body, as: UTF8.self))
            } else {
                try market.storeImage(name: name, png: Data(body), truthCSV: nil)
            }
            return Self.json(.ok, Array("{}".utf8))
        } catch let e as TurkError {
            return Self.error(e)
        }
    }

    func download(name: String) throws -> Response {
        if name.hasSuffix(".truth.csv"), let t = try market.truth(name: String(name.dropLast(10))) {
            return Response(status: .ok, headers: [.contentType: "text/csv"], body: .init(byteBuffer: ByteBuffer(string: t)))
        }
        guard let png = try market.image(name: name) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no image \(name)\n")))
        }
        return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
    }

    /// A person takes the HIT: accepted for `workerId`, then sent to the question page with the
    /// parameters Mechanical Turk gives an HTMLQuestion's frame.
    func work(_ request: Request, hit: String) throws -> Response {
        let worker = request.uri.queryParameters.get("workerId") ?? "ALOCALPERSON01"
        do {
            let assignment = try market.acceptForPerson(hitId: hit, workerId: worker)
            let host = request.head.authority ?? "127.0.0.1"
            let submitTo = SignatureV4.uriEncode("http://\(host)", keepSlash: false)
            let location = "/hits/\(hit)/question?assignmentId=\(assignment)&hitId=\(hit)&workerId=\(worker)&turkSubmitTo=\(submitTo)"
            return Response(status: .seeOther, headers: [.location: location])
        } catch let e as TurkError {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: e.message + "\n")))
        }
    }

    func questionPage(hit: String) throws -> Response {
        guard let q = try market.question(hitId: hit) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no HIT \(hit)\n")))
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: HTMLQuestion.content(of: q) ?? q)))
    }

    func externalSubmit(_ request: Request) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 16 << 20))
        let fields = FormEncoding.decode(body)
        guard let assignment = fields.first(where: { $0.0 == "assignmentId" })?.1 else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "the form has no assignmentId\n")))
        }
        do {
            try market.submitFromForm(assignmentId: assignment, fields: fields)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><title>Submitted</title><p id=\"submitted\">Your work was submitted (assignment \(assignment)).</p>")))
        } catch let e as TurkError {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: e.message + "\n")))
        }
    }
}

/// `application/x-www-form-urlencoded`, as browsers post forms.
public enum FormEncoding {
    /// `application/x-www-form-urlencoded` pairs, as the work page posts them.
    public static func decode(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ s: Substring) -> String { (String(s).replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? String(s) }
            return (unescape(kv[0]), kv.count > 1 ? unescape(kv[1]) : "")
        }
    }
}
