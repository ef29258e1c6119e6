import Consensus
import Crowd
import Crypto
import Foundation
import GRDB
import Imaging
import Randomness

// Workers: qualification types and scores, blocks, notifications.

extension LocalMarketplace {
    static let workerOperations: [(String, Runner)] = [
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
        op(ListQualificationTypes.self) { _, r, db, _ in
            let all = try Data.fetchAll(db, sql: "SELECT json FROM qual_types ORDER BY rowid").compactMap { try? JSONDecoder().decode(QualificationType.self, from: $0) }
                .filter { q in
                    guard let query = r.Query?.lowercased(), !query.isEmpty else { return true }
                    return q.Name.lowercased().contains(query) || q.Description.lowercased().contains(query)
                }
                .filter { !r.MustBeRequestable || ($0.IsRequestable ?? false) }
            let (page, next) = try page(all, token: r.NextToken, max: r.MaxResults)
            return .init(NumResults: page.count, NextToken: next, QualificationTypes: page)
        },
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
    ]

    func qualificationType(_ db: Database, _ id: String) throws -> QualificationType {
        guard let json = try Data.fetchOne(db, sql: "SELECT json FROM qual_types WHERE id = ?", arguments: [id]) else {
            throw TurkError.request("QualificationType \(id) does not exist.", code: "AWS.MechanicalTurk.QualificationTypeDoesNotExist")
        }
        return try JSONDecoder().decode(QualificationType.self, from: json)
    }
}
