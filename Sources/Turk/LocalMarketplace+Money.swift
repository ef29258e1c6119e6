import Consensus
import Crowd
import Crypto
import Foundation
import GRDB
import Imaging
import Randomness

// The account: balance (less what open HITs hold), bonuses.

extension LocalMarketplace {
    static let moneyOperations: [(String, Runner)] = [
        op(GetAccountBalance.self) { m, _, db, now in
            let balance = try db.metaInt("balance_cents") ?? 0
            let held = try m.heldCents(db, now: now)
            return .init(AvailableBalance: Money.string(cents: balance - held), OnHoldBalance: Money.string(cents: held))
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
    ]

    // MARK: money

    /// Money promised but not yet paid: every assignment in progress or awaiting review, and every
    /// slot still open on a live HIT, at its reward plus fee.
    func heldCents(_ db: Database, now: Double) throws -> Int {
        let slots = try Int.fetchOne(db, sql: """
            SELECT SUM(MAX(0, max_assignments - taken) * cost_cents) FROM hits WHERE disposed = 0 AND expiration > ?
            """, arguments: [now]) ?? 0
        let open = try Int.fetchOne(db, sql: """
            SELECT SUM(h.cost_cents) FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.state IN (\(AssignmentState.accepted.sql), \(AssignmentState.submitted.sql))
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
        try db.execute(sql: "UPDATE assignments SET state = \(AssignmentState.approved.sql), approval = ?, rejection = NULL, feedback = COALESCE(?, feedback) WHERE id = ?",
                       arguments: [time, feedback, id])
        try db.setMeta("balance_cents", String((try db.metaInt("balance_cents") ?? 0) - cost))
    }
}
