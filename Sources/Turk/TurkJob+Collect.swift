import Consensus
import Foundation
import Imaging
import Lab
import Reports

// Reading a job back: each image's status, the workers' answers as an export, and its analysis.
extension TurkJob {
    /// Each image's HIT, then each verify HIT: its state and how many assignments are open,
    /// under way and submitted.
    public static func status(_ m: TurkJobManifest, client: any TurkBackend) async throws -> [ImageStatus] {
        var out: [ImageStatus] = []
        for image in m.images {
            guard let id = image.hitId else {
                out.append(ImageStatus(image: image.name, hitId: "-", status: "not posted", available: 0, pending: 0, submitted: 0, approved: 0, rejected: 0))
                continue
            }
            out.append(try await row(image.name, hitId: id))
        }
        for (h, id) in (m.verify?.hitIds ?? []).enumerated() {
            let name = "verify-\(h + 1)"
            if let id { out.append(try await row(name, hitId: id)) } else {
                out.append(ImageStatus(image: name, hitId: "-", status: "not posted", available: 0, pending: 0, submitted: 0, approved: 0, rejected: 0))
            }
        }
        return out

        func row(_ name: String, hitId id: String) async throws -> ImageStatus {
            let hit = try await client.send(GetHIT(hitId: id)).HIT
            let a = try await client.allAssignments(hitId: id)
            return ImageStatus(image: name, hitId: id, status: hit?.HITStatus.rawValue ?? "?",
                               available: hit?.NumberOfAssignmentsAvailable ?? 0, pending: hit?.NumberOfAssignmentsPending ?? 0,
                               submitted: a.filter { $0.AssignmentStatus == .Submitted }.count,
                               approved: a.filter { $0.AssignmentStatus == .Approved }.count,
                               rejected: a.filter { $0.AssignmentStatus == .Rejected }.count)
        }
    }

    /// A HIT's assignments as export records (in order, with their assignment ids), and a line for
    /// each answer that cannot be read.
    static func answers(_ assignments: [HITAssignment], image: TurkJobManifest.Image) -> (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) {
        var out: (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) = ([], [], [])
        for a in assignments {
            do {
                out.records.append(try AnswerFormat.exportRecord(answer: a.Answer ?? "", image: image.name, width: image.width, height: image.height,
                                                                 workerId: a.WorkerId, submitTime: a.SubmitTime ?? 0))
                out.assignmentIds.append(a.AssignmentId)
            } catch {
                out.unreadable.append("\(a.AssignmentId) (worker \(a.WorkerId), \(image.name)): \(error)")
            }
        }
        return out
    }

    /// Every image's answers so far, in image order.
    static func firstStage(_ m: TurkJobManifest, client: any TurkBackend) async throws -> (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) {
        var out: (records: [ExportRecord], assignmentIds: [String], unreadable: [String]) = ([], [], [])
        for image in m.images {
            guard let hitId = image.hitId else { continue }
            let read = answers(try await client.allAssignments(hitId: hitId), image: image)
            out.records += read.records; out.assignmentIds += read.assignmentIds; out.unreadable += read.unreadable
        }
        return out
    }

    /// The job's answers analysed as `crowdlab run` analyses a simulated crowd's: the scenario's
    /// method (with near misses for a verify job) against the truth in `job/truth`.
    static func analyse(_ m: TurkJobManifest, _ export: QuantiusExport, job: String) throws -> (AnalysisResult, TruthSet) {
        let s = try Scenario.load(path: m.scenario, overrides: m.overrides)
        let truth = try TruthSet.load(path: folders(job: job).truth, export: export)
        var options = AnalysisOptions()
        options.method = try s.pointMethod(images: s.imageEvidence ? try jobImages(export, job: job) : nil)
        options.matchRadius = s.matchRadius
        return (Analysis.run(export: export, truth: truth, options: options), truth)
    }

    /// The images the job posted (`job/images`), by name, for a scenario whose analysis hears them.
    static func jobImages(_ export: QuantiusExport, job: String) throws -> [String: Image] {
        let dir = folders(job: job).images
        let (found, missing) = try PNG.read(folder: dir, names: export.imageNames)
        if let name = missing.first { throw ImageError(file: (dir as NSString).appendingPathComponent(name), message: "cannot be read (the job posted it)") }
        return found
    }

    /// Every submitted answer as a Quanti.us export (`job/export.json`), analysed with the
    /// scenario's method against the truth; outputs as `crowdlab analyze` writes them, in
    /// `job/analysis`. A verify job's posted second stage decides the objects it asked about.
    public static func collect(_ m: TurkJobManifest, client: any TurkBackend, job: String) async throws -> Collected {
        let read = try await firstStage(m, client: client)
        let export = QuantiusExport(records: read.records)
        try ExportWriter.write(export, to: (job as NSString).appendingPathComponent("export.json"))
        var preface: [(String, String)] = [("job", "\(m.images.count) HITs, \(m.assignmentsAsked) assignments\(m.policy.map { " (\($0))" } ?? "") at $\(m.reward) on \(m.backend) (\(m.endpoint))")]
        var c: Collected
        if let part = m.verify, let plan = m.verifyPlan {
            let used = Set(part.firstStageAssignments)
            let kept = zip(read.records, read.assignmentIds).filter { used.contains($0.1) }.map(\.0)
            let (first, truth) = try analyse(m, QuantiusExport(records: kept), job: job)
            let decided = try await verified(first, part: part, plan: plan, client: client, job: job)
            c = Collected(export: export, assignmentIds: read.assignmentIds, analysis: Analysis.rescored(first, consensus: decided.consensus, truth: truth),
                          unreadable: read.unreadable + decided.unreadable, verify: decided.summary, late: read.records.count - kept.count)
            preface.append(("verify stage", "\(part.questions.count) undecided objects asked in \(part.hitIds.count) HITs of \(plan.workersPerQuestion) assignments at $\(plan.reward); \(decided.summary.answeredQuestions) answered: \(decided.summary.removed) first-stage objects turned down, \(decided.summary.added) near misses confirmed"))
        } else {
            c = Collected(export: export, assignmentIds: read.assignmentIds, analysis: try analyse(m, export, job: job).0, unreadable: read.unreadable)
        }
        preface.append(("answers", "\(read.records.count) collected, \(c.unreadable.count) unreadable\(c.late > 0 ? ", \(c.late) arrived after the verify stage was drawn (left out of the analysis)" : "")"))
        let stage = try OutputStage(destination: (job as NSString).appendingPathComponent("analysis"))
        try AnalysisOutputs.write(c.analysis, metrics: AnalysisOutputs.metrics(c.analysis), into: stage)
        try stage.write(AnalysisReport.html(c.analysis, exportName: "job \(m.jobId) (\(m.backend))", overlays: [], preface: preface), "report.html")
        try stage.commit()
        return c
    }
}
