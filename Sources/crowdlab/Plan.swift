import ArgumentParser
import Consensus
import Crowd
import Foundation
import Lab

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The cheapest job design (pay, workers per image, filtering) that meets accuracy targets.",
        discussion: """
        Simulates every design (pay 1-10 cents per image, 3-15 workers per image or an \
        adaptive policy that adds workers only where the consensus is unsettled, with \
        and without dropping the bottom third of workers) on pilot images of the planned \
        complexity over several seeds, and recommends the cheapest one whose \
        10th-percentile recall and precision meet the targets within budget and \
        deadline. Costs include Mechanical Turk's fees. Writes plan.json, report.html \
        (the cost / accuracy / time front) and planned.yaml (the recommended design as \
        a scenario: `crowdlab sweep out/plan/planned.yaml --vary seed=...` re-checks it).

        When no design meets the targets within budget and deadline, plan prints and writes the two nearest answers (the cheapest design that meets the targets whatever they cost, and the best design within budget and deadline) and exits with status 3.

        Example:
          crowdlab plan --objects-per-image 100 --images 500 --target-recall 0.8 \\
            --budget 200
        """)

    @Option(help: "Objects per image.") var objectsPerImage: Int
    @Option(help: "Images in the job.") var images: Int
    @Option(help: "Required consensus recall.") var targetRecall: Double
    @Option(help: "Required consensus precision.") var targetPrecision: Double = 0.95
    @Option(parsing: .unconditional, help: "Budget in USD (fees included).") var budget: Double?
    @Option(parsing: .unconditional, help: "Deadline in hours.") var deadline: Double?
    @Option(help: "Population YAML (default: the built-in paper population).") var population: String?
    @Option(help: "Seeds per design.") var seeds: Int = 8
    @Option(help: "An adaptive policy to price beside the fixed designs: START,CAP,THRESHOLD (repeatable; default 3,15,0.15; none: fixed designs only).")
    var adaptive: [String] = []
    @Flag(help: "Also price each fixed design followed by a verify stage (3 verifiers per question, 10 questions a HIT).")
    var verify = false
    @Option(help: "Also price crowd labels for the first N images and a detector (crowdlab detect) for the rest.") var detectorAfter: Int?
    @Option(help: "Output folder.") var out: String = "Reports/plan"
    @Flag(help: "Print the plan as JSON instead of a summary.") var json = false

    func run() throws {
        try checkOptions()
        let progress = Progress(stages: 1)
        progress.stage("simulating designs")
        let plan = try makePlanner().plan { done, total in progress.tick(done, total, "runs") }
        let data = try write(plan)
        progress.done()
        if json { print(String(decoding: data, as: UTF8.self)) } else { printSummary(plan) }
        if plan.recommended == nil { throw ExitCode(3) }
    }

    func checkOptions() throws {
        guard (1...5000).contains(objectsPerImage) else { throw CLIError("--objects-per-image: must be 1…5000") }
        guard (1...10_000_000).contains(images) else { throw CLIError("--images: must be at least 1") }
        guard (0...1).contains(targetRecall) else { throw CLIError("--target-recall: must be in 0…1") }
        guard (0...1).contains(targetPrecision) else { throw CLIError("--target-precision: must be in 0…1") }
        if let b = budget, !(b > 0) { throw CLIError("--budget: must be a positive amount in USD") }
        if let d = deadline, !(d > 0) { throw CLIError("--deadline: must be a positive number of hours") }
        guard (2...100).contains(seeds) else { throw CLIError("--seeds: must be 2…100") }
        if let k = detectorAfter, !(1..<images).contains(k) { throw CLIError("--detector-after: must be 1…\(images - 1), fewer than --images") }
    }

    func makePlanner() throws -> Planner {
        let pop = try population.map { try Population.load(path: $0) } ?? Population()
        var planner = Planner(objectsPerImage: objectsPerImage, images: images, targetRecall: targetRecall, targetPrecision: targetPrecision,
                              budget: budget, deadlineHours: deadline, population: pop)
        planner.seeds = seeds
        planner.adaptivePolicies = try adaptivePolicies()
        if verify { planner.verifyStages = [VerifyStage()] }
        planner.detectorAfter = detectorAfter
        return planner
    }

    /// plan.json, report.html and (when a design is recommended) planned.yaml, all or nothing;
    /// returns plan.json's bytes.
    func write(_ plan: Planner.Plan) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        let data = try enc.encode(plan)
        let stage = try OutputStage(destination: out)
        try stage.write(data, "plan.json")
        try stage.write(Planner.html(plan), "report.html")
        let absolutePopulation = population.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let yaml = Planner.scenarioYAML(plan, populationPath: absolutePopulation) { try stage.write(yaml, "planned.yaml") }
        try stage.commit()
        return data
    }

    func printSummary(_ plan: Planner.Plan) {
        if let d = plan.recommended {
            print(String(format: "recommended: $%.3f per image, %@ workers per image%@", d.payUsd, d.workersPerImage, d.dropBottomThird ? ", drop the bottom third of workers" : ""))
            print(String(format: "  cost $%.2f (fees $%.2f), about %.1f h", d.costUsd, d.feesUsd, d.hours))
            print(String(format: "  recall %.3f (10th-90th percentile %.3f-%.3f), precision %.3f (%.3f-%.3f)", d.recallMean, d.recallP10, d.recallP90, d.precisionMean, d.precisionP10, d.precisionP90))
        } else {
            print("no design meets the targets within budget and deadline")
            func line(_ name: String, _ d: Planner.Design?) {
                guard let d else { print("  \(name): none"); return }
                print(String(format: "  %@: $%.3f per image, %@ workers per image%@: cost $%.2f, about %.1f h, recall p10 %.3f, precision p10 %.3f",
                             name, d.payUsd, d.workersPerImage, d.dropBottomThird ? " (bottom third dropped)" : "", d.costUsd, d.hours, d.recallP10, d.precisionP10))
            }
            line("cheapest meeting the targets", plan.cheapestMeetingTargets)
            line("best within budget and deadline", plan.bestWithinLimits)
        }
        if let o = plan.detector {
            print(String(format: "crowd labels for %d images, a detector for the other %d: $%.2f and about %.1f h, against $%.2f and %.1f h labelling all (saves $%.2f); check the detector with crowdlab detect evaluate on crowd-labelled images it did not train on",
                         o.crowdImages, o.detectorImages, o.costUsd, o.hours, o.labellingEverythingUsd, o.labellingEverythingHours, o.savingUsd))
        }
        print("wrote \(out)/plan.json, report.html\(plan.recommended == nil ? "" : ", planned.yaml")")
    }

    func adaptivePolicies() throws -> [AdaptiveReplicates] {
        if adaptive.isEmpty { return [AdaptiveReplicates()] }
        if adaptive == ["none"] { return [] }
        return try adaptive.map { v in
            guard let p = try ReplicatePolicies.parse("adaptive:" + v, option: "--adaptive") as? AdaptiveReplicates else {
                throw CLIError("--adaptive: \"\(v)\": expected START,CAP,THRESHOLD")
            }
            return p
        }
    }
}
