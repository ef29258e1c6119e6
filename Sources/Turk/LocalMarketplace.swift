import Consensus
import Crowd
import Crypto
import Foundation
import GRDB
import Imaging
import Randomness

/// Settings of a local marketplace.
public struct MarketplaceOptions: Sendable {
    /// Access key → secret key accepted by the server.
    public var credentials: [String: String] = ["AKIDCROWDLAB": "crowdlab-local-secret"]
    /// Marketplace seconds per wall-clock second (3600: an hour a second).
    public var clockSpeed: Double = 1
    /// The simulated workers' population and the seed of everything they do.
    public var population = Population()
    public var seed: UInt64 = 1
    /// Simulated workers in the pool.
    public var poolSize = 400
    /// Whether simulated workers take HITs at all (off: only people through the work page).
    public var simulatedWorkers = true
    /// The sandbox's starting balance.
    public var startingBalanceCents = 1_000_000
    /// Answer this many requests with `ThrottlingException` first (to exercise clients' retries).
    public var throttleFirstRequests = 0
    /// Where the marketplace reports what it cannot do (a HIT no simulated worker can see), one line each.
    public var warn: @Sendable (String) -> Void = { _ in }
    public init() {}
}

/// The Mechanical Turk requester service, offline: HITs, assignments, money, qualifications and
/// blocks as the service keeps them, in SQLite, with simulated workers from the crowd model taking
/// HITs on the marketplace clock. `handle(operation:body:)` is the wire protocol's body in and out,
/// so the HTTP server and the in-process backend run exactly the same code.
public final class LocalMarketplace: TurkBackend, @unchecked Sendable {
    let store: MarketStore
    public let options: MarketplaceOptions
    let pool: CrowdPool
    let activityCDF: [Double]
    let annotator: Annotator
    let workerIndex: [String: Int]
    /// Wall time and marketplace time at the last anchor, under `lock`.
    private var anchorWall: Double
    private var anchorMarket: Double
    private let lock = NSLock()
    private var throttled = 0
    /// Image tasks by image name, built from the stored PNG and truth on first use.
    private var tasks: [String: ImageTask?] = [:]

    /// Opens (or creates) the marketplace stored at `path`; its clock resumes where it stopped.
    public init(path: String, options: MarketplaceOptions = MarketplaceOptions()) throws {
        self.options = options
        store = try MarketStore(path: path)
        pool = CrowdPool(population: options.population, size: max(1, options.poolSize), seed: options.seed)
        var cdf: [Double] = []
        var total = 0.0
        for w in pool.workers { total += w.activity; cdf.append(total) }
        activityCDF = cdf
        annotator = Annotator(population: options.population)
        workerIndex = Dictionary(uniqueKeysWithValues: pool.workers.enumerated().map { ($1.id, $0) })
        throttled = options.throttleFirstRequests
        let wall = Date().timeIntervalSince1970
        anchorWall = wall
        let opts = options
        let market = try store.db.write { db -> Double in
            if try db.meta("balance_cents") == nil {
                try db.setMeta("balance_cents", String(opts.startingBalanceCents))
                try db.setMeta("seed", String(opts.seed))
            }
            // The clock resumes where the last committed write left it.
            let clock = try db.metaDouble("clock") ?? wall
            try db.setMeta("clock", String(clock))
            return clock
        }
        anchorMarket = market
        // Workers start arriving from the marketplace's first moment.
        try store.db.write { db in _ = try self.nextArrival(db, now: market) }
    }

    // MARK: the clock

    /// Marketplace time, seconds since 1970.
    public func now() -> Double {
        lock.lock(); defer { lock.unlock() }
        return anchorMarket + (Date().timeIntervalSince1970 - anchorWall) * options.clockSpeed
    }

    /// Answers the next `n` requests with `ThrottlingException`.
    public func throttleRemaining(_ n: Int) { lock.lock(); throttled = n; lock.unlock() }

    /// Moves the marketplace clock forward by `seconds` (tests, and `--clock-speed 0` runs).
    public func advance(seconds: Double) throws {
        lock.lock()
        anchorMarket += seconds
        lock.unlock()
        try tick()
    }

    // MARK: the wire

    /// Runs one operation: the JSON request body in, the JSON response body out, or the service's error.
    public func handle(operation: String, body: [UInt8]) throws(TurkError) -> [UInt8] {
        lock.lock()
        let throttle = throttled > 0
        if throttle { throttled -= 1 }
        lock.unlock()
        if throttle { throw TurkError(type: "ThrottlingException", message: "Rate exceeded") }
        guard let run = Self.operations[operation] else {
            throw TurkError(type: "UnknownOperationException", message: "Unknown operation \(operation)")
        }
        do {
            return try run(self, body.isEmpty ? Array("{}".utf8) : body)
        } catch let e as TurkError {
            throw e
        } catch let e as DecodingError {
            throw Self.validationError(e)
        } catch {
            throw TurkError(type: "ServiceFault", message: "\(error)", status: 500)
        }
    }

    /// One operation, in process, exactly as the server would answer it.
    public func send<Op: TurkOperation>(_ operation: Op) async throws -> Op.Response {
        // In process there is no server ticking the clock: catch up before each call.
        if options.clockSpeed > 0 { try tick() }
        let body = try JSONEncoder().encode(operation)
        let out = try handle(operation: Op.name, body: Array(body))
        return try JSONDecoder().decode(Op.Response.self, from: Data(out))
    }

    /// The marketplace serves the images it stores (`GET /images/NAME`).
    public var hostsImages: Bool { true }

    public func putImage(name: String, png: Data, truthCSV: String?) async throws -> String {
        try storeImage(name: name, png: png, truthCSV: truthCSV)
        return "/images/\(name)"
    }

    static func validationError(_ e: DecodingError) -> TurkError {
        func path(_ c: [CodingKey]) -> String { c.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return .request("1 validation error detected: Value null at '\(p)' failed to satisfy constraint: Member must not be null")
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return TurkError(type: "SerializationException", message: "Unexpected value type at '\(path(ctx.codingPath))'")
        case .dataCorrupted(let ctx):
            return TurkError(type: "SerializationException", message: ctx.codingPath.isEmpty ? "The request body is not valid JSON" : "Invalid value at '\(path(ctx.codingPath))'")
        @unknown default:
            return TurkError(type: "SerializationException", message: "\(e)")
        }
    }

    typealias Runner = @Sendable (LocalMarketplace, [UInt8]) throws -> [UInt8]

    /// Operations that only read run beside the writer; the rest are one committed transaction
    /// each. Neither advances the simulation: the clock's ticks do (`tick`), so a request never
    /// waits for simulated workers.
    static let readOnly: Set<String> = [GetAccountBalance.name, GetHIT.name, ListHITs.name, ListReviewableHITs.name,
                                        ListAssignmentsForHIT.name, GetAssignment.name, ListBonusPayments.name,
                                        GetQualificationType.name, ListWorkerBlocks.name]

    static func op<Op: TurkOperation & Decodable>(_ type: Op.Type, _ f: @escaping @Sendable (LocalMarketplace, Op, Database, Double) throws -> Op.Response) -> (String, Runner) {
        (Op.name, { market, body in
            let request = try JSONDecoder().decode(Op.self, from: Data(body))
            let response: Op.Response
            if readOnly.contains(Op.name) {
                response = try market.store.db.read { db in try f(market, request, db, market.now()) }
            } else {
                response = try market.store.db.write { db -> Op.Response in
                    let now = market.now()
                    let r = try f(market, request, db, now)
                    try db.setMeta("clock", String(now))
                    return r
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(response))
        })
    }

    static let operations: [String: Runner] = Dictionary(uniqueKeysWithValues: hitOperations + assignmentOperations + moneyOperations + workerOperations)

    // MARK: images

    /// Keeps a PNG (and its truth) for workers to load from `/images/NAME`.
    public func storeImage(name: String, png: Data, truthCSV: String?) throws {
        guard isValidImageName(name) else { throw TurkError.request("Image name \"\(name)\" must be letters, digits, '.', '_' or '-'") }
        do { _ = try PNG.decode(png, name: name) } catch { throw TurkError.request("\(name): \(error)") }
        if let truthCSV {
            do { _ = try parseTruthCSV(text: truthCSV, name: name + ".truth.csv", height: 1) } catch { throw TurkError.request("\(error)") }
        }
        try store.db.write { db in
            try db.execute(sql: "INSERT INTO images (name, png, truth) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET png = excluded.png, truth = COALESCE(excluded.truth, truth)",
                           arguments: [name, png, truthCSV])
        }
        lock.lock(); tasks[name] = nil; lock.unlock()
    }

    /// Keeps the truth of a stored image (`col,row[,snr]`), which simulated workers annotate.
    public func storeTruth(name: String, truthCSV: String) throws {
        let base = String(name.dropLast(".truth.csv".count))
        do { _ = try parseTruthCSV(text: truthCSV, name: name, height: 1) } catch { throw TurkError.request("\(error)") }
        let updated = try store.db.write { db -> Int in
            try db.execute(sql: "UPDATE images SET truth = ? WHERE name = ?", arguments: [truthCSV, base])
            return db.changesCount
        }
        guard updated == 1 else { throw TurkError.request("Upload the image \(base) before its truth", code: "AWS.MechanicalTurk.ImageDoesNotExist") }
        lock.lock(); tasks[base] = nil; lock.unlock()
    }

    /// A stored image, or nil.
    public func image(name: String) throws -> Data? {
        try store.db.read { db in try Data.fetchOne(db, sql: "SELECT png FROM images WHERE name = ?", arguments: [name]) }
    }

    /// A stored image's truth, or nil.
    public func truth(name: String) throws -> String? {
        try store.db.read { db in try String.fetchOne(db, sql: "SELECT truth FROM images WHERE name = ?", arguments: [name]) }
    }

    /// What a worker sees in an image: the truth's objects when uploaded, else the spots a blob
    /// detector finds in the pixels; how visible each is, on the population's measure.
    func task(_ db: Database, image name: String) throws -> ImageTask? {
        lock.lock()
        if let cached = tasks[name] { lock.unlock(); return cached }
        lock.unlock()
        var built: ImageTask? = nil
        if let row = try Row.fetchOne(db, sql: "SELECT png, truth FROM images WHERE name = ?", arguments: [name]),
           let picture = try? PNG.decode(row["png"] as Data, name: name) {
            let h = Double(picture.height)
            var xs: [Double] = [], ys: [Double] = [], dx: [Double] = [], dy: [Double] = []
            var snr: [Double]? = nil
            if let truth = row["truth"] as String?, let t = try? parseTruthCSV(text: truth, name: name, height: h) {
                xs = t.xs; ys = t.ys; dx = t.distractorXs; dy = t.distractorYs; snr = t.snr
            } else {
                for s in SpotDetector.detect(picture) { xs.append(s.col); ys.append(h - s.row) }
            }
            // On the scale the population's detection is fitted on, as `crowdlab run` does: the
            // truth's nominal SNR for an SNR-graded population, else contrast measured in the image.
            let vis = options.population.measure == .snr && snr?.count == xs.count ? snr! : Visibility.contrast(image: picture, xs: xs, ys: ys)
            built = ImageTask(name: name, width: picture.width, height: picture.height, xs: xs, ys: ys, visibility: vis,
                              distractorXs: dx, distractorYs: dy).asShown(to: options.population)
        }
        lock.lock(); tasks[name] = built; lock.unlock()
        return built
    }

    // MARK: people at the work page

    /// A person (not a simulated worker) accepts a HIT through the local work page.
    public func acceptForPerson(hitId: String, workerId: String) throws -> String {
        try store.db.write { db in
            let now = self.now()
            let hit = try self.hitView(db, id: hitId, now: now)
            guard hit.HITStatus == .Assignable else { throw TurkError.request("HIT \(hitId) is not available (\(hit.HITStatus.rawValue))") }
            if let existing = try String.fetchOne(db, sql: "SELECT id FROM assignments WHERE hit_id = ? AND worker_id = ? AND state = \(AssignmentState.accepted.sql)", arguments: [hitId, workerId]) {
                return existing
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE hit_id = ? AND worker_id = ?", arguments: [hitId, workerId]) == 0 else {
                throw TurkError.request("Worker \(workerId) has already done HIT \(hitId)")
            }
            let id = try self.newID(db, "assignment")
            try db.execute(sql: "INSERT INTO assignments (id, hit_id, worker_id, state, accept, deadline) VALUES (?, ?, ?, \(AssignmentState.accepted.sql), ?, ?)",
                           arguments: [id, hitId, workerId, now, now + Double(hit.AssignmentDurationInSeconds)])
            try db.execute(sql: "UPDATE hits SET taken = taken + 1 WHERE id = ?", arguments: [hitId])
            try db.setMeta("clock", String(now))
            return id
        }
    }

    /// The work page's form arrives (`externalSubmit`): the answer is recorded as the service records it.
    public func submitFromForm(assignmentId: String, fields: [(String, String)]) throws {
        try store.db.write { db in
            let now = self.now()
            guard let row = try Row.fetchOne(db, sql: "SELECT a.state, a.deadline, h.json FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.id = ?", arguments: [assignmentId]),
                  AssignmentState(rawValue: row["state"]) == .accepted else {
                throw TurkError.request("Assignment \(assignmentId) is not open for submission")
            }
            guard now <= (row["deadline"] as Double) else { throw TurkError.request("Assignment \(assignmentId) has passed its deadline") }
            let hit = try JSONDecoder().decode(HIT.self, from: row["json"] as Data)
            let answer = AnswerFormat.questionFormAnswers(fields.filter { $0.0 != "assignmentId" })
            try db.execute(sql: "UPDATE assignments SET state = \(AssignmentState.submitted.sql), submit = ?, auto_approve = ?, answer = ? WHERE id = ?",
                           arguments: [now, now + Double(hit.AutoApprovalDelayInSeconds), answer, assignmentId])
            try db.setMeta("clock", String(now))
        }
    }

    /// The stored question of a HIT (for the work page).
    public func question(hitId: String) throws -> String? {
        try store.db.read { db in
            guard let json = try Data.fetchOne(db, sql: "SELECT json FROM hits WHERE id = ?", arguments: [hitId]) else { return nil }
            return try JSONDecoder().decode(HIT.self, from: json).Question
        }
    }

    /// Advances the simulation to the current clock (the server calls this 20 times a second).
    public func tick() throws {
        var more = true
        while more {
            // In slices, so requests get the writer between them.
            more = try store.db.write { db in
                let now = self.now()
                let finished = try self.catchUp(db, now: now, limit: 2000)
                try db.setMeta("clock", String(now))
                return !finished
            }
        }
    }

    // MARK: paging

    static func page<T>(_ all: [T], token: String?, max: Int?) throws -> ([T], String?) {
        let size = max ?? 10
        guard (1...100).contains(size) else { throw TurkError.request("MaxResults must be between 1 and 100, not \(size)") }
        var start = 0
        if let token {
            guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), s.hasPrefix("offset:"),
                  let v = Int(s.dropFirst(7)), v >= 0 else { throw TurkError.request("NextToken \(token) is not valid") }
            start = v
        }
        let end = min(all.count, start + size)
        let page = start < all.count ? Array(all[start..<end]) : []
        let next = end < all.count ? Data("offset:\(end)".utf8).base64EncodedString() : nil
        return (page, next)
    }
}

private func page<T>(_ all: [T], token: String?, max: Int?) throws -> ([T], String?) {
    try LocalMarketplace.page(all, token: token, max: max)
}
