import ArgumentParser
import Consensus
import Crowd
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a real crowd of K workers per image would reach on these images, with 90 % intervals.",
        discussion: """
        Simulates --seeds crowds of the population on the truth (and images): seed s simulates a population drawn from the calibration's standard errors (the `uncertainty:` section `crowdlab calibrate` writes), so the intervals hold what the calibration does not know as well as one crowd against the next; per image, the measured crowd-to-crowd variation of real crowds is added (docs/crowd-model.md). Consensus is the default method scored against the truth at 8 px.

        Example:
          crowdlab calibrate Data/quanti-us/smfish-inverted/export.json \\
            --truth Data/quanti-us/smfish-inverted \\
            --images Data/quanti-us/smfish-inverted/images --out out/smfish.yaml
          crowdlab predict --population out/smfish.yaml \\
            --truth Data/quanti-us/smfish-inverted \\
            --images Data/quanti-us/smfish-inverted/images --replicates 10 \\
            --json out/predict.json
        """)

    @Option(help: "Population YAML (see crowdlab calibrate).") var population: String
    @OptionGroup var input: TaskInputOptions
    @Option(help: "Workers per image.") var replicates: Int
    @Option(help: "Pay per image in USD.") var pay: Double = 0.02
    @Option(help: "Simulated crowds (each with its own population draw).") var seeds: Int = 20
    @Option(help: "Write the prediction as JSON here.") var json: String

    func run() throws {
        guard replicates >= 1 && replicates <= 1000 else { throw CLIError("--replicates: must be 1…1000") }
        guard seeds >= 2 && seeds <= 1000 else { throw CLIError("--seeds: must be 2…1000") }
        guard pay > 0 && pay.isFinite && pay <= 100 else { throw CLIError("--pay: must be in (0, 100] USD per image") }
        let pop = try Population.load(path: population)
        let sources = try TaskLoader.sources(truth: input.truth, image: input.image, imagesDir: input.images)
        let tasks = try TaskLoader.tasks(sources, size: try input.size.map(parseSize), measure: pop.measure)
        // Truth in click coordinates, keyed by image name, as the simulated export names them.
        var byImage: [String: TruthPoints] = [:]
        for (s, t) in zip(sources, tasks) { byImage[t.name] = TruthPoints(xs: t.xs, ys: t.ys, snr: nil, source: s.truthFile) }
        let progress = Progress(stages: 1)
        progress.stage("simulating")
        let r = Prediction.run(population: pop, tasks: tasks, truth: TruthSet(byImage: byImage), replicates: replicates, pay: pay, seeds: seeds) {
            progress.tick($0, seeds, "crowds")
        }
        progress.done()
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try enc.encode(r), as: UTF8.self) + "\n", to: json)
        print("\(replicates) workers per image on \(tasks.count) image(s), \(seeds) simulated crowds, 90 % intervals:")
        print("consensus precision \(r.consensus.precision.shown), recall \(r.consensus.recall.shown)")
        print("wrote \(json)")
    }
}

extension Prediction.Interval {
    /// `mean [low, high]` to three decimals, as predict and validate print an interval.
    var shown: String { "\(fixed(mean, 3)) [\(fixed(low, 3)), \(fixed(high, 3))]" }
}
