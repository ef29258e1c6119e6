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

    public func send<Op: TurkOperation>(_ operation: Op) async throws -> Op.Response {
        // In process there is no server ticking the clock: catch up before each call.
        if options.clockSpeed > 0 { try tick() }
        let body = try JSONEncoder().encode(operation)
        let out = try handle(operation: Op.name, body: Array(body))
        return try JSONDecoder().decode(Op.Response.self, from: Data(out))
    }

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

    static let operations: [String: Runner] = Dictionary(uniqueKeysWithValues: [
        op(GetAccountBalance.self) { m, _, db, now in
            let balance = try db.metaInt("balance_cents") ?? 0
            let held = try m.heldCents(db, now: now)
            return .init(AvailableBalance: Money.string(cents: balance - held), OnHoldBalance: Money.string(cents: held))
        },
        op(CreateHITType.self) { m, r, db, _ in .init(HITTypeId: try m.hitType(db, r)) },
        op(CreateHIT.self) { m, r, db, now in
            let type = try m.hitType(db, CreateHITType(reward: r.Reward, title: r.Title, description: r.Description,
                                                      assignmentDurationInSeconds: r.AssignmentDurationInSeconds,
                                                      autoApprovalDelayInSeconds: r.AutoApprovalDelayInSeconds, keywords: r.Keywords,
                                                      qualificationRequirements: r.QualificationRequirements))
            return .init(HIT: try m.createHIT(db, now: now, request: CreateHITWithHITType(
                hitTypeId: type, maxAssignments: r.MaxAssignments ?? 1, lifetimeInSeconds: r.LifetimeInSeconds, question: r.Question ?? "",
                requesterAnnotation: r.RequesterAnnotation, uniqueRequestToken: r.UniqueRequestToken)))
        },
        op(CreateHITWithHITType.self) { m, r, db, now in .init(HIT: try m.createHIT(db, now: now, request: r)) },
        op(GetHIT.self) { m, r, db, now in .init(HIT: try m.hitView(db, id: r.HITId, now: now)) },
        op(ListHITs.self) { m, r, db, now in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM hits WHERE disposed = 0 ORDER BY seq")
            let (page, next) = try page(ids, token: r.NextToken, max: r.MaxResults)
            let hits = try page.map { try m.hitView(db, id: $0, now: now) }
            return .init(NextToken: next, NumResults: hits.count, HITs: hits)
        },
        op(ListReviewableHITs.self) { m, r, db, now in
            let wanted = r.Status ?? "Reviewable"
            guard wanted == "Reviewable" || wanted == "Reviewing" else {
                throw TurkError.request("Status must be Reviewable or Reviewing, not \(wanted)")
            }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM hits WHERE disposed = 0 AND (? IS NULL OR type_id = ?) ORDER BY seq",
                                          arguments: [r.HITTypeId, r.HITTypeId])
            let matching = try ids.map { try m.hitView(db, id: $0, now: now) }.filter { $0.HITStatus.rawValue == wanted }
            let (hits, next) = try page(matching, token: r.NextToken, max: r.MaxResults)
            return .init(NextToken: next, NumResults: hits.count, HITs: hits)
        },
        op(UpdateHITReviewStatus.self) { m, r, db, now in
            let hit = try m.hitView(db, id: r.HITId, now: now)
            let revert = r.Revert ?? false
            let from: HITStatus = revert ? .Reviewing : .Reviewable
            guard hit.HITStatus == from else {
                throw TurkError.request("This operation can be called with a status of: \(from.rawValue) (\(r.HITId) is \(hit.HITStatus.rawValue))",
                                        code: "AWS.MechanicalTurk.InvalidHITState")
            }
            try db.execute(sql: "UPDATE hits SET reviewing = ? WHERE id = ?", arguments: [revert ? 0 : 1, r.HITId])
            return Empty()
        },
        op(UpdateExpirationForHIT.self) { m, r, db, now in
            let hit = try m.hitView(db, id: r.HITId, now: now)
            guard hit.HITStatus != .Disposed else { throw TurkError.request("Hit \(r.HITId) has been deleted.", code: "AWS.MechanicalTurk.InvalidHITState") }
            try db.execute(sql: "UPDATE hits SET expiration = ? WHERE id = ?", arguments: [max(r.ExpireAt, r.ExpireAt <= now ? now : r.ExpireAt), r.HITId])
            return Empty()
        },
        op(DeleteHIT.self) { m, r, db, now in
            let hit = try m.hitView(db, id: r.HITId, now: now)
            let unreviewed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE hit_id = ? AND state = 'Submitted'", arguments: [r.HITId]) ?? 0
            guard hit.HITStatus == .Reviewable || hit.HITStatus == .Reviewing || (hit.HITStatus == .Assignable && hit.Expiration <= now), unreviewed == 0 else {
                throw TurkError.request("This HIT is currently in the state '\(hit.HITStatus.rawValue)'. This operation can be called with a status of: Reviewing, Reviewable, with all submitted assignments approved or rejected.",
                                        code: "AWS.MechanicalTurk.InvalidHITState")
            }
            try db.execute(sql: "UPDATE hits SET disposed = 1 WHERE id = ?", arguments: [r.HITId])
            return Empty()
        },
        op(CreateAdditionalAssignmentsForHIT.self) { m, r, db, now in
            if let token = r.UniqueRequestToken,
               try String.fetchOne(db, sql: "SELECT result FROM request_tokens WHERE token = ?", arguments: ["extend:" + token]) != nil {
                return Empty()   // a retry of a request already done
            }
            let hit = try m.hitView(db, id: r.HITId, now: now)
            guard r.NumberOfAdditionalAssignments >= 1 else { throw TurkError.request("NumberOfAdditionalAssignments must be at least 1") }
            guard hit.HITStatus != .Disposed else { throw TurkError.request("Hit \(r.HITId) has been deleted.", code: "AWS.MechanicalTurk.InvalidHITState") }
            let total = hit.MaxAssignments + r.NumberOfAdditionalAssignments
            if hit.MaxAssignments < 10 && total >= 10 {
                throw TurkError.request("HITs created with fewer than 10 assignments cannot be extended to have 10 or more assignments.",
                                        code: "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease")
            }
            let reward = Money.cents(hit.Reward) ?? 0
            let cost = r.NumberOfAdditionalAssignments * (reward + TurkFees.feeCents(rewardCents: reward, assignmentsPerHIT: total))
            try m.requireFunds(db, cents: cost, now: now)
            try db.execute(sql: "UPDATE hits SET max_assignments = ? WHERE id = ?", arguments: [total, r.HITId])
            if let token = r.UniqueRequestToken {
                try db.execute(sql: "INSERT INTO request_tokens (token, operation, result) VALUES (?, ?, ?)",
                               arguments: ["extend:" + token, CreateAdditionalAssignmentsForHIT.name, r.HITId])
            }
            return Empty()
        },
        op(ListAssignmentsForHIT.self) { m, r, db, now in
            _ = try m.hitView(db, id: r.HITId, now: now)
            let statuses = Set((r.AssignmentStatuses ?? AssignmentStatus.allCases).map(\.rawValue))
            let ids = try String.fetchAll(db, sql: "SELECT id FROM assignments WHERE hit_id = ? AND state != 'Accepted' ORDER BY seq", arguments: [r.HITId])
            let all = try ids.map { try m.assignmentView(db, id: $0) }.filter { statuses.contains($0.AssignmentStatus.rawValue) }
            let (page, next) = try page(all, token: r.NextToken, max: r.MaxResults)
            return .init(NextToken: next, NumResults: page.count, Assignments: page)
        },
        op(GetAssignment.self) { m, r, db, now in
            let a = try m.assignmentView(db, id: r.AssignmentId)
            return .init(Assignment: a, HIT: try m.hitView(db, id: a.HITId, now: now))
        },
        op(ApproveAssignment.self) { m, r, db, now in
            let a = try m.assignmentView(db, id: r.AssignmentId)
            let overriding = a.AssignmentStatus == .Rejected && (r.OverrideRejection ?? false)
            guard a.AssignmentStatus == .Submitted || overriding else {
                throw TurkError.request("This operation can be called with a status of: Submitted (assignment \(a.AssignmentId) is \(a.AssignmentStatus.rawValue))",
                                        code: "AWS.MechanicalTurk.InvalidAssignmentState")
            }
            try m.approve(db, assignment: r.AssignmentId, at: now, feedback: r.RequesterFeedback)
            return Empty()
        },
        op(RejectAssignment.self) { m, r, db, _ in
            let a = try m.assignmentView(db, id: r.AssignmentId)
            guard a.AssignmentStatus == .Submitted else {
                throw TurkError.request("This operation can be called with a status of: Submitted (assignment \(a.AssignmentId) is \(a.AssignmentStatus.rawValue))",
                                        code: "AWS.MechanicalTurk.InvalidAssignmentState")
            }
            try db.execute(sql: "UPDATE assignments SET state = 'Rejected', rejection = ?, feedback = ? WHERE id = ?",
                           arguments: [m.now(), r.RequesterFeedback, r.AssignmentId])
            return Empty()
        },
        op(SendBonus.self) { m, r, db, now in
            if let token = r.UniqueRequestToken,
               try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bonuses WHERE token = ?", arguments: [token]) ?? 0 > 0 {
                return Empty()   // idempotent: the bonus with this token was paid once already
            }
            guard let cents = Money.cents(r.BonusAmount), cents > 0 else {
                throw TurkError.request("BonusAmount must be a positive amount in dollars such as \"0.50\", not \"\(r.BonusAmount)\"")
            }
            let a = try m.assignmentView(db, id: r.AssignmentId)
            guard a.WorkerId == r.WorkerId else {
                throw TurkError.request("Assignment \(r.AssignmentId) was not done by worker \(r.WorkerId).", code: "AWS.MechanicalTurk.InvalidParameterValue")
            }
            let total = cents + TurkFees.bonusFeeCents(cents)
            try m.requireFunds(db, cents: total, now: now)
            try db.execute(sql: "INSERT INTO bonuses (token, worker_id, assignment_id, hit_id, amount_cents, reason, grant_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [r.UniqueRequestToken, r.WorkerId, r.AssignmentId, a.HITId, cents, r.Reason, now])
            try db.setMeta("balance_cents", String((try db.metaInt("balance_cents") ?? 0) - total))
            return Empty()
        },
        op(ListBonusPayments.self) { m, r, db, _ in
            guard (r.HITId == nil) != (r.AssignmentId == nil) else {
                throw TurkError.request("Either HITId or AssignmentId (and not both) must be given.")
            }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM bonuses WHERE hit_id = ? OR assignment_id = ? ORDER BY seq",
                                        arguments: [r.HITId ?? "", r.AssignmentId ?? ""])
            let all = rows.map { BonusPayment(WorkerId: $0["worker_id"], BonusAmount: Money.string(cents: $0["amount_cents"]),
                                              AssignmentId: $0["assignment_id"], Reason: $0["reason"], GrantTime: $0["grant_time"]) }
            let (page, next) = try page(all, token: r.NextToken, max: r.MaxResults)
            return .init(NumResults: page.count, NextToken: next, BonusPayments: page)
        },
        op(CreateQualificationType.self) { m, r, db, now in
            guard r.QualificationTypeStatus == "Active" || r.QualificationTypeStatus == "Inactive" else {
                throw TurkError.request("QualificationTypeStatus must be Active or Inactive")
            }
            for json in try Data.fetchAll(db, sql: "SELECT json FROM qual_types") {
                if let q = try? JSONDecoder().decode(QualificationType.self, from: json), q.Name == r.Name {
                    throw TurkError.request("You have already created a QualificationType with this name. A QualificationType's name must be unique among all of the QualificationTypes created by the same user.",
                                            code: "AWS.MechanicalTurk.QualificationTypeAlreadyExists")
                }
            }
            let q = QualificationType(QualificationTypeId: try m.newID(db, "qual"), CreationTime: now, Name: r.Name, Description: r.Description,
                                      Keywords: r.Keywords, QualificationTypeStatus: r.QualificationTypeStatus, Test: r.Test,
                                      TestDurationInSeconds: r.TestDurationInSeconds, AnswerKey: r.AnswerKey,
                                      RetryDelayInSeconds: r.RetryDelayInSeconds, IsRequestable: r.Test != nil || (r.AutoGranted ?? false),
                                      AutoGranted: r.AutoGranted ?? false, AutoGrantedValue: r.AutoGranted == true ? (r.AutoGrantedValue ?? 1) : nil)
            try db.execute(sql: "INSERT INTO qual_types (id, json) VALUES (?, ?)", arguments: [q.QualificationTypeId, try JSONEncoder().encode(q)])
            return .init(QualificationType: q)
        },
        op(GetQualificationType.self) { m, r, db, _ in .init(QualificationType: try m.qualificationType(db, r.QualificationTypeId)) },
        op(AssociateQualificationWithWorker.self) { m, r, db, _ in
            _ = try m.qualificationType(db, r.QualificationTypeId)
            try db.execute(sql: "INSERT INTO qual_scores (type_id, worker_id, value) VALUES (?, ?, ?) ON CONFLICT(type_id, worker_id) DO UPDATE SET value = excluded.value",
                           arguments: [r.QualificationTypeId, r.WorkerId, r.IntegerValue ?? 1])
            return Empty()
        },
        op(CreateWorkerBlock.self) { _, r, db, _ in
            try db.execute(sql: "INSERT INTO blocks (worker_id, reason) VALUES (?, ?) ON CONFLICT(worker_id) DO UPDATE SET reason = excluded.reason",
                           arguments: [r.WorkerId, r.Reason])
            return Empty()
        },
        op(ListWorkerBlocks.self) { _, r, db, _ in
            let all = try Row.fetchAll(db, sql: "SELECT worker_id, reason FROM blocks ORDER BY seq").map { WorkerBlock(WorkerId: $0["worker_id"], Reason: $0["reason"]) }
            let (page, next) = try page(all, token: r.NextToken, max: r.MaxResults)
            return .init(NextToken: next, NumResults: page.count, WorkerBlocks: page)
        },
        op(DeleteWorkerBlock.self) { _, r, db, _ in
            try db.execute(sql: "DELETE FROM blocks WHERE worker_id = ?", arguments: [r.WorkerId])
            return Empty()
        },
        op(NotifyWorkers.self) { _, r, db, now in
            guard (1...100).contains(r.WorkerIds.count) else { throw TurkError.request("WorkerIds must hold 1 to 100 workers") }
            var failures: [NotifyWorkersFailureStatus] = []
            for w in r.WorkerIds {
                let known = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE worker_id = ?", arguments: [w]) ?? 0
                if known == 0 {
                    failures.append(.init(NotifyWorkersFailureCode: "HardFailure",
                                          NotifyWorkersFailureMessage: "Worker \(w) has not worked on any of your HITs.", WorkerId: w))
                } else {
                    try db.execute(sql: "INSERT INTO notifications (worker_id, subject, text, time) VALUES (?, ?, ?, ?)",
                                   arguments: [w, r.Subject, r.MessageText, now])
                }
            }
            return .init(NotifyWorkersFailureStatuses: failures)
        },
    ])

    // MARK: entities

    /// Ids look like the service's (30 upper-case letters and digits) and follow from the seed and a counter.
    func newID(_ db: Database, _ kind: String) throws -> String {
        let n = (try db.metaInt("id_counter") ?? 0) + 1
        try db.setMeta("id_counter", String(n))
        return Self.id(seed: options.seed, kind: kind, n: n)
    }

    static func id(seed: UInt64, kind: String, n: Int) -> String {
        let digest = Array(SHA256.hash(data: Array("\(seed)/\(kind)/\(n)".utf8)))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        return String(decoding: (0..<30).map { alphabet[Int(digest[$0]) % 36] }, as: UTF8.self)
    }

    /// Registers (or finds) a HIT type: like the service, the same properties give the same id.
    func hitType(_ db: Database, _ r: CreateHITType) throws -> String {
        guard let cents = Money.cents(r.Reward) else {
            throw TurkError.request("Reward must be an amount in dollars such as \"0.05\", not \"\(r.Reward)\"", code: "AWS.MechanicalTurk.InvalidParameterValue")
        }
        guard (30...31_536_000).contains(r.AssignmentDurationInSeconds) else {
            throw TurkError.request("AssignmentDurationInSeconds must be between 30 and 31536000, not \(r.AssignmentDurationInSeconds)")
        }
        if let d = r.AutoApprovalDelayInSeconds, !(0...2_592_000).contains(d) {
            throw TurkError.request("AutoApprovalDelayInSeconds must be between 0 and 2592000, not \(d)")
        }
        var canonical = r
        canonical.Reward = Money.string(cents: cents)
        canonical.AutoApprovalDelayInSeconds = r.AutoApprovalDelayInSeconds ?? 2_592_000
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(canonical)
        let digest = Array(SHA256.hash(data: json + Array("\(options.seed)".utf8)))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        let id = String(decoding: (0..<30).map { alphabet[Int(digest[$0]) % 36] }, as: UTF8.self)
        try db.execute(sql: "INSERT OR IGNORE INTO hit_types (id, json) VALUES (?, ?)", arguments: [id, json])
        return id
    }

    func createHIT(_ db: Database, now: Double, request r: CreateHITWithHITType) throws -> HIT {
        if let token = r.UniqueRequestToken,
           let existing = try String.fetchOne(db, sql: "SELECT result FROM request_tokens WHERE token = ?", arguments: ["hit:" + token]) {
            throw TurkError.request("The HIT with ID \(existing) already exists. Your request was not processed again: its UniqueRequestToken has been used before.",
                                    code: "AWS.MechanicalTurk.HitAlreadyExists")
        }
        guard let typeJSON = try Data.fetchOne(db, sql: "SELECT json FROM hit_types WHERE id = ?", arguments: [r.HITTypeId]) else {
            throw TurkError.request("Hit type \(r.HITTypeId) does not exist.", code: "AWS.MechanicalTurk.HITTypeDoesNotExist")
        }
        let type = try JSONDecoder().decode(CreateHITType.self, from: typeJSON)
        let maxAssignments = r.MaxAssignments ?? 1
        guard (1...1_000_000).contains(maxAssignments) else { throw TurkError.request("MaxAssignments must be between 1 and 1000000") }
        guard (30...31_536_000).contains(r.LifetimeInSeconds) else {
            throw TurkError.request("LifetimeInSeconds must be between 30 and 31536000, not \(r.LifetimeInSeconds)")
        }
        let question = r.Question ?? ""
        guard question.contains("<HTMLQuestion") || question.contains("<ExternalQuestion") || question.contains("<QuestionForm") else {
            throw TurkError.request("The question you supplied is not valid: expected an HTMLQuestion, ExternalQuestion or QuestionForm document.",
                                    code: "AWS.MechanicalTurk.XMLParseError")
        }
        let reward = Money.cents(type.Reward) ?? 0
        let cost = maxAssignments * (reward + TurkFees.feeCents(rewardCents: reward, assignmentsPerHIT: maxAssignments))
        try requireFunds(db, cents: cost, now: now)
        let id = try newID(db, "hit")
        let hit = HIT(HITId: id, HITTypeId: r.HITTypeId, HITGroupId: r.HITTypeId, HITLayoutId: nil, CreationTime: now, Title: type.Title,
                      Description: type.Description, Question: question, Keywords: type.Keywords, HITStatus: .Assignable,
                      MaxAssignments: maxAssignments, Reward: type.Reward, AutoApprovalDelayInSeconds: type.AutoApprovalDelayInSeconds ?? 2_592_000,
                      Expiration: now + Double(r.LifetimeInSeconds), AssignmentDurationInSeconds: type.AssignmentDurationInSeconds,
                      RequesterAnnotation: r.RequesterAnnotation, QualificationRequirements: type.QualificationRequirements,
                      HITReviewStatus: .NotReviewed, NumberOfAssignmentsPending: 0, NumberOfAssignmentsAvailable: maxAssignments,
                      NumberOfAssignmentsCompleted: 0)
        try db.execute(sql: """
            INSERT INTO hits (id, type_id, created, expiration, max_assignments, reward_cents, review_status, image, json, cost_cents)
            VALUES (?, ?, ?, ?, ?, ?, 'NotReviewed', ?, ?, ?)
            """, arguments: [id, r.HITTypeId, now, hit.Expiration, maxAssignments, reward, Self.imageName(inQuestion: question),
                             try JSONEncoder().encode(hit), reward + TurkFees.feeCents(rewardCents: reward, assignmentsPerHIT: maxAssignments)])
        if let token = r.UniqueRequestToken {
            try db.execute(sql: "INSERT INTO request_tokens (token, operation, result) VALUES (?, ?, ?)", arguments: ["hit:" + token, "CreateHIT", id])
        }
        let image = Self.imageName(inQuestion: question)
        let stored = try image.map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE name = ?", arguments: [$0]) ?? 0 } ?? 0
        if options.simulatedWorkers && stored == 0 {
            options.warn("HIT \(id): its question shows no image stored on this marketplace (\(image ?? "no /images/NAME.png URL")); simulated workers will not take it")
        }
        return hit
    }

    /// The image a question shows, if it is one of the marketplace's (`.../images/NAME.png`).
    static func imageName(inQuestion q: String) -> String? {
        guard let r = q.range(of: "/images/") else { return nil }
        let name = q[r.upperBound...].prefix { c in c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") }
        return name.hasSuffix(".png") ? String(name) : nil
    }

    func hitRow(_ db: Database, _ id: String) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM hits WHERE id = ?", arguments: [id]) else {
            throw TurkError.request("Hit \(id) does not exist. (\(Int(now() * 1000)))", code: "AWS.MechanicalTurk.HitDoesNotExist")
        }
        return row
    }

    /// A HIT as the service reports it at `now`: counts and status follow from its assignments.
    func hitView(_ db: Database, id: String, now: Double) throws -> HIT {
        let row = try hitRow(db, id)
        var hit = try JSONDecoder().decode(HIT.self, from: row["json"] as Data)
        let counts = try Row.fetchOne(db, sql: """
            SELECT SUM(state = 'Accepted') AS pending, SUM(state = 'Submitted') AS submitted,
                   SUM(state IN ('Approved', 'Rejected')) AS completed, COUNT(*) AS taken
            FROM assignments WHERE hit_id = ?
            """, arguments: [id])
        let pending: Int = counts?["pending"] ?? 0, completed: Int = counts?["completed"] ?? 0, taken: Int = counts?["taken"] ?? 0
        hit.MaxAssignments = row["max_assignments"]
        hit.Expiration = row["expiration"]
        hit.NumberOfAssignmentsPending = pending
        hit.NumberOfAssignmentsCompleted = completed
        let expired = hit.Expiration <= now
        hit.NumberOfAssignmentsAvailable = expired ? 0 : max(0, hit.MaxAssignments - taken)
        hit.HITReviewStatus = HITReviewStatus(rawValue: row["review_status"]) ?? .NotReviewed
        if (row["disposed"] as Int) != 0 { hit.HITStatus = .Disposed }
        else if (row["reviewing"] as Int) != 0 { hit.HITStatus = .Reviewing }
        else if hit.NumberOfAssignmentsAvailable > 0 { hit.HITStatus = .Assignable }
        else { hit.HITStatus = pending > 0 ? .Unassignable : .Reviewable }
        return hit
    }

    func assignmentView(_ db: Database, id: String) throws -> HITAssignment {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM assignments WHERE id = ? AND state != 'Accepted'", arguments: [id]),
              let status = AssignmentStatus(rawValue: row["state"]) else {
            throw TurkError.request("Assignment \(id) does not exist. (\(Int(now() * 1000)))", code: "AWS.MechanicalTurk.AssignmentDoesNotExist")
        }
        return HITAssignment(AssignmentId: row["id"], WorkerId: row["worker_id"], HITId: row["hit_id"], AssignmentStatus: status,
                             AutoApprovalTime: row["auto_approve"], AcceptTime: row["accept"], SubmitTime: row["submit"],
                             ApprovalTime: row["approval"], RejectionTime: row["rejection"], Deadline: row["deadline"],
                             Answer: row["answer"], RequesterFeedback: row["feedback"])
    }

    func qualificationType(_ db: Database, _ id: String) throws -> QualificationType {
        guard let json = try Data.fetchOne(db, sql: "SELECT json FROM qual_types WHERE id = ?", arguments: [id]) else {
            throw TurkError.request("QualificationType \(id) does not exist.", code: "AWS.MechanicalTurk.QualificationTypeDoesNotExist")
        }
        return try JSONDecoder().decode(QualificationType.self, from: json)
    }

    // MARK: money

    /// Money promised but not yet paid: every assignment in progress or awaiting review, and every
    /// slot still open on a live HIT, at its reward plus fee.
    func heldCents(_ db: Database, now: Double) throws -> Int {
        let slots = try Int.fetchOne(db, sql: """
            SELECT SUM(MAX(0, max_assignments - taken) * cost_cents) FROM hits WHERE disposed = 0 AND expiration > ?
            """, arguments: [now]) ?? 0
        let open = try Int.fetchOne(db, sql: """
            SELECT SUM(h.cost_cents) FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.state IN ('Accepted', 'Submitted')
            """) ?? 0
        return slots + open
    }

    func requireFunds(_ db: Database, cents: Int, now: Double) throws {
        let available = (try db.metaInt("balance_cents") ?? 0) - (try heldCents(db, now: now))
        guard cents <= available else {
            throw TurkError.request("This Requester has insufficient funds in their account to complete this transaction. Please visit https://requester.mturk.com/account to purchase more. (needed \(Money.string(cents: cents)), available \(Money.string(cents: available)))",
                                    code: "AWS.MechanicalTurk.InsufficientFunds")
        }
    }

    /// Approves and pays: the reward and Mechanical Turk's fee leave the balance now.
    func approve(_ db: Database, assignment id: String, at time: Double, feedback: String?) throws {
        guard let cost = try Int.fetchOne(db, sql: "SELECT h.cost_cents FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.id = ?", arguments: [id]) else { return }
        try db.execute(sql: "UPDATE assignments SET state = 'Approved', approval = ?, rejection = NULL, feedback = COALESCE(?, feedback) WHERE id = ?",
                       arguments: [time, feedback, id])
        try db.setMeta("balance_cents", String((try db.metaInt("balance_cents") ?? 0) - cost))
    }

    // MARK: images

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

    public func image(name: String) throws -> Data? {
        try store.db.read { db in try Data.fetchOne(db, sql: "SELECT png FROM images WHERE name = ?", arguments: [name]) }
    }

    public func truth(name: String) throws -> String? {
        try store.db.read { db in try String.fetchOne(db, sql: "SELECT truth FROM images WHERE name = ?", arguments: [name]) }
    }

    /// What a worker sees in an image: the truth's objects when uploaded, else the spots a blob
    /// detector finds in the pixels; how visible each is, measured in the image.
    func task(_ db: Database, image name: String) throws -> ImageTask? {
        lock.lock()
        if let cached = tasks[name] { lock.unlock(); return cached }
        lock.unlock()
        var built: ImageTask? = nil
        if let row = try Row.fetchOne(db, sql: "SELECT png, truth FROM images WHERE name = ?", arguments: [name]),
           let picture = try? PNG.decode(row["png"] as Data, name: name) {
            let h = Double(picture.height)
            var xs: [Double] = [], ys: [Double] = [], dx: [Double] = [], dy: [Double] = []
            if let truth = row["truth"] as String?, let t = try? parseTruthCSV(text: truth, name: name, height: h) {
                xs = t.xs; ys = t.ys; dx = t.distractorXs; dy = t.distractorYs
            } else {
                for s in SpotDetector.detect(picture) { xs.append(s.col); ys.append(h - s.row) }
            }
            let vis = Visibility.contrast(image: picture, xs: xs, ys: ys)
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
            if let existing = try String.fetchOne(db, sql: "SELECT id FROM assignments WHERE hit_id = ? AND worker_id = ? AND state = 'Accepted'", arguments: [hitId, workerId]) {
                return existing
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE hit_id = ? AND worker_id = ?", arguments: [hitId, workerId]) == 0 else {
                throw TurkError.request("Worker \(workerId) has already done HIT \(hitId)")
            }
            let id = try self.newID(db, "assignment")
            try db.execute(sql: "INSERT INTO assignments (id, hit_id, worker_id, state, accept, deadline) VALUES (?, ?, ?, 'Accepted', ?, ?)",
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
                  (row["state"] as String) == "Accepted" else {
                throw TurkError.request("Assignment \(assignmentId) is not open for submission")
            }
            guard now <= (row["deadline"] as Double) else { throw TurkError.request("Assignment \(assignmentId) has passed its deadline") }
            let hit = try JSONDecoder().decode(HIT.self, from: row["json"] as Data)
            let answer = AnswerFormat.questionFormAnswers(fields.filter { $0.0 != "assignmentId" })
            try db.execute(sql: "UPDATE assignments SET state = 'Submitted', submit = ?, auto_approve = ?, answer = ? WHERE id = ?",
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
