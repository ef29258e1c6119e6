import Consensus
import Crowd
import Crypto
import Foundation
import GRDB
import Imaging
import Randomness

// Assignments: more of them for a HIT, list, read, approve, reject.

extension LocalMarketplace {
    static let assignmentOperations: [(String, Runner)] = [
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
            let ids = try String.fetchAll(db, sql: "SELECT id FROM assignments WHERE hit_id = ? AND state != \(AssignmentState.accepted.sql) ORDER BY seq", arguments: [r.HITId])
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
            try db.execute(sql: "UPDATE assignments SET state = \(AssignmentState.rejected.sql), rejection = ?, feedback = ? WHERE id = ?",
                           arguments: [m.now(), r.RequesterFeedback, r.AssignmentId])
            return Empty()
        },
    ]

    func assignmentView(_ db: Database, id: String) throws -> HITAssignment {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM assignments WHERE id = ? AND state != \(AssignmentState.accepted.sql)", arguments: [id]),
              let status = AssignmentStatus(rawValue: row["state"]) else {
            throw TurkError.request("Assignment \(id) does not exist. (\(Int(now() * 1000)))", code: "AWS.MechanicalTurk.AssignmentDoesNotExist")
        }
        return HITAssignment(AssignmentId: row["id"], WorkerId: row["worker_id"], HITId: row["hit_id"], AssignmentStatus: status,
                             AutoApprovalTime: row["auto_approve"], AcceptTime: row["accept"], SubmitTime: row["submit"],
                             ApprovalTime: row["approval"], RejectionTime: row["rejection"], Deadline: row["deadline"],
                             Answer: row["answer"], RequesterFeedback: row["feedback"])
    }
}
