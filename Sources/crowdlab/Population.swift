import ArgumentParser
import Crowd
import Foundation
import Lab

/// `crowdlab population`: prints a built-in population: the one calibrated to the Quanti.us paper
/// (the default everywhere), or the transwell crowd and experts of `crowdlab paper`.
struct PopulationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "Print a built-in crowd population as commented YAML (the default of simulate).",
        discussion: """
            The same texts are shipped as Scenarios/populations/<preset>.yaml (tests keep them equal); \
            edit a copy and pass it with --population or crowd.population in a scenario.
            """)

    enum Preset: String, ExpressibleByArgument, CaseIterable { case paper, transwell, experts }

    @Option(help: "paper: calibrated to the Quanti.us paper and the real spot exports; transwell: the crowd on 13 px cells of Fig. 1c-f; experts: the 5 experts of Fig. 1c.")
    var preset: Preset = .paper

    func run() throws {
        print(Self.text(preset), terminator: "")
    }

    static func text(_ preset: Preset) -> String {
        switch preset {
        case .paper:
            return Population().yaml(title: "The built-in crowdlab population, calibrated to the Quanti.us paper\n(Hughes et al., Nat. Methods 15:587, 2018) and to the real spot exports in Data/.", notes: Population.paperSources)
        case .transwell:
            var notes = Population.paperSources
            notes["detection.plateau"] = "changed: cells 13 px across are seen by nearly everyone who looks; the spot data's 0.72 is for 1.75 px spots"
            notes["detection.plateau_sd"] = "changed: few workers miss large cells"
            notes["pointing.rmse_median_px"] = "changed: the real exports' median worker RMSE, 2.7 px (Fig. 1e: about 3 px)"
            return Paper.transwellCrowd.yaml(title: "The crowd on transwell images (Hughes et al. 2018, Fig. 1c-f and S1): the built-in paper\npopulation (populations/paper.yaml) with three changes, marked below. crowdlab paper uses the same values.", notes: notes)
        case .experts:
            var notes = Population.paperSources
            for key in ["detection.plateau", "detection.plateau_sd", "careless.share", "false_positives.rate_first", "false_positives.rate_later",
                        "pointing.rmse_median_px", "pointing.rmse_log_sd", "effort.tolerated_annotations"] {
                notes[key] = "changed: experts find nearly every cell, rarely click falsely, point carefully and are not paid per image"
            }
            return Paper.experts.yaml(title: "Five experts (Hughes et al. 2018, Fig. 1c): near-perfect detection, few false clicks, careful\npointing, no pay limit. crowdlab paper compares the filtered crowd with them.", notes: notes)
        }
    }
}
