import ArgumentParser
import Crowd
import Foundation

/// `crowdlab population`: prints the built-in population (the one calibrated to the Quanti.us paper).
struct PopulationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "Print the built-in crowd population as commented YAML (the default of simulate).",
        discussion: "The same text is shipped as Scenarios/populations/paper.yaml; edit a copy and pass it with --population.")
    func run() throws {
        print(Population().yaml(title: "The built-in crowdlab population, calibrated to the Quanti.us paper\n(Hughes et al., Nat. Methods 15:587, 2018) and to the real spot exports in Data/.", notes: Population.paperSources), terminator: "")
    }
}
