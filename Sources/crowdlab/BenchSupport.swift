import ArgumentParser
import Consensus
import Randomness
import Foundation

// What the benchmarks share: workloads built from the real exports, and timing a child process.

/// A resampled export: each new image takes all submissions of one real image, turned by a random
/// multiple of 90 degrees about the image centre.
func resampledExport(sources: [QuantiusExport], images: Int, seed: UInt64) -> QuantiusExport {
    let groups = sources.flatMap { $0.recordsByImage() }
    let rng = SeededRandom(seed: seed)
    var out: [ExportRecord] = []
    for i in 0..<images {
        let g = groups[rng.int(groups.count)]
        let turn = rng.int(4)
        for r in g.records {
            var c = r
            c.imageFilename = String(format: "resampled_%04d.png", i)
            let w = Double(r.width), h = Double(r.height)
            c.rawData = r.rawData.map { shape in shape.map { v in
                var o = v
                switch turn {
                case 1: o.x = h - v.y; o.y = v.x
                case 2: o.x = w - v.x; o.y = h - v.y
                case 3: o.x = v.y; o.y = w - v.x
                default: break
                }
                return o
            } }
            out.append(c)
        }
    }
    return QuantiusExport(records: out)
}

/// The same export with every coordinate moved by its own offset in [-0.5, 0.5) px (seeded).
func fractionalExport(_ export: QuantiusExport, seed: UInt64) -> QuantiusExport {
    let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xF4AC))
    var records = export.records
    for r in records.indices {
        records[r].rawData = records[r].rawData.map { shape in shape.map { v in
            var o = v
            o.x = v.x + rng.uniform() - 0.5; o.y = v.y + rng.uniform() - 0.5
            return o
        } }
    }
    return QuantiusExport(records: records)
}

/// The schema as Codable, for the JSONDecoder comparison only.
struct CodableRecord: Decodable {
    struct V: Decodable { let x: Double; let y: Double; let timestamp: Double }
    let image_filename: String
    let worker_id: String
    let annotation_type: String
    let width: Int
    let height: Int
    let time_when_completed: String?
    let raw_data: [[V]]
}

struct ProcessMeasure { var status: Int32; var seconds: Double; var output: String }

/// Runs a child process and reports its wall time and exit status; `capture` 1 or 2 collects that
/// stream (the other output goes to /dev/null).
func measureProcess(_ exe: String, _ args: [String], capture: Int32 = 0, environment extra: [String] = []) throws -> ProcessMeasure {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipeFDs: [Int32] = [0, 0]
    if capture > 0 {
        _ = pipe(&pipeFDs)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], capture)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    }
    if capture != 1 { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let env = (ProcessInfo.processInfo.environment.map { "\($0)=\($1)" } + extra).map { strdup($0) } + [nil]
    defer { env.forEach { free($0) } }
    let start = Date()
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, env)
    guard rc == 0 else { throw CLIError("bench: cannot start \(exe) (error \(rc))") }
    var out = Data()
    if capture > 0 {
        close(pipeFDs[1])
        let h = FileHandle(fileDescriptor: pipeFDs[0], closeOnDealloc: true)
        out = h.readDataToEndOfFile()
    }
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    let seconds = Date().timeIntervalSince(start)
    let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ProcessMeasure(status: exited, seconds: seconds, output: String(decoding: out, as: UTF8.self))
}

/// A peer script of `bench/`, found beside the sources (or in the working folder).
func benchScript(_ name: String) -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bench/" + name).path
    return FileManager.default.fileExists(atPath: script) ? script : "bench/" + name
}
