import Consensus
import Crowd
import Crypto
import Foundation
import GRDB
import Imaging
import Randomness

// HIT types and HITs: create, read, list, review status, expiry, delete.

extension LocalMarketplace {
    static let hitOperations: [(String, Runner)] = [
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
            let unreviewed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE hit_id = ? AND state = \(AssignmentState.submitted.sql)", arguments: [r.HITId]) ?? 0
            guard hit.HITStatus == .Reviewable || hit.HITStatus == .Reviewing || (hit.HITStatus == .Assignable && hit.Expiration <= now), unreviewed == 0 else {
                throw TurkError.request("This HIT is currently in the state '\(hit.HITStatus.rawValue)'. This operation can be called with a status of: Reviewing, Reviewable, with all submitted assignments approved or rejected.",
                                        code: "AWS.MechanicalTurk.InvalidHITState")
            }
            try db.execute(sql: "UPDATE hits SET disposed = 1 WHERE id = ?", arguments: [r.HITId])
            return Empty()
        },
    ]

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
            SELECT SUM(state = \(AssignmentState.accepted.sql)) AS pending, SUM(state = \(AssignmentState.submitted.sql)) AS submitted,
                   SUM(state IN (\(AssignmentState.approved.sql), \(AssignmentState.rejected.sql))) AS completed, COUNT(*) AS taken
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
}
