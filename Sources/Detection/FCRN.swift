import CDNNL
import Foundation
import Randomness

/// The fully-convolutional regression network (FCRN) of the Quanti.us paper's Fig. 2d (Hughes et
/// al., Nature Methods 15:587, 2018, after Xie, Noble and Zisserman, "Microscopy cell counting and
/// detection with fully convolutional regression networks", 2016): three 3x3 convolutions with
/// padding 1, channels → 32 → 32 → 1, ReLU after the first two. It maps an image to a density with
/// a Gaussian bump at every object; objects are its local maxima above a threshold.
///
/// The parameters are one flat array in a fixed order (w1, b1, w2, b2, w3, b3; weights `oihw`),
/// which is what SGD updates and what the model file holds.
public struct FCRN: Sendable, Equatable {
    public static let hidden = 32
    public let channels: Int
    public var parameters: [Float]

    /// Where each tensor lies in `parameters`.
    struct Layout: Sendable, Equatable {
        let w1: Range<Int>, b1: Range<Int>, w2: Range<Int>, b2: Range<Int>, w3: Range<Int>, b3: Range<Int>
        init(channels c: Int) {
            let h = FCRN.hidden
            var at = 0
            func next(_ n: Int) -> Range<Int> { defer { at += n }; return at..<(at + n) }
            w1 = next(h * c * 9); b1 = next(h); w2 = next(h * h * 9); b2 = next(h); w3 = next(h * 9); b3 = next(1)
        }
        var count: Int { b3.upperBound }
        /// The ranges weight decay applies to (weights, not biases).
        var weights: [Range<Int>] { [w1, w2, w3] }
    }

    var layout: Layout { Layout(channels: channels) }
    public static func parameterCount(channels: Int) -> Int { Layout(channels: channels).count }

    /// A fresh network: He initialisation (normal, σ = √(2 / fan-in)) for the layers followed by a
    /// ReLU, Xavier (σ = √(2 / (fan-in + fan-out))) for the linear output layer, biases zero.
    public init(channels: Int, seed: UInt64) {
        self.channels = channels
        let l = Layout(channels: channels)
        var p = [Float](repeating: 0, count: l.count)
        let rng = SeededRandom(seed: SeededRandom.derive(seed, 0xFC_0001))
        let h = Double(FCRN.hidden)
        for (range, sigma) in [(l.w1, (2 / (9 * Double(channels))).squareRoot()), (l.w2, (2 / (9 * h)).squareRoot()), (l.w3, (2 / (9 * h + 9)).squareRoot())] {
            for i in range { p[i] = Float(rng.gaussian(sigma: sigma)) }
        }
        parameters = p
    }

    public init(channels: Int, parameters: [Float]) {
        precondition(parameters.count == FCRN.parameterCount(channels: channels))
        self.channels = channels; self.parameters = parameters
    }
}

/// The network's layers and buffers for one image size, on one thread: a forward pass, and the
/// gradient of the L2 loss for one image and its target. The hidden activations stay in the
/// layouts oneDNN chose for them (`Conv3x3`); the image comes in and the density goes out plain,
/// row-major.
final class FCRNWorkspace {
    let channels: Int, height: Int, width: Int
    private let context: DNNLContext
    private let conv1: Conv3x3, conv2: Conv3x3, conv3: Conv3x3
    private let relu1: ReLU, relu2: ReLU
    private let a1: Tensor, h1: Tensor, da1: Tensor, dh1: Tensor
    private let a2: Tensor, h2: Tensor, da2: Tensor, dh2: Tensor
    private let y: Tensor, dy: Tensor
    private let outputToPlain: LayoutChange, plainToOutput: LayoutChange
    private var plain: [Float], plainGradient: [Float]

    init(channels: Int, height: Int, width: Int) throws {
        self.channels = channels; self.height = height; self.width = width
        context = try DNNLContext()
        let h = FCRN.hidden
        conv2 = try Conv3x3(context, inputs: h, outputs: h, height: height, width: width, src: nil, dst: nil, needsInputGradient: true)
        conv1 = try Conv3x3(context, inputs: channels, outputs: h, height: height, width: width,
                            src: DNNLContext.descriptor([1, channels, height, width], tag: dnnl_nchw), dst: conv2.src, needsInputGradient: false)
        conv3 = try Conv3x3(context, inputs: h, outputs: 1, height: height, width: width, src: conv2.dst, dst: nil, needsInputGradient: true)
        relu1 = try ReLU(context, layout: conv2.src)
        relu2 = try ReLU(context, layout: conv2.dst)
        a1 = Tensor(conv2.src); h1 = Tensor(conv2.src); da1 = Tensor(conv2.src); dh1 = Tensor(conv2.src)
        a2 = Tensor(conv2.dst); h2 = Tensor(conv2.dst); da2 = Tensor(conv2.dst); dh2 = Tensor(conv2.dst)
        y = Tensor(conv3.dst); dy = Tensor(conv3.dst)
        let plainOutput = try DNNLContext.descriptor([1, 1, height, width], tag: dnnl_nchw)
        outputToPlain = try LayoutChange(context, from: conv3.dst, to: plainOutput)
        plainToOutput = try LayoutChange(context, from: plainOutput, to: conv3.dst)
        plain = [Float](repeating: 0, count: height * width); plainGradient = plain
    }

    /// The network's output (one density per pixel, row-major) for a planar image `x` (channel, row, column).
    func forward(_ net: FCRN, _ x: [Float]) throws -> [Float] {
        var p = net.parameters, x = x
        let l = net.layout
        try p.withUnsafeMutableBufferPointer { pb in
            try x.withUnsafeMutableBufferPointer { xb in try run(pb.baseAddress!, l, xb.baseAddress!) }
        }
        return plain
    }

    /// The forward pass; leaves the output in `plain`.
    private func run(_ p: UnsafeMutablePointer<Float>, _ l: FCRN.Layout, _ x: UnsafeMutablePointer<Float>) throws {
        try conv1.forward(x, p + l.w1.lowerBound, p + l.b1.lowerBound, into: a1.pointer)
        try relu1.forward(a1.pointer, into: h1.pointer)
        try conv2.forward(h1.pointer, p + l.w2.lowerBound, p + l.b2.lowerBound, into: a2.pointer)
        try relu2.forward(a2.pointer, into: h2.pointer)
        try conv3.forward(h2.pointer, p + l.w3.lowerBound, p + l.b3.lowerBound, into: y.pointer)
        let count = plain.count
        try plain.withUnsafeMutableBufferPointer { try outputToPlain.run(y.pointer, into: $0.baseAddress!, count: count) }
    }

    /// The L2 loss `½ · mean over pixels of (output − target)²` for one image, and its gradient
    /// with respect to every parameter (written into `gradient`, in the parameters' order).
    func lossAndGradient(_ net: FCRN, _ x: [Float], target: [Float], into gradient: inout [Float]) throws -> Double {
        var p = net.parameters, x = x
        let l = net.layout
        let n = Float(height * width)
        var loss = 0.0
        try p.withUnsafeMutableBufferPointer { pb in
            try x.withUnsafeMutableBufferPointer { xb in
                let p = pb.baseAddress!, x = xb.baseAddress!
                try run(p, l, x)
                for i in 0..<plain.count {
                    let e = plain[i] - target[i]
                    loss += Double(e) * Double(e)
                    plainGradient[i] = e / n
                }
                let count = plainGradient.count
                try plainGradient.withUnsafeMutableBufferPointer { try plainToOutput.run($0.baseAddress!, into: dy.pointer, count: count) }
                try gradient.withUnsafeMutableBufferPointer { gb in
                    let g = gb.baseAddress!
                    try conv3.backwardWeights(h2.pointer, dy.pointer, into: g + l.w3.lowerBound, g + l.b3.lowerBound)
                    try conv3.backwardData(dy.pointer, p + l.w3.lowerBound, into: dh2.pointer)
                    try relu2.backward(a2.pointer, dh2.pointer, into: da2.pointer)
                    try conv2.backwardWeights(h1.pointer, da2.pointer, into: g + l.w2.lowerBound, g + l.b2.lowerBound)
                    try conv2.backwardData(da2.pointer, p + l.w2.lowerBound, into: dh1.pointer)
                    try relu1.backward(a1.pointer, dh1.pointer, into: da1.pointer)
                    try conv1.backwardWeights(x, da1.pointer, into: g + l.w1.lowerBound, g + l.b1.lowerBound)
                }
            }
        }
        return 0.5 * loss / Double(n)
    }
}
