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

    /// Writes byte chunks in order to a temporary file, then renames it over `path`. The file is
    /// sized first and written in as many contiguous parts as there are cores, in parallel
    /// (`pwritev` at each part's offset), so the kernel's copying is shared out too.
    public static func write(chunks: [[UInt8]], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        var offsets = [Int](repeating: 0, count: chunks.count + 1)
        for (i, c) in chunks.enumerated() { offsets[i + 1] = offsets[i] + c.count }
        let total = offsets.last!
        var ok = ftruncate(fd, off_t(total)) == 0
        if ok && total > 0 {
            let parts = max(1, min(Parallelism.maxThreads == 0 ? ProcessInfo.processInfo.activeProcessorCount : Parallelism.maxThreads, chunks.count))
            // Part boundaries at chunk edges, near equal bytes.
            var bounds = [0]
            var k = 0
            for p in 1..<parts {
                let target = total * p / parts
                while k < chunks.count && offsets[k] < target { k += 1 }
                bounds.append(max(bounds.last!, k))
            }
            bounds.append(chunks.count)
            let partBounds = bounds, chunkOffsets = offsets
            let results: [Bool] = Array(0..<parts).parallelMap { p in
                var i = partBounds[p]
                while i < partBounds[p + 1] {
                    let end = min(i + 512, partBounds[p + 1])
                    if !writeAll(fd, Array(chunks[i..<end]), at: chunkOffsets[i]) { return false }
                    i = end
                }
                return true
            }
            ok = results.allSatisfy { $0 }
        }
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
        staging = (parentDir as NSString).appendingPathComponent(".\(base).staging-\(getpid())")
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
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

/// Calls `body` with iovecs pointing at the chunks' storage (valid only inside `body`).
func withIOVecs<R>(_ chunks: [[UInt8]], _ body: ([iovec]) -> R) -> R {
    func go(_ k: Int, _ acc: [iovec]) -> R {
        if k == chunks.count { return body(acc) }
        return chunks[k].withUnsafeBufferPointer { b in
            go(k + 1, acc + [iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count)])
        }
    }
    return go(0, [])
}


/// Writes a file from byte chunks on a background thread while the caller produces the next ones
/// (encoding and the kernel's copying overlap), then renames the temporary file into place.
public final class StreamingWriter: @unchecked Sendable {
    let path: String, tmp: String
    let fd: Int32
    let queue = DispatchQueue(label: "crowdlab.writer")
    var failed = false

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// Queues chunks for writing (gather writes of up to 512 chunks, no copy into one buffer).
    public func append(_ chunks: [[UInt8]]) {
        queue.async { [self] in
            var i = 0
            while !failed && i < chunks.count {
                let batch = Array(chunks[i..<min(i + 512, chunks.count)])
                let total = batch.reduce(0) { $0 + $1.count }
                var written = 0
                let ok = withIOVecs(batch) { iov -> Bool in
                    while written < total {
                        var skip = written, first = 0
                        var local = iov
                        while first < local.count && skip >= local[first].iov_len { skip -= local[first].iov_len; first += 1 }
                        if first < local.count { local[first].iov_base = local[first].iov_base.map { $0 + skip }; local[first].iov_len -= skip }
                        let n = local[first...].withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
                        if n <= 0 { return false }
                        written += n
                    }
                    return true
                }
                if !ok { failed = true }
                i += 512
            }
        }
    }

    /// Waits for the queued writes, closes and renames; on any failure removes the temporary file.
    public func finish() throws {
        queue.sync {}
        let closed = close(fd) == 0
        guard !failed, closed, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    deinit { }
}

/// Writes the chunks contiguously at `offset` with gather writes, retrying partial writes.
func writeAll(_ fd: Int32, _ chunks: [[UInt8]], at offset: Int) -> Bool {
    let total = chunks.reduce(0) { $0 + $1.count }
    var written = 0
    return withIOVecs(chunks) { iov -> Bool in
        while written < total {
            var skip = written, first = 0
            var local = iov
            while first < local.count && skip >= local[first].iov_len { skip -= local[first].iov_len; first += 1 }
            if first < local.count { local[first].iov_base = local[first].iov_base.map { $0 + skip }; local[first].iov_len -= skip }
            let n = local[first...].withUnsafeBufferPointer { pwritev(fd, $0.baseAddress, Int32($0.count), off_t(offset + written)) }
            if n <= 0 { return false }
            written += n
        }
        return true
    }
}
