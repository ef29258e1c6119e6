import ArgumentParser
import Crowd
import Foundation
import Turk

struct TurkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turk",
        abstract: "A local Mechanical Turk marketplace with simulated workers, and the annotation page for HITs.",
        subcommands: [TurkServe.self, TurkQuestion.self, TurkCall.self])
}

struct TurkServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a local marketplace that speaks the Mechanical Turk requester API.",
        discussion: """
        Listens on 127.0.0.1 and answers the real wire protocol (POST /, X-Amz-Target \
        MTurkRequesterServiceV20170117.<Operation>, AWS Signature V4 for service \
        mturk-requester in us-east-1), so the AWS SDKs and `crowdlab job --backend local` \
        work against it unchanged: point them at http://127.0.0.1:PORT with the access \
        and secret key given here. Simulated workers drawn from the population take the \
        HITs on the marketplace clock; state lives in the SQLite file and survives a \
        kill -9 (every acknowledged write is committed first). Images: PUT (signed) and \
        GET /images/NAME, with optional truth at /images/NAME.truth.csv. A person can \
        do a HIT at /work/HITID?workerId=W.

        Example (an hour of marketplace time per second):
          crowdlab turk serve --port 8443 --db market.sqlite --clock-speed 3600 \\
            --seed 7
          aws mturk get-account-balance --endpoint-url http://127.0.0.1:8443
        """)

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed on start).") var port: Int = 8443
    @Option(help: "SQLite file holding the marketplace's state (created if missing).") var db: String
    @Option(help: "Access key the server accepts.") var accessKey: String = "AKIDCROWDLAB"
    @Option(help: "Secret key for that access key.") var secretKey: String = "crowdlab-local-secret"
    @Option(help: "Marketplace seconds per wall-clock second (3600: an hour a second).") var clockSpeed: Double = 1
    @Option(help: "Population YAML for the simulated workers (default: the built-in paper population).") var population: String?
    @Option(help: "Seed of the simulated crowd.") var seed: UInt64 = 1
    @Option(help: "Simulated workers in the pool.") var workers: Int = 400
    @Flag(help: "No simulated workers: only people through the work page.") var noSimulatedWorkers = false

    func run() async throws {
        guard (0...65535).contains(port) else { throw CLIError("--port: must be 0…65535") }
        guard clockSpeed >= 0, clockSpeed.isFinite else { throw CLIError("--clock-speed: must be a non-negative number") }
        guard workers >= 1 else { throw CLIError("--workers: must be at least 1") }
        var options = MarketplaceOptions()
        options.credentials = [accessKey: secretKey]
        options.clockSpeed = clockSpeed
        options.seed = seed
        options.poolSize = workers
        options.simulatedWorkers = !noSimulatedWorkers
        options.warn = { FileHandle.standardError.write(Data("crowdlab turk: \($0)\n".utf8)) }
        if let population { options.population = try Population.load(path: population) }
        let market: LocalMarketplace
        do { market = try LocalMarketplace(path: db, options: options) } catch {
            throw CLIError("\(db): cannot open the marketplace store: \(error)")
        }
        let server = TurkServer(market: market)
        try await server.run(port: port) { bound in
            FileHandle.standardOutput.write(Data("crowdlab turk: listening on http://127.0.0.1:\(bound) (store \(db), clock x\(clockSpeed))\n".utf8))
        }
    }
}

struct TurkQuestion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "question",
        abstract: "Print an HTMLQuestion whose page is a working annotation tool.",
        discussion: """
        The page shows the image with a crosshair, polyline or polygon tool (zoom, undo, \
        instructions, an example image) and posts the worker's annotations through \
        Mechanical Turk's externalSubmit form as the FreeText answer `annotations`: the \
        Quanti.us raw_data JSON (a list of annotations, each a list of {x, y, timestamp}, \
        y from the bottom edge). The same page works on the real service.

        Example:
          crowdlab turk question \\
            --image-url http://127.0.0.1:8443/images/cells_0001.png \\
            --tool crosshairs \\
            --instructions "Click the centre of every cell." > question.xml
        """)

    @Option(help: "URL of the image to annotate.") var imageUrl: String
    @Option(help: "crosshairs, polyline or polygon.") var tool: String = "crosshairs"
    @Option(help: "What the worker should do.") var instructions: String
    @Option(help: "URL of an example of a finished annotation.") var exampleUrl: String?
    @Option(help: "Frame height in pixels (0: fit the page).") var frameHeight: Int = 0

    func run() throws {
        guard let t = HTMLQuestion.Tool(rawValue: tool) else { throw CLIError("--tool: must be crosshairs, polyline or polygon, not \(tool)") }
        guard !imageUrl.isEmpty else { throw CLIError("--image-url: must not be empty") }
        print(HTMLQuestion.make(imageURL: imageUrl, tool: t, instructions: instructions, exampleURL: exampleUrl, frameHeight: frameHeight))
    }
}

/// One raw API call, for trying the marketplace (or the sandbox) by hand.
struct TurkCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one requester API operation and print the JSON answer.",
        discussion: """
        Credentials come from the environment or ~/.aws/credentials as the AWS tools read \
        them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE).

        Example:
          crowdlab turk call GetAccountBalance --endpoint http://127.0.0.1:8443
        """)

    @Argument(help: "Operation name, e.g. GetAccountBalance, ListHITs.") var operation: String
    @Option(help: "Request body as JSON.") var json: String = "{}"
    @Option(help: "Endpoint: a local marketplace URL, 'sandbox' or 'live'.") var endpoint: String = "sandbox"

    func run() async throws {
        let url = endpoint == "sandbox" ? LiveTurkClient.sandbox : endpoint == "live" ? LiveTurkClient.production : endpoint
        let client = try LiveTurkClient(endpoint: url, credentials: try AWSCredentials.fromEnvironment())
        do {
            let out = try await client.raw(operation: operation, body: Array(json.utf8))
            print(String(decoding: out, as: UTF8.self))
        } catch let e as TurkError {
            throw CLIError("\(operation): \(e)")
        }
    }
}
