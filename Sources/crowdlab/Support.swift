import ArgumentParser
import Foundation
import Consensus
import Imaging
import Phantoms

/// Closed choices of the command line, typed: ArgumentParser lists them and refuses others.
extension PointMethods.Name: ExpressibleByArgument {}
extension SceneName: ExpressibleByArgument {}
extension Background: ExpressibleByArgument {}

/// `--truth-image NAME`, for the commands that take `--truth`: the image a single truth CSV belongs
/// to when the export holds several (an expert labelled one image of the job).
struct TruthImageOption: ParsableArguments {
    @Option(help: "The image a single --truth CSV belongs to, when the export holds several (the others are analysed without truth).")
    var truthImage: String?

    /// The truth `--truth PATH` gives (nil without it), refusing `--truth-image` alone.
    func load(_ truth: String?, export: QuantiusExport) throws -> TruthSet? {
        guard let truth else {
            if truthImage != nil { throw CLIError("--truth-image: needs --truth FILE (the truth CSV of that image)") }
            return nil
        }
        return try TruthSet.load(path: truth, export: export, image: truthImage)
    }

    /// The truth of a command whose `--truth` is required.
    func load(_ truth: String, export: QuantiusExport) throws -> TruthSet {
        try TruthSet.load(path: truth, export: export, image: truthImage)
    }
}

/// `--image-evidence`, for the commands that take `--images`: the agreement vote hearing the
/// images for the candidates it turned down (`ImageEvidenceConsensus`).
struct ImageEvidenceOption: ParsableArguments {
    @Flag(help: "Also admit candidates two or more workers clicked that the vote turned down when the image shows a spot of their own there (needs --images; agreement method).")
    var imageEvidence = false

    /// Refuses what the flag cannot work with, before anything is read.
    func check(images: String?, method: PointMethods.Name = .agreement) throws {
        guard imageEvidence else { return }
        guard images != nil else { throw CLIError("--image-evidence: needs --images FOLDER (the images the workers saw)") }
        guard method == .agreement else { throw CLIError("--image-evidence: works with --method agreement, not \(method.rawValue)") }
    }

    /// The vote hearing the export's images found in `dir` (the others keep the vote's answer and
    /// are counted in the summary line); nil without the flag. Its `images` serve the overlays too.
    func method(for data: QuantiusExport, images dir: String?) throws -> ImageEvidenceConsensus? {
        guard imageEvidence, let dir else { return nil }
        return ImageEvidenceConsensus(images: try PNG.read(folder: dir, names: data.imageNames).found)
    }

    /// What the images added, for the printed summary.
    func summary(_ consensus: [ImageConsensus]) -> String? {
        imageEvidence ? "image evidence: " + EvidenceTotals(consensus).sentence : nil
    }
}

/// A one-line error for the user (ArgumentParser prints it and exits non-zero).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Stage-by-stage progress on a terminal's standard error; silent when stderr is not a terminal.
final class Progress: @unchecked Sendable {
    let enabled = isatty(STDERR_FILENO) != 0
    let stages: Int
    var current = 0
    let start = Date()
    init(stages: Int) { self.stages = stages }

    func stage(_ what: String) {
        current += 1
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(current)/\(stages)] \(what)…".utf8))
    }

    private let lock = NSLock()

    /// A counter within a stage: `done` of `total` (safe to call from worker threads).
    func tick(_ done: Int, _ total: Int, _ what: String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(current)/\(stages)] \(what) \(done)/\(total)".utf8))
    }

    func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(String(format: "\r\u{1B}[Kdone in %.1f s\n", Date().timeIntervalSince(start)).utf8))
    }
}

/// A user's Quanti.us export as the commands read it: one size per image, and each worker's first
/// submission on an image (`QuantiusExport.keepingFirstSubmissions`), with a note on standard error
/// of any left out.
func readSubmissions(_ path: String) throws -> QuantiusExport {
    let export = try ExportReader.readSubmissions(path: path)
    noteRepeatedSubmissions(export, file: path)
    return export
}

/// Says on standard error how many of a worker's repeated submissions were left out, if any.
func noteRepeatedSubmissions(_ export: QuantiusExport, file: String) {
    if let note = export.repeatedSubmissionsNote(file: file) { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
}

/// This process's peak resident memory (VmHWM from /proc/self/status), in KiB; 0 where unavailable.
func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
    }
    return 0
}

/// `v` with `digits` decimals (rounded half away from zero), without `String(format:)`, whose first
/// call sets up Foundation's formatting machinery (milliseconds in a short command).
func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite, abs(v) < 1e15 else { return String(v) }
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int64((abs(v) * Double(scale)).rounded())
    var s = (v < 0 && n != 0 ? "-" : "") + String(n / scale)
    if digits > 0 {
        let frac = String(n % scale)
        s += "." + String(repeating: "0", count: digits - frac.count) + frac
    }
    return s
}

/// What simulated workers annotate: truth objects, with their image or at a given size. Shared by
/// the commands that simulate a crowd (`simulate`, `predict`).
struct TaskInputOptions: ParsableArguments {
    @Option(help: "Truth: one CSV (col,row[,snr][,kind]) or a folder of them (one image per file).") var truth: String
    @Option(help: "The image of a single truth CSV (detection can then use measured contrast).") var image: String?
    @Option(help: "Folder of images matching a folder of truth files.") var images: String?
    @Option(help: "Image size WxH when no image is given (default 300x300).") var size: String?
}
