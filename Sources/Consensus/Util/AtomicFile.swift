import Foundation

/// Writes files so that a reader never sees half of one: the bytes go to a temporary file in the
/// same folder, which is then renamed over the target (rename is atomic within a file system).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// Writes `parts` byte chunks, made by `produce(k)` on all cores, to a temporary file in order,
    /// then renames it over `path`. A writer thread appends each part as soon as it and those
    /// before it are made, so the kernel's copying overlaps the making of later parts, and each
    /// part is freed once written.
    public static func write(parts: Int, to path: String, produce: @Sendable (Int) -> [UInt8]) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        let queue = PartQueue(count: parts)
        let writer = Thread {
            var offset = 0
            for k in 0..<parts {
                let part = queue.take(k)
                if !queue.failed && !writeAll(fd, part, at: offset) { queue.fail() }
                offset += part.count
            }
            queue.finish()
        }
        writer.start()
        if parts > 1 && Parallelism.maxThreads != 1 {
            DispatchQueue.concurrentPerform(iterations: parts) { k in queue.put(k, produce(k)) }
        } else {
            for k in 0..<parts { queue.put(k, produce(k)) }
        }
        queue.waitFinished()
        var ok = !queue.failed
        if close(fd) != 0 { ok = false }
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

/// Writes a set of output files all-or-nothing: everything is staged in a hidden folder beside
/// the destination and moved into place only when every file was written.
public final class OutputStage {
    public let destination: String
    public let staging: String
    private var committed = false

    public init(destination: String) throws {
        self.destination = destination
        let parent = (destination as NSString).deletingLastPathComponent
        let base = (destination as NSString).lastPathComponent
        let parentDir = parent.isEmpty ? "." : parent
        // Host and process: tasks on several machines of a cluster may write into one shared folder.
        staging = (parentDir as NSString).appendingPathComponent(".\(base).staging-\(Self.hostName())-\(getpid())")
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        let name = String(cString: buffer).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return name.isEmpty ? "host" : name
    }

    public func path(_ name: String) -> String { (staging as NSString).appendingPathComponent(name) }

    public func write(_ data: Data, _ name: String) throws {
        let p = path(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: p))
    }
    public func write(_ text: String, _ name: String) throws { try write(Data(text.utf8), name) }

    /// Moves each staged file over its counterpart in the destination (files the destination
    /// already holds that this run did not write are left alone).
    public func commit() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        guard let e = fm.enumerator(atPath: staging) else { return }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: path(rel), isDirectory: &isDir), !isDir.boolValue { files.append(rel) }
        }
        for rel in files.sorted() {
            let target = (destination as NSString).appendingPathComponent(rel)
            try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if rename(path(rel), target) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target])
            }
        }
        try? fm.removeItem(atPath: staging)
        committed = true
    }

    deinit { if !committed { try? FileManager.default.removeItem(atPath: staging) } }
}

/// Parts handed from the threads that make them to the one that writes them, in order.
private final class PartQueue: @unchecked Sendable {  // all state behind `condition`
    private let condition = NSCondition()
    private var slots: [[UInt8]?]
    private var done = false
    private(set) var failed = false

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func put(_ k: Int, _ part: [UInt8]) {
        condition.lock(); slots[k] = part; condition.broadcast(); condition.unlock()
    }

    /// Waits for part `k` and takes it out (its memory goes once the caller has written it).
    func take(_ k: Int) -> [UInt8] {
        condition.lock(); defer { condition.unlock() }
        while slots[k] == nil { condition.wait() }
        let part = slots[k]!; slots[k] = nil
        return part
    }

    func fail() { condition.lock(); failed = true; condition.unlock() }
    func finish() { condition.lock(); done = true; condition.broadcast(); condition.unlock() }
    func waitFinished() { condition.lock(); while !done { condition.wait() }; condition.unlock() }
}

/// Writes `bytes` at `offset`, retrying partial writes.
func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Bool {
    bytes.withUnsafeBytes { b in
        var written = 0
        while written < b.count {
            let n = pwrite(fd, b.baseAddress! + written, b.count - written, off_t(offset + written))
            if n <= 0 { return false }
            written += n
        }
        return true
    }
}
