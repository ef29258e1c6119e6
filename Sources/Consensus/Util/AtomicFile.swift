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
