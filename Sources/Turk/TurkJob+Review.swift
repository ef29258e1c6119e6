import Consensus
import Foundation

// Review: approving and rejecting by score, and recording each worker's score as a qualification.
extension TurkJob {
    /// The requester's score qualification type, if an earlier review made it.
    public static func scoreQualification(_ client: any TurkBackend) async throws -> String? {
        let found = try await client.send(ListQualificationTypes(query: scoreQualificationName, mustBeOwnedByCaller: true, maxResults: 100))
        return found.QualificationTypes?.first { $0.Name == scoreQualificationName }?.QualificationTypeId
    }

    /// A worker's score on the job as a qualification value: the Quanti.us score (1 is perfect,
    /// below 0 worse than clicking nothing) as a percentage, clamped to 0-100.
    public static func qualificationValue(score: Double) -> Int { Int((min(1, max(0, score)) * 100).rounded()) }

    /// Records every worker's score on this job in the score qualification type (made once per
    /// requester account, found by name afterwards), so a later job can require it
    /// (`job.require_score`). A worker who did several jobs keeps the latest score. Idempotent.
    public static func recordScores(_ m: inout TurkJobManifest, collected: Collected, client: any TurkBackend, job: String) async throws -> (type: String, workers: Int) {
        var type = try await scoreQualification(client)
        if type == nil {
            let created = try await client.send(CreateQualificationType(name: scoreQualificationName,
                description: "The worker's accuracy on an earlier crowdlab job (0-100: clicks that agree with the consensus, missed objects weighing 0.2)"))
            type = created.QualificationType?.QualificationTypeId
        }
        guard let id = type else { throw TurkError.request("CreateQualificationType returned no id") }
        var recorded = 0
        for w in collected.analysis.workers where w.annotations > 0 || w.images > 0 {
            _ = try await client.send(AssociateQualificationWithWorker(qualificationTypeId: id, workerId: w.worker,
                                                                       integerValue: qualificationValue(score: w.score)))
            recorded += 1
        }
        m.scoreQualificationId = m.scoreQualificationId ?? id
        try m.save(job: job)
        return (id, recorded)
    }

    /// Approves or rejects every submitted assignment by its worker's agreement with the consensus,
    /// and pays the top workers a bonus; resumable (decisions are checked against the service and
    /// the manifest, bonuses carry a UniqueRequestToken).
    public static func review(_ m: inout TurkJobManifest, collected: Collected, client: any TurkBackend, policy: ReviewPolicy, job: String) async throws -> ReviewOutcome {
        var outcome = ReviewOutcome()
        let rows = Dictionary(uniqueKeysWithValues: collected.analysis.workers.map { ($0.worker, $0) })
        let ranked = collected.analysis.workers.filter { $0.annotations > 0 }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.worker < $1.worker }
        let topCount = Int((Double(ranked.count) * policy.bonusTopShare).rounded(.down))
        let top = Set(ranked.prefix(topCount).map(\.worker))
        for (k, record) in collected.export.records.enumerated() {
            let id = collected.assignmentIds[k]
            let worker = record.workerID
            let assignment = try await client.send(GetAssignment(assignmentId: id)).Assignment
            guard let status = assignment?.AssignmentStatus else { continue }
            var approvedNow = status == .Approved
            if status == .Submitted {
                let row = rows[worker]
                let judged = (row?.annotations ?? 0) >= policy.minimumAnnotations
                let poor = judged && (row?.vsConsensus.precision ?? 1) < policy.minimumPrecision
                let empty = record.isEmpty
                if poor || empty {
                    let why = empty ? "No annotations were submitted." :
                        String(format: "Only %.0f%% of your clicks agreed with the other workers' consensus (%.0f%% needed).",
                               100 * (row?.vsConsensus.precision ?? 0), 100 * policy.minimumPrecision)
                    _ = try await client.send(RejectAssignment(assignmentId: id, feedback: why))
                    m.reviewed[id] = "Rejected"; outcome.rejected += 1
                } else {
                    _ = try await client.send(ApproveAssignment(assignmentId: id, feedback: "Thank you."))
                    m.reviewed[id] = "Approved"; outcome.approved += 1; approvedNow = true
                }
                try m.save(job: job)
            } else {
                outcome.alreadyReviewed += 1
            }
            if approvedNow && top.contains(worker) && policy.bonusCents > 0 && m.bonuses[id] == nil {
                let amount = Money.string(cents: policy.bonusCents)
                _ = try await client.send(SendBonus(workerId: worker, bonusAmount: amount, assignmentId: id,
                                                    reason: "Among the most accurate workers on this job.", uniqueRequestToken: "\(m.jobId)-bonus-\(id)"))
                m.bonuses[id] = amount; outcome.bonuses += 1; outcome.bonusCents += policy.bonusCents
                try m.save(job: job)
            }
        }
        // Verify answers: approved when every question was answered, rejected when unreadable.
        if let v = collected.verify {
            let verdicts = v.assignmentIds.map { ($0, true) } + v.unreadableAssignmentIds.map { ($0, false) }
            for (id, readable) in verdicts {
                guard try await client.send(GetAssignment(assignmentId: id)).Assignment?.AssignmentStatus == .Submitted else { outcome.alreadyReviewed += 1; continue }
                if readable {
                    _ = try await client.send(ApproveAssignment(assignmentId: id, feedback: "Thank you."))
                    m.reviewed[id] = "Approved"; outcome.approved += 1
                } else {
                    _ = try await client.send(RejectAssignment(assignmentId: id, feedback: "Not every question was answered yes or no."))
                    m.reviewed[id] = "Rejected"; outcome.rejected += 1
                }
                try m.save(job: job)
            }
        }
        return outcome
    }
}
