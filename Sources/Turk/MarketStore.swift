import Foundation
import GRDB

/// The local marketplace's state in SQLite (GRDB): every write is one transaction, committed before
/// the reply goes out, so a `kill -9` loses nothing that was acknowledged. WAL journal, full sync.
final class MarketStore: Sendable {
    let db: DatabasePool

    init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        config.busyMode = .timeout(10)
        // A pool: reads run beside the one writer (WAL), so listing never waits for a commit.
        db = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE hit_types (id TEXT PRIMARY KEY, json BLOB NOT NULL);
                CREATE TABLE hits (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type_id TEXT NOT NULL,
                    created REAL NOT NULL, expiration REAL NOT NULL, max_assignments INTEGER NOT NULL,
                    reward_cents INTEGER NOT NULL, review_status TEXT NOT NULL, reviewing INTEGER NOT NULL DEFAULT 0,
                    disposed INTEGER NOT NULL DEFAULT 0, image TEXT, json BLOB NOT NULL,
                    -- taken: assignments accepted so far (kept with every insert and delete, so the
                    -- open-HIT index can skip full HITs); cost_cents: reward + fee per assignment.
                    taken INTEGER NOT NULL DEFAULT 0, cost_cents INTEGER NOT NULL);
                CREATE INDEX hits_open ON hits (reward_cents DESC, seq)
                    WHERE disposed = 0 AND reviewing = 0 AND image IS NOT NULL AND taken < max_assignments;
                CREATE TABLE assignments (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, hit_id TEXT NOT NULL,
                    worker_id TEXT NOT NULL, state TEXT NOT NULL, accept REAL NOT NULL, submit REAL,
                    deadline REAL NOT NULL, auto_approve REAL, approval REAL, rejection REAL,
                    answer TEXT, feedback TEXT, UNIQUE (hit_id, worker_id));
                CREATE INDEX assignments_state ON assignments (state, submit, auto_approve);
                CREATE INDEX assignments_hit ON assignments (hit_id, seq);
                CREATE TABLE bonuses (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT UNIQUE, worker_id TEXT NOT NULL,
                    assignment_id TEXT NOT NULL, hit_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
                    reason TEXT NOT NULL, grant_time REAL NOT NULL);
                CREATE TABLE qual_types (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, json BLOB NOT NULL);
                CREATE TABLE qual_scores (type_id TEXT NOT NULL, worker_id TEXT NOT NULL, value INTEGER NOT NULL,
                    PRIMARY KEY (type_id, worker_id));
                CREATE TABLE blocks (seq INTEGER PRIMARY KEY AUTOINCREMENT, worker_id TEXT UNIQUE NOT NULL, reason TEXT);
                CREATE TABLE notifications (seq INTEGER PRIMARY KEY AUTOINCREMENT, worker_id TEXT NOT NULL,
                    subject TEXT NOT NULL, text TEXT NOT NULL, time REAL NOT NULL);
                CREATE TABLE images (name TEXT PRIMARY KEY, png BLOB NOT NULL, truth TEXT);
                CREATE TABLE request_tokens (token TEXT PRIMARY KEY, operation TEXT NOT NULL, result TEXT NOT NULL);
                CREATE TABLE sim_workers (worker_id TEXT PRIMARY KEY, annotations INTEGER NOT NULL DEFAULT 0,
                    remaining INTEGER NOT NULL DEFAULT 0);
                """)
        }
        try migrator.migrate(db)
    }
}

extension Database {
    func meta(_ key: String) throws -> String? {
        try String.fetchOne(self, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    func setMeta(_ key: String, _ value: String) throws {
        try execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [key, value])
    }

    func metaDouble(_ key: String) throws -> Double? { try meta(key).flatMap(Double.init) }
    func metaInt(_ key: String) throws -> Int? { try meta(key).flatMap { Int($0) } }
}

/// An assignment's state as the store keeps it: the service's three statuses, and `accepted` for
/// work a worker has taken and not yet submitted (the service shows it only as a HIT's pending
/// count, never as an assignment). SQL names it through `sql`, so no state is spelled twice.
enum AssignmentState: String, CaseIterable {
    case accepted = "Accepted", submitted = "Submitted", approved = "Approved", rejected = "Rejected"

    /// The state as an SQL literal.
    var sql: String { "'\(rawValue)'" }
    /// The status the service reports, none while the work is under way.
    var status: AssignmentStatus? { AssignmentStatus(rawValue: rawValue) }
}
