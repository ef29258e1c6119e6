import XCTest
@testable import Detection

/// The backward pass on oneDNN checked against finite differences of the loss.
final class FCRNGradientTests: XCTestCase {
    func testGradientMatchesFiniteDifferences() throws {
        let channels = 2, h = 7, w = 6
        var net = FCRN(channels: channels, seed: 3)
        // Biases off zero, so every ReLU sees both signs.
        for i in net.layout.b1 { net.parameters[i] = Float(i % 5) * 0.05 - 0.1 }
        for i in net.layout.b2 { net.parameters[i] = Float(i % 3) * 0.05 - 0.05 }
        let x = (0..<(channels * h * w)).map { Float(sin(Double($0) * 0.7)) }
        let target = (0..<(h * w)).map { Float(cos(Double($0) * 0.3)) }
        let ws = try FCRNWorkspace(channels: channels, height: h, width: w)
        var g = [Float](repeating: 0, count: net.parameters.count)
        let loss = try ws.lossAndGradient(net, x, target: target, into: &g)
        XCTAssertGreaterThan(loss, 0)
        let l = net.layout
        var checked = 0
        for range in [l.w1, l.b1, l.w2, l.b2, l.w3, l.b3] {
            for i in stride(from: range.lowerBound, to: range.upperBound, by: max(1, range.count / 7)) {
                let eps: Float = 2e-3
                var plus = net, minus = net
                plus.parameters[i] += eps; minus.parameters[i] -= eps
                var scratch = g
                let lp = try ws.lossAndGradient(plus, x, target: target, into: &scratch)
                let lm = try ws.lossAndGradient(minus, x, target: target, into: &scratch)
                let numeric = (lp - lm) / Double(2 * eps)
                XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 + 0.03 * abs(numeric), "parameter \(i)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }
}
