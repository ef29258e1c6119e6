import Foundation

/// Where matched clicks fall from their true objects (click − truth, `y` up), summed. Their mean is
/// the truth's convention or the crowd's shared bias (an expert's 1-based pixel indices put every
/// object a pixel right and down); a worker's pointing error is their spread about it.
public struct Displacements: Sendable {
    public private(set) var count = 0
    private var sumX = 0.0, sumY = 0.0, sumSquares = 0.0
    public init() {}

    public mutating func append(_ x: Double, _ y: Double) {
        count += 1; sumX += x; sumY += y; sumSquares += x * x + y * y
    }

    public mutating func append(_ other: Displacements) {
        count += other.count; sumX += other.sumX; sumY += other.sumY; sumSquares += other.sumSquares
    }

    /// The mean displacement (nil for none). The matching pairs each click with its nearest free
    /// object and strays within the radius count too, so a truth shifted by a pixel moves it by
    /// most of a pixel, not all of it.
    public var offset: (x: Double, y: Double)? {
        count == 0 ? nil : (sumX / Double(count), sumY / Double(count))
    }

    /// The sum of squared distances about `o`: `Σ|d|² − 2 o·Σd + n|o|²`.
    public func squaredDistance(about o: (x: Double, y: Double)) -> Double {
        max(0, sumSquares - 2 * (o.x * sumX + o.y * sumY) + Double(count) * (o.x * o.x + o.y * o.y))
    }
}
