import CDNNL
import Foundation

/// A failed oneDNN call, named by the call and oneDNN's status.
public struct DNNLError: Error, CustomStringConvertible {
    public let call: String, status: dnnl_status_t
    public var description: String { "oneDNN \(call) failed (status \(status.rawValue))" }
}

@inline(__always) func check(_ status: dnnl_status_t, _ call: String) throws {
    guard status == dnnl_success else { throw DNNLError(call: call, status: status) }
}

/// One oneDNN CPU engine and stream, used by one thread at a time.
///
/// Debian's oneDNN runs its primitives on OpenMP threads. crowdlab instead runs each sample of a
/// batch on its own thread, each oneDNN call on one OpenMP thread, and sums the samples' gradients
/// in sample order, so a model trained with one thread or many is the same to the last bit (an
/// OpenMP reduction splits sums differently with the thread count).
final class DNNLContext {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    init() throws {
        DNNLContext.oneOpenMPThread()
        var e: dnnl_engine_t? = nil
        try check(dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        var s: dnnl_stream_t? = nil
        try check(dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        engine = e!; stream = s!
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// OpenMP's thread count is per calling thread: each thread that runs oneDNN sets it to one.
    /// libgomp comes with libdnnl, so its `omp_set_num_threads` is looked up at run time.
    static func oneOpenMPThread() {
        typealias SetThreads = @convention(c) (Int32) -> Void
        guard let symbol = dlsym(dlopen(nil, RTLD_LAZY), "omp_set_num_threads") else { return }
        unsafeBitCast(symbol, to: SetThreads.self)(1)
    }

    /// A plain memory descriptor (`nchw` activations, `oihw` weights, `x` biases) of float32.
    static func descriptor(_ dims: [Int], tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var d = dims.map { dnnl_dim_t($0) }
        try check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), &d, dnnl_f32, tag), "dnnl_memory_desc_init_by_tag")
        return md
    }

    /// Runs a primitive on the given buffers (argument id → descriptor and pointer), with its own scratchpad.
    func execute(_ p: Primitive, _ args: [(Int32, dnnl_memory_desc_t, UnsafeMutablePointer<Float>)]) throws {
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var execArgs: [dnnl_exec_arg_t] = []
        func add(_ id: Int32, _ md: dnnl_memory_desc_t, _ ptr: UnsafeMutableRawPointer) throws {
            var m: dnnl_memory_t? = nil
            var desc = md
            try check(dnnl_memory_create(&m, &desc, engine, ptr), "dnnl_memory_create")
            memories.append(m)
            execArgs.append(dnnl_exec_arg_t(arg: id, memory: m))
        }
        for (id, md, ptr) in args { try add(id, md, UnsafeMutableRawPointer(ptr)) }
        if let scratch = p.scratchpad { try add(DNNL_ARG_SCRATCHPAD, p.scratchpadMD, scratch) }
        try check(dnnl_primitive_execute(p.primitive, stream, Int32(execArgs.count), &execArgs), "dnnl_primitive_execute")
        try check(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }
}

/// A oneDNN primitive with its descriptor and its own scratchpad. oneDNN's default scratchpad is
/// shared by the library, which is not safe when primitives run on several threads at once; a
/// scratchpad per primitive ("user" mode) is.
final class Primitive {
    /// Held so the engine outlives the primitive.
    let context: DNNLContext
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    let scratchpadMD: dnnl_memory_desc_t
    let scratchpad: UnsafeMutableRawPointer?

    /// `desc` is an operation descriptor (convolution, eltwise); `hint` the forward primitive a backward one follows.
    convenience init(_ context: DNNLContext, _ desc: UnsafeRawPointer, hint: dnnl_primitive_desc_t?, what: String) throws {
        let pd = try Primitive.withUserScratchpad { attr in
            var made: dnnl_primitive_desc_t? = nil
            try check(dnnl_primitive_desc_create(&made, desc, attr, context.engine, hint), "dnnl_primitive_desc_create (\(what))")
            return made!
        }
        try self.init(context, pd: pd, what: what)
    }

    /// A reorder: the same tensor from one memory layout to another.
    convenience init(_ context: DNNLContext, reorderFrom from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) throws {
        var a = from, b = to
        let pd = try Primitive.withUserScratchpad { attr in
            var made: dnnl_primitive_desc_t? = nil
            try check(dnnl_reorder_primitive_desc_create(&made, &a, context.engine, &b, context.engine, attr), "dnnl_reorder_primitive_desc_create")
            return made!
        }
        try self.init(context, pd: pd, what: "reorder")
    }

    /// Takes ownership of `pd`.
    private init(_ context: DNNLContext, pd: dnnl_primitive_desc_t, what: String) throws {
        self.context = context
        self.pd = pd
        var p: dnnl_primitive_t? = nil
        try check(dnnl_primitive_create(&p, pd), "dnnl_primitive_create (\(what))")
        primitive = p!
        scratchpadMD = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0).pointee
        var md = scratchpadMD
        let size = dnnl_memory_desc_get_size(&md)
        scratchpad = size > 0 ? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64) : nil
    }

    private static func withUserScratchpad(_ make: (dnnl_primitive_attr_t?) throws -> dnnl_primitive_desc_t) throws -> dnnl_primitive_desc_t {
        var attr: dnnl_primitive_attr_t? = nil
        try check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        try check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "dnnl_primitive_attr_set_scratchpad_mode")
        return try make(attr)
    }

    /// The memory layout the primitive chose for one of its arguments.
    func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, index).pointee
    }

    deinit {
        scratchpad?.deallocate()
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }
}

/// A buffer of float32 laid out as a memory descriptor says (blocked layouts may pad channels).
final class Tensor {
    let md: dnnl_memory_desc_t
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ md: dnnl_memory_desc_t) {
        self.md = md
        var m = md
        count = max(1, dnnl_memory_desc_get_size(&m) / MemoryLayout<Float>.size)
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit { pointer.deallocate() }
}

func sameLayout(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
    var x = a, y = b
    return dnnl_memory_desc_equal(&x, &y) != 0
}

/// A 3x3 convolution (stride 1, padding 1) on one image of a given size: forward, backward to its
/// input, backward to its weights and bias, as oneDNN primitives made once for the size.
///
/// oneDNN chooses the layouts of the weights and of any activation not given (`dnnl_format_tag_any`):
/// its direct convolutions run on channel-blocked layouts (`nChw16c` on AVX-512), 2-3 times
/// faster than on plain `nchw`, which only its im2col path takes. The caller's weights stay `oihw`
/// (the parameters' order) and are reordered in and out here. The gradient to the weights also
/// chooses the layout it reads a given input in: on AVX2, oneDNN has no JIT kernel for it on a
/// plain two-channel image and falls back to its reference loop, about 400 times slower.
final class Conv3x3 {
    let context: DNNLContext
    /// The layouts of the input and output activations, as given or as chosen.
    let src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t
    private let bias: dnnl_memory_desc_t
    private let forwardP: Primitive, weightsP: Primitive, dataP: Primitive?
    /// Weights in each primitive's layout, and the reorders from and to the parameters' `oihw`.
    private let forwardWeights: Tensor, dataWeights: Tensor?, weightGradient: Tensor
    private let toForward: LayoutChange, toData: LayoutChange?, fromGradient: LayoutChange
    /// The input in the layout the gradient to the weights reads, when it differs from `src`.
    private let weightsInput: (tensor: Tensor, change: LayoutChange)?

    /// `src` and `dst`: the activations' layouts, nil to let oneDNN choose.
    init(_ context: DNNLContext, inputs: Int, outputs: Int, height: Int, width: Int,
         src given: dnnl_memory_desc_t?, dst wanted: dnnl_memory_desc_t?, needsInputGradient: Bool) throws {
        self.context = context
        let anyActivation = { (c: Int) in try DNNLContext.descriptor([1, c, height, width], tag: dnnl_format_tag_any) }
        var s = try given ?? anyActivation(inputs), d = try wanted ?? anyActivation(outputs)
        var w = try DNNLContext.descriptor([outputs, inputs, 3, 3], tag: dnnl_format_tag_any)
        var b = try DNNLContext.descriptor([outputs], tag: dnnl_x)
        let userWeights = try DNNLContext.descriptor([outputs, inputs, 3, 3], tag: dnnl_oihw)
        bias = b
        var strides: [dnnl_dim_t] = [1, 1], pad: [dnnl_dim_t] = [1, 1]
        var desc = dnnl_convolution_desc_t()
        try check(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &s, &w, &b, &d, &strides, &pad, &pad),
                  "dnnl_convolution_forward_desc_init")
        forwardP = try Primitive(context, &desc, hint: nil, what: "convolution")
        src = forwardP.md(dnnl_query_src_md); dst = forwardP.md(dnnl_query_dst_md)
        s = src; d = dst
        if needsInputGradient {
            var bd = dnnl_convolution_desc_t()
            try check(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &s, &w, &d, &strides, &pad, &pad),
                      "dnnl_convolution_backward_data_desc_init")
            dataP = try Primitive(context, &bd, hint: forwardP.pd, what: "convolution backward data")
        } else {
            dataP = nil
        }
        var bw = dnnl_convolution_desc_t()
        var ws = given == nil ? s : try anyActivation(inputs)
        try check(dnnl_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, &ws, &w, &b, &d, &strides, &pad, &pad),
                  "dnnl_convolution_backward_weights_desc_init")
        weightsP = try Primitive(context, &bw, hint: forwardP.pd, what: "convolution backward weights")
        let weightsSrc = weightsP.md(dnnl_query_src_md)
        if sameLayout(weightsSrc, src) {
            weightsInput = nil
        } else {
            weightsInput = (Tensor(weightsSrc), try LayoutChange(context, from: src, to: weightsSrc))
        }

        forwardWeights = Tensor(forwardP.md(dnnl_query_weights_md))
        toForward = try LayoutChange(context, from: userWeights, to: forwardWeights.md)
        if let dataP {
            let t = Tensor(dataP.md(dnnl_query_weights_md))
            dataWeights = t
            toData = try LayoutChange(context, from: userWeights, to: t.md)
        } else {
            dataWeights = nil; toData = nil
        }
        weightGradient = Tensor(weightsP.md(dnnl_query_diff_weights_md))
        fromGradient = try LayoutChange(context, from: weightGradient.md, to: userWeights)
    }

    func forward(_ x: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) throws {
        try toForward.run(w, into: forwardWeights.pointer, count: forwardWeights.count)
        try context.execute(forwardP, [(DNNL_ARG_SRC, src, x), (DNNL_ARG_WEIGHTS, forwardWeights.md, forwardWeights.pointer), (DNNL_ARG_BIAS, bias, b), (DNNL_ARG_DST, dst, y)])
    }

    /// The loss's gradient with respect to the input, from its gradient with respect to the output.
    func backwardData(_ dy: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>) throws {
        guard let dataP, let dataWeights, let toData else { preconditionFailure("made without the input gradient") }
        try toData.run(w, into: dataWeights.pointer, count: dataWeights.count)
        try context.execute(dataP, [(DNNL_ARG_DIFF_DST, dst, dy), (DNNL_ARG_WEIGHTS, dataWeights.md, dataWeights.pointer), (DNNL_ARG_DIFF_SRC, src, dx)])
    }

    /// The loss's gradient with respect to the weights (into the parameters' `oihw` order) and bias
    /// (overwritten, not accumulated).
    func backwardWeights(_ x: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>, into dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>) throws {
        let g = weightGradient
        var input = (md: src, pointer: x)
        if let (t, change) = weightsInput {
            try change.run(x, into: t.pointer, count: t.count)
            input = (t.md, t.pointer)
        }
        try context.execute(weightsP, [(DNNL_ARG_SRC, input.md, input.pointer), (DNNL_ARG_DIFF_DST, dst, dy), (DNNL_ARG_DIFF_WEIGHTS, g.md, g.pointer), (DNNL_ARG_DIFF_BIAS, bias, db)])
        try fromGradient.run(g.pointer, into: dw, count: g.count)
    }
}

/// ReLU on an activation in a given layout, forward and backward, as oneDNN eltwise primitives.
final class ReLU {
    let context: DNNLContext
    let data: dnnl_memory_desc_t
    private let forwardP: Primitive, backwardP: Primitive

    init(_ context: DNNLContext, layout: dnnl_memory_desc_t) throws {
        self.context = context
        data = layout
        var md = data
        var f = dnnl_eltwise_desc_t()
        try check(dnnl_eltwise_forward_desc_init(&f, dnnl_forward_training, dnnl_eltwise_relu, &md, 0, 0), "dnnl_eltwise_forward_desc_init")
        forwardP = try Primitive(context, &f, hint: nil, what: "relu")
        var b = dnnl_eltwise_desc_t()
        var diff = data
        try check(dnnl_eltwise_backward_desc_init(&b, dnnl_eltwise_relu, &diff, &md, 0, 0), "dnnl_eltwise_backward_desc_init")
        backwardP = try Primitive(context, &b, hint: forwardP.pd, what: "relu backward")
    }

    func forward(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) throws {
        try context.execute(forwardP, [(DNNL_ARG_SRC, data, x), (DNNL_ARG_DST, data, y)])
    }

    /// Gradient through the ReLU: `dx = dy` where the pre-activation `x` is positive, else 0.
    func backward(_ x: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>) throws {
        try context.execute(backwardP, [(DNNL_ARG_SRC, data, x), (DNNL_ARG_DIFF_DST, data, dy), (DNNL_ARG_DIFF_SRC, data, dx)])
    }
}

/// A reorder between two layouts of one tensor, from one buffer into another (a copy when they agree).
final class LayoutChange {
    let context: DNNLContext
    let from: dnnl_memory_desc_t, to: dnnl_memory_desc_t
    private let primitive: Primitive?

    init(_ context: DNNLContext, from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) throws {
        self.context = context; self.from = from; self.to = to
        primitive = sameLayout(from, to) ? nil : try Primitive(context, reorderFrom: from, to: to)
    }

    func run(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) throws {
        if let primitive {
            try context.execute(primitive, [(DNNL_ARG_FROM, from, x), (DNNL_ARG_TO, to, y)])
        } else {
            y.update(from: x, count: count)
        }
    }
}
