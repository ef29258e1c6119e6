import Consensus
import Crowd
import Foundation
import GRDB
import Randomness

/// Simulated workers on the marketplace clock. Workers arrive at the HIT list as a Poisson process
/// whose rate grows with the best reward on offer; who arrives is drawn by Pareto activity (a fifth
/// of the workers do most of the work); a worker takes the best-paid HIT they qualify for and have
/// not done, if the pay is worth the work (the crowd model's acceptance for that image's object
/// count), then keeps taking HITs one after another until the run they chose is done. Each answer
/// is made at acceptance by the crowd model's annotator (so it survives a restart) and becomes
/// visible at its submit time; submitted work is auto-approved after the HIT's delay. A verify
/// stage's HIT (`VerifyQuestion`) is answered yes or no per point, as a simulated run's verifiers
/// answer (`VerifierCrowd`), and weighed as one object's work per point.
extension LocalMarketplace {
    /// What can happen on the simulated marketplace; at equal times, in this order.
    enum Event { case submitted, abandoned, autoApproved, arrival }

    /// Processes the events due by `now`, in time order, inside the caller's transaction: at most
    /// `limit` of them; returns whether none is left.
    @discardableResult
    func catchUp(_ db: Database, now: Double, limit: Int = 100_000) throws -> Bool {
        // The arrival clock is kept here and written once at the end: arrivals are the commonest event.
        var arrivalState = options.simulatedWorkers ? (next: try nextArrival(db, now: now), count: try db.metaInt("arrivals") ?? 0) : nil
        var finished = false
        for _ in 0..<limit {
            var best: (time: Double, kind: Event, id: String)? = nil
            func consider(_ t: Double?, _ kind: Event, _ id: String) {
                guard let t, t <= now else { return }
                if best == nil || t < best!.time { best = (t, kind, id) }
            }
            if let r = try Row.fetchOne(db, sql: "SELECT id, MIN(submit, deadline) AS t FROM assignments WHERE state = \(AssignmentState.accepted.sql) AND submit IS NOT NULL ORDER BY t LIMIT 1") {
                consider(r["t"], .submitted, r["id"])
            }
            if let r = try Row.fetchOne(db, sql: "SELECT id, deadline FROM assignments WHERE state = \(AssignmentState.accepted.sql) AND submit IS NULL ORDER BY deadline LIMIT 1") {
                consider(r["deadline"], .abandoned, r["id"])
            }
            if let r = try Row.fetchOne(db, sql: "SELECT id, auto_approve FROM assignments WHERE state = \(AssignmentState.submitted.sql) ORDER BY auto_approve LIMIT 1") {
                consider(r["auto_approve"], .autoApproved, r["id"])
            }
            if let a = arrivalState { consider(a.next, .arrival, "") }
            guard let e = best else { finished = true; break }
            switch e.kind {
            case .submitted: try finishSimulated(db, assignment: e.id, at: e.time)
            case .abandoned: try abandon(db, assignment: e.id)
            case .autoApproved: try approve(db, assignment: e.id, at: e.time, feedback: nil)
            case .arrival:
                let k = arrivalState!.count
                arrivalState!.count += 1
                arrivalState!.next = e.time + (try arrivalGap(db, k: k + 1))
                try arrive(db, at: e.time, k: k)
            }
        }
        if let a = arrivalState {
            try db.setMeta("next_arrival", String(a.next))
            try db.setMeta("arrivals", String(a.count))
        }
        return finished
    }

    /// Past its deadline unsubmitted: the assignment goes and its slot reopens.
    func abandon(_ db: Database, assignment id: String) throws {
        try db.execute(sql: "UPDATE hits SET taken = taken - 1 WHERE id = (SELECT hit_id FROM assignments WHERE id = ?)", arguments: [id])
        try db.execute(sql: "DELETE FROM assignments WHERE id = ?", arguments: [id])
    }

    /// The time of the next arrival, drawn when first needed.
    func nextArrival(_ db: Database, now: Double) throws -> Double {
        if let t = try db.metaDouble("next_arrival") { return t }
        let t = now + (try arrivalGap(db, k: 0))
        try db.setMeta("next_arrival", String(t))
        return t
    }

    func arrivalGap(_ db: Database, k: Int) throws -> Double {
        let p = options.population
        let bestReward = try Int.fetchOne(db, sql: "SELECT reward_cents FROM hits WHERE disposed = 0 AND reviewing = 0 AND image IS NOT NULL ORDER BY reward_cents DESC, seq LIMIT 1") ?? 0
        let pay = bestReward > 0 ? Double(bestReward) / 100 : p.referencePay
        let rate = p.arrivalsPerSecond(pay: pay)
        let rng = SeededRandom(seed: SeededRandom.derive(options.seed, 0xA77_0000_0000 &+ UInt64(k)))
        return rng.exponential(mean: 1 / rate)
    }

    func arrive(_ db: Database, at t: Double, k: Int) throws {
        // Nothing open: the arrival looks and leaves (the usual case once a batch is taken).
        guard try Int.fetchOne(db, sql: "SELECT 1 FROM hits INDEXED BY hits_open WHERE disposed = 0 AND reviewing = 0 AND image IS NOT NULL AND taken < max_assignments AND created <= ? AND expiration > ? LIMIT 1", arguments: [t, t]) != nil else { return }
        let rng = SeededRandom(seed: SeededRandom.derive(options.seed, 0xA22_0000_0000 &+ UInt64(k)))
        let u = rng.uniform() * (activityCDF.last ?? 0)
        var lo = 0, hi = activityCDF.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if activityCDF[mid] < u { lo = mid + 1 } else { hi = mid } }
        let w = lo
        let worker = pool.workers[w]
        // A worker still busy with a HIT, or blocked, does not start another run.
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE worker_id = ? AND state = \(AssignmentState.accepted.sql)", arguments: [worker.id]) ?? 0 > 0 { return }
        guard let (hit, work) = try bestHIT(db, for: worker.id, at: t) else { return }
        let pay = Double(hit.rewardCents) / 100
        let effort = options.population.effort(objects: Double(work.objects), pay: pay)
        guard rng.uniform() <= effort.acceptance else { return }
        let wanted = max(1, rng.poisson(options.population.budget(activity: worker.activity, imagesShare: effort.images)))
        try db.execute(sql: "INSERT INTO sim_workers (worker_id, remaining) VALUES (?, ?) ON CONFLICT(worker_id) DO UPDATE SET remaining = excluded.remaining",
                       arguments: [worker.id, wanted])
        try acceptSimulated(db, worker: w, hit: hit, work: work, at: t)
    }

    /// What a HIT asks of a simulated worker: to annotate an image, or to judge a verify stage's
    /// points (each with the image it lies in, when the marketplace holds it).
    enum SimulatedWork {
        case annotate(ImageTask)
        case verify([(VerifyQuestion.Item, ImageTask?)])

        /// The work as objects to deal with, which the crowd model weighs against the pay.
        var objects: Int {
            switch self {
            case .annotate(let task): return task.objectCount
            case .verify(let items): return items.count
            }
        }
    }

    /// How near an object must be to a verify question's crosshair to be the one asked about:
    /// the match radius of the analysis (`AnalysisOptions.matchRadius`).
    static let verifyRadius = AnalysisOptions().matchRadius

    struct OpenHIT { var id: String; var rewardCents: Int; var duration: Int; var maxAssignments: Int }

    /// The best-paid open HIT this worker may take and has not done, with what it asks.
    func bestHIT(_ db: Database, for workerId: String, at t: Double) throws -> (OpenHIT, SimulatedWork)? {
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blocks WHERE worker_id = ?", arguments: [workerId]) ?? 0 > 0 { return nil }
        let rows = try Row.fetchAll(db, sql: """
            SELECT h.id, h.reward_cents, h.image, h.json, h.max_assignments FROM hits h INDEXED BY hits_open
            WHERE h.disposed = 0 AND h.reviewing = 0 AND h.image IS NOT NULL AND h.expiration > ? AND h.created <= ?
              AND h.taken < h.max_assignments AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.hit_id = h.id AND a.worker_id = ?)
            ORDER BY h.reward_cents DESC, h.seq LIMIT 20
            """, arguments: [t, t, workerId])
        for r in rows {
            let hit = try JSONDecoder().decode(HIT.self, from: r["json"] as Data)
            guard try qualifies(db, workerId: workerId, for: hit.QualificationRequirements ?? []) else { continue }
            let open = OpenHIT(id: r["id"], rewardCents: r["reward_cents"], duration: hit.AssignmentDurationInSeconds, maxAssignments: r["max_assignments"])
            if let items = hit.Question.flatMap(VerifyQuestion.items(inQuestion:)) {
                return (open, .verify(try items.map { ($0, try Self.imageName(inQuestion: $0.imageURL).flatMap { try task(db, image: $0) }) }))
            }
            guard let task = try task(db, image: r["image"]) else { continue }
            return (open, .annotate(task))
        }
        return nil
    }

    /// Whether a simulated worker meets a HIT's qualification requirements. System qualifications:
    /// approval rate from this requester's decisions (100 % before any), HITs approved (1000 done
    /// elsewhere plus ours), locale US; Masters: nobody; the requester's own: as associated.
    func qualifies(_ db: Database, workerId: String, for requirements: [QualificationRequirement]) throws -> Bool {
        for q in requirements {
            var value: Int? = nil
            var locale: String? = nil
            switch q.QualificationTypeId {
            case "000000000000000000L0":
                let r = try Row.fetchOne(db, sql: "SELECT SUM(state = \(AssignmentState.approved.sql)) AS a, SUM(state = \(AssignmentState.rejected.sql)) AS r FROM assignments WHERE worker_id = ?", arguments: [workerId])
                let a: Int = r?["a"] ?? 0, rj: Int = r?["r"] ?? 0
                value = a + rj == 0 ? 100 : (100 * a) / (a + rj)
            case "00000000000000000040":
                value = 1000 + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE worker_id = ? AND state = \(AssignmentState.approved.sql)", arguments: [workerId]) ?? 0)
            case "00000000000000000071":
                locale = "US"
            default:
                value = try Int.fetchOne(db, sql: "SELECT value FROM qual_scores WHERE type_id = ? AND worker_id = ?", arguments: [q.QualificationTypeId, workerId])
                if value == nil, let json = try Data.fetchOne(db, sql: "SELECT json FROM qual_types WHERE id = ?", arguments: [q.QualificationTypeId]),
                   let type = try? JSONDecoder().decode(QualificationType.self, from: json), type.AutoGranted == true {
                    value = type.AutoGrantedValue ?? 1
                }
            }
            let ints = q.IntegerValues ?? []
            let ok: Bool
            switch q.Comparator {
            case "Exists": ok = value != nil || locale != nil
            case "DoesNotExist": ok = value == nil && locale == nil
            case "EqualTo", "In":
                if let locale { ok = (q.LocaleValues ?? []).contains { $0.Country == locale } } else { ok = value.map { ints.contains($0) } ?? false }
            case "NotEqualTo", "NotIn":
                if let locale { ok = !(q.LocaleValues ?? []).contains { $0.Country == locale } } else { ok = value.map { !ints.contains($0) } ?? false }
            case "LessThan": ok = value.map { v in ints.first.map { v < $0 } ?? false } ?? false
            case "LessThanOrEqualTo": ok = value.map { v in ints.first.map { v <= $0 } ?? false } ?? false
            case "GreaterThan": ok = value.map { v in ints.first.map { v > $0 } ?? false } ?? false
            case "GreaterThanOrEqualTo": ok = value.map { v in ints.first.map { v >= $0 } ?? false } ?? false
            default: ok = false
            }
            if !ok { return false }
        }
        return true
    }

    /// Accepts a HIT for simulated worker `w` at `t` and makes the answer now, to be submitted later.
    func acceptSimulated(_ db: Database, worker w: Int, hit: OpenHIT, work: SimulatedWork, at t: Double) throws {
        let worker = pool.workers[w]
        let id = try newID(db, "assignment")
        var index = try Int.fetchOne(db, sql: "SELECT annotations FROM sim_workers WHERE worker_id = ?", arguments: [worker.id]) ?? 0
        let rng = SeededRandom(seed: SeededRandom.derive(options.seed, UInt64(try db.metaInt("id_counter") ?? 0) &+ 0x5171_0000_0000))
        let answer: String, submit: Double
        switch work {
        case .annotate(let task):
            let budget = options.population.clickBudget(pay: Double(hit.rewardCents) / 100, patience: worker.patience)
            var clicks: [Vertex] = []
            annotator.annotate(task, worker: worker, budget: budget, annotationIndex: &index, rng: rng, into: &clicks)
            submit = t + (clicks.last?.timestamp ?? options.population.firstClickDelay * 1000) / 1000 + 2
            answer = AnswerFormat.questionFormAnswers([(AnswerFormat.field, ExportWriter.rawDataJSON([clicks]))])
        case .verify(let items):
            // The same judgement a simulated run's verifiers make (VerifierCrowd).
            let fields = items.enumerated().map { k, item -> (String, String) in
                let v = item.1.flatMap { VerifierCrowd.visibility(x: item.0.col, y: Double(item.0.height) - item.0.row, in: $0, radius: Self.verifyRadius) }
                return (VerifyQuestion.field(k), rng.uniform() < VerifierCrowd.yesProbability(worker, visibility: v, annotator) ? "yes" : "no")
            }
            submit = t + options.population.firstClickDelay + Double(items.count) * VerifierCrowd.secondsPerQuestion + 2
            answer = AnswerFormat.questionFormAnswers(fields)
        }
        try db.execute(sql: "INSERT INTO assignments (id, hit_id, worker_id, state, accept, submit, deadline, answer) VALUES (?, ?, ?, \(AssignmentState.accepted.sql), ?, ?, ?, ?)",
                       arguments: [id, hit.id, worker.id, t, submit, t + Double(hit.duration), answer])
        try db.execute(sql: "UPDATE hits SET taken = taken + 1 WHERE id = ?", arguments: [hit.id])
        try db.execute(sql: "INSERT INTO sim_workers (worker_id, annotations) VALUES (?, ?) ON CONFLICT(worker_id) DO UPDATE SET annotations = excluded.annotations",
                       arguments: [worker.id, index])
    }

    /// A simulated worker's planned submission falls due: submitted (or abandoned past the
    /// deadline), then the worker goes on to the next HIT of their run.
    func finishSimulated(_ db: Database, assignment id: String, at t: Double) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT a.worker_id, a.submit, a.deadline, h.json FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.id = ?", arguments: [id]) else { return }
        let workerId: String = row["worker_id"]
        let submit: Double = row["submit"], deadline: Double = row["deadline"]
        if submit > deadline {
            try abandon(db, assignment: id)
        } else {
            let hit = try JSONDecoder().decode(HIT.self, from: row["json"] as Data)
            try db.execute(sql: "UPDATE assignments SET state = \(AssignmentState.submitted.sql), auto_approve = ? WHERE id = ?",
                           arguments: [submit + Double(hit.AutoApprovalDelayInSeconds), id])
        }
        let remaining = (try Int.fetchOne(db, sql: "SELECT remaining FROM sim_workers WHERE worker_id = ?", arguments: [workerId]) ?? 0) - 1
        try db.execute(sql: "UPDATE sim_workers SET remaining = ? WHERE worker_id = ?", arguments: [max(0, remaining), workerId])
        guard remaining > 0, let w = workerIndex[workerId], let (next, work) = try bestHIT(db, for: workerId, at: t) else { return }
        try acceptSimulated(db, worker: w, hit: next, work: work, at: t)
    }
}
