import ArgumentParser
import AsyncHTTPClient
import Foundation
import Imaging
import Phantoms
import Turk

/// `crowdlab bench turk`: the local marketplace under load from concurrent signed clients.
struct BenchTurk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turk",
        abstract: "Requests per second and latency of `crowdlab turk serve` under concurrent signed clients.",
        discussion: """
        Starts `crowdlab turk serve` as a separate process (simulated workers on, the clock \
        at --clock-speed), then --clients concurrent clients send signed requests over \
        loopback: first CreateHIT (writes, each committed to SQLite before the reply), \
        then a mix of GetHIT, ListAssignmentsForHIT and GetAccountBalance (reads). The peer \
        is the same server's unsigned GET /health on the same connections: the floor of \
        the HTTP stack, so the ratio is what signature checks, SQLite and JSON cost. \
        Afterwards every HIT's assignments are listed through paging and checked: none \
        lost (the HIT's counts agree with the list) and none duplicated.
        """)

    @Option(help: "Concurrent clients.") var clients: Int = 8
    @Option(help: "HITs created (write phase).") var hits: Int = 400
    @Option(help: "Read requests (read phase).") var reads: Int = 4000
    @Option(help: "Marketplace seconds per wall second while the load runs.") var clockSpeed: Double = 3600
    @Option(help: "Working folder.") var work: String = "out/bench-turk"

    func run() async throws {
        guard clients >= 1, hits >= 1, reads >= 1 else { throw CLIError("--clients, --hits and --reads must be at least 1") }
        let (server, endpoint, db) = try startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let client = try LiveTurkClient(endpoint: endpoint, credentials: AWSCredentials(accessKey: "AKIDCROWDLAB", secretKey: "crowdlab-local-secret"), maxRetries: 0)
        print("server: \(endpoint), store \(db), clock x\(clockSpeed), \(clients) clients, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let (hitIds, createRate) = try await writePhase(client)
        let readRate = try await readPhase(client, hitIds: hitIds)
        let bareRate = try await peerPhase(endpoint)
        print(String(format: "ratio: signed reads reach %.2f of the bare HTTP rate; CreateHIT %.2f", readRate / bareRate, createRate / bareRate))
        try await checkIntegrity(client, hitIds: hitIds)
    }

    /// `crowdlab turk serve` in its own process on a fresh store; its endpoint read off its first line.
    func startServer() throws -> (Process, String, String) {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let db = (work as NSString).appendingPathComponent("bench.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let server = Process()
        server.executableURL = URL(fileURLWithPath: me)
        server.arguments = ["turk", "serve", "--port", "0", "--db", db, "--clock-speed", String(clockSpeed), "--seed", "3"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { server.terminate(); throw CLIError("the server did not start") }
            line += chunk
        }
        guard let text = String(data: line, encoding: .utf8), let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":").last ?? "") else {
            server.terminate()
            throw CLIError("cannot read the server's port from: \(String(decoding: line, as: UTF8.self))")
        }
        return (server, "http://127.0.0.1:\(port)", db)
    }

    /// Creates --hits HITs on one image (signed, each committed before the reply); their ids and
    /// the requests per second.
    func writePhase(_ client: LiveTurkClient) async throws -> ([String], Double) {
        var scene = SpotsScene()
        scene.count = 60...60
        let phantom = scene.render(seed: 1)
        let url = try await client.putImage(name: "bench.png", png: try PNG.encode(phantom.image), truthCSV: truthCSV(phantom.truth))
        let question = HTMLQuestion.make(imageURL: url, tool: .crosshairs, instructions: "Click every spot.")
        let (latencies, seconds, hitIds) = try await load(clients: clients, total: hits) { i in
            let r = try await client.send(CreateHIT(maxAssignments: 3 + i % 5, lifetimeInSeconds: 7 * 86_400, assignmentDurationInSeconds: 3600,
                                                    reward: "0.05", title: "bench \(i)", description: "d", question: question,
                                                    uniqueRequestToken: "bench-\(i)", autoApprovalDelayInSeconds: 86_400))
            return r.HIT?.HITId ?? ""
        }
        report("CreateHIT (signed, committed)", latencies, seconds)
        return (hitIds, Double(hits) / seconds)
    }

    /// --reads signed reads while the simulated workers take the HITs; requests per second.
    func readPhase(_ client: LiveTurkClient, hitIds ids: [String]) async throws -> Double {
        let (latencies, seconds, _) = try await load(clients: clients, total: reads) { i in
            let id = ids[(i * 7919) % ids.count]
            switch i % 3 {
            case 0: _ = try await client.send(GetHIT(hitId: id))
            case 1: _ = try await client.send(ListAssignmentsForHIT(hitId: id, maxResults: 10))
            default: _ = try await client.send(GetAccountBalance())
            }
            return ""
        }
        report("reads (signed: GetHIT, ListAssignmentsForHIT, GetAccountBalance)", latencies, seconds)
        return Double(reads) / seconds
    }

    /// The peer: the same HTTP stack without signatures, SQLite or JSON; requests per second.
    func peerPhase(_ endpoint: String) async throws -> Double {
        let (latencies, seconds, _) = try await load(clients: clients, total: reads) { _ in
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint + "/health"), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1024)
            return ""
        }
        report("peer: GET /health (unsigned)", latencies, seconds)
        return Double(reads) / seconds
    }

    /// Every HIT's assignments through paging, against the HIT's own counts.
    func checkIntegrity(_ client: LiveTurkClient, hitIds: [String]) async throws {
        var lost = 0, duplicated = 0, overfilled = 0, assignments = 0
        var seen = Set<String>()
        for id in hitIds {
            let listed = try await client.allAssignments(hitId: id, pageSize: 2)
            guard let hit = try await client.send(GetHIT(hitId: id)).HIT else { lost += 1; continue }
            for a in listed where !seen.insert(a.AssignmentId).inserted { duplicated += 1 }
            if Set(listed.map(\.WorkerId)).count != listed.count { duplicated += 1 }
            if listed.count > hit.MaxAssignments { overfilled += 1 }
            let accounted = hit.NumberOfAssignmentsAvailable + hit.NumberOfAssignmentsPending + listed.count
            if hit.HITStatus != .Disposed && hit.Expiration > Date().timeIntervalSince1970 && accounted != hit.MaxAssignments { lost += 1 }
            assignments += listed.count
        }
        print("integrity: \(hitIds.count) HITs, \(assignments) submitted assignments listed by paging; lost \(lost), duplicated \(duplicated), over-filled \(overfilled)")
        if lost + duplicated + overfilled > 0 { throw CLIError("integrity check failed") }
    }

    func report(_ what: String, _ latencies: [Double], _ seconds: Double) {
        let s = latencies.sorted()
        func q(_ p: Double) -> Double { s.isEmpty ? 0 : s[min(s.count - 1, Int(p * Double(s.count)))] * 1000 }
        print(String(format: "%@: %d requests in %.2f s = %.0f req/s; latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f",
                     what, s.count, seconds, Double(s.count) / seconds, q(0.5), q(0.9), q(0.99), (s.last ?? 0) * 1000))
    }

    /// Runs `total` requests spread over `clients` concurrent tasks; latencies in seconds.
    func load(clients: Int, total: Int, _ request: @escaping @Sendable (Int) async throws -> String) async throws -> ([Double], Double, [String]) {
        let start = Date()
        let results = try await withThrowingTaskGroup(of: [(Int, Double, String)].self) { group in
            for c in 0..<clients {
                group.addTask {
                    var out: [(Int, Double, String)] = []
                    var i = c
                    while i < total {
                        let t0 = Date()
                        let v = try await request(i)
                        out.append((i, Date().timeIntervalSince(t0), v))
                        i += clients
                    }
                    return out
                }
            }
            var all: [(Int, Double, String)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }
        }
        return (results.map(\.1), Date().timeIntervalSince(start), results.map(\.2))
    }
}
