import Foundation

/// How many threads parallel work may use: 0 means all cores. Benchmarks set 1 to measure one core;
/// results never depend on it.
public enum Parallelism {
    private static let setting = LockedInt()
    public static var maxThreads: Int {
        get { setting.value }
        set { setting.value = newValue }
    }
}

/// An integer read and written from any thread under a lock.
private final class LockedInt: @unchecked Sendable {  // `stored` only under `lock`
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

extension Array where Element: Sendable {
    /// Maps on all cores; each result lands at its own index, so the output is the same
    /// whatever the number of threads.
    public func parallelMap<T: Sendable>(_ transform: @Sendable (Element) -> T) -> [T] {
        if count < 2 || Parallelism.maxThreads == 1 { return map(transform) }
        let box = ResultBox<T>(count: count)
        let input = self
        DispatchQueue.concurrentPerform(iterations: count) { i in
            box.set(i, transform(input[i]))
        }
        return box.values()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); storage[i] = v; lock.unlock() }
    func values() -> [T] { storage.map { $0! } }
}
