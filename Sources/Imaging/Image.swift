import CPNG
import Foundation

/// An image buffer, row-major with row 0 at the TOP (as PNG stores it). Samples are 16-bit so one
/// type serves 8- and 16-bit grey and RGB; `bitDepth` says how it is written.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// 8 or 16: the range of the samples (0...255 or 0...65535).
    public var bitDepth: Int
    public var samples: [UInt16]

    public init(width: Int, height: Int, channels: Int = 1, bitDepth: Int = 8, fill: UInt16 = 0) {
        precondition(channels == 1 || channels == 3)
        precondition(bitDepth == 8 || bitDepth == 16)
        self.width = width; self.height = height; self.channels = channels; self.bitDepth = bitDepth
        samples = [UInt16](repeating: fill, count: width * height * channels)
    }

    public var maxValue: UInt16 { bitDepth == 8 ? 255 : 65535 }

    @inline(__always) public func index(_ col: Int, _ row: Int) -> Int { (row * width + col) * channels }

    public subscript(col: Int, row: Int) -> UInt16 {
        get { samples[index(col, row)] }
        set { samples[index(col, row)] = newValue }
    }

    /// The same picture as 8-bit RGB, grey scaled so its 0.5 % and 99.5 % quantiles span the range,
    /// as a person would set the contrast before drawing overlays on it.
    public func rgb8ForDisplay() -> Image {
        var out = Image(width: width, height: height, channels: 3, bitDepth: 8)
        if channels == 3 && bitDepth == 8 { return self }
        // Grey as the sum of the channels, a whole number: its quantiles come from a histogram.
        let n = width * height
        let sums: [Int] = (0..<n).map { i in
            channels == 1 ? Int(samples[i]) : Int(samples[i * 3]) + Int(samples[i * 3 + 1]) + Int(samples[i * 3 + 2])
        }
        let scale = Double(channels == 1 ? 1 : 3)
        let grey = sums.map { Double($0) / scale }
        guard n > 0 else { return out }
        var counts = [Int](repeating: 0, count: (sums.max() ?? 0) + 1)
        for s in sums { counts[s] += 1 }
        /// The k-th smallest grey value (0-based), as a sort would give it.
        func orderStatistic(_ k: Int) -> Double {
            var seen = 0
            for (v, c) in counts.enumerated() { seen += c; if seen > k { return Double(v) / scale } }
            return Double(counts.count - 1) / scale
        }
        let lo = orderStatistic(Int(Double(n - 1) * 0.005)), hi = max(orderStatistic(Int(Double(n - 1) * 0.995)), lo + 1)
        for i in 0..<n {
            let v = UInt16(max(0, min(255, ((grey[i] - lo) / (hi - lo) * 255).rounded())))
            out.samples[i * 3] = v; out.samples[i * 3 + 1] = v; out.samples[i * 3 + 2] = v
        }
        return out
    }
}

public struct ImageError: Error, CustomStringConvertible {
    public let file: String, message: String
    public var description: String { "\(file): \(message)" }
    public init(file: String, message: String) { self.file = file; self.message = message }
}

/// PNG through libpng's simplified API (`png_image`), 8- or 16-bit, grey or RGB.
public enum PNG {
    public static func read(path: String) throws -> Image {
        // Errors name the file as the user gave it (with its folder), so they can find it.
        let name = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(file: name, message: "cannot be read")
        }
        return try decode(data, name: name)
    }

    /// The images of `names` found in the folder `dir`, by name; the names with no file there are
    /// returned apart, for the caller to count. A file that is there but unreadable is an error.
    public static func read(folder dir: String, names: [String]) throws -> (found: [String: Image], missing: [String]) {
        var found: [String: Image] = [:], missing: [String] = []
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path) { found[name] = try read(path: path) } else { missing.append(name) }
        }
        return (found, missing)
    }

    /// Decodes PNG bytes held in memory (an upload, say); `name` is for error messages.
    public static func decode(_ data: Data, name: String) throws -> Image {
        // libpng reads from the caller's memory until the image is finished: one borrow for both.
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> Image in
            var img = png_image()
            img.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&img, bytes.baseAddress, bytes.count) != 0 else {
                throw ImageError(file: name, message: "not a readable PNG (\(message(img)))")
            }
            defer { png_image_free(&img) }
            let isColor = (img.format & UInt32(PNG_FORMAT_FLAG_COLOR)) != 0
            // The IHDR bit depth sits at byte 24 of every PNG.
            let sixteen = (img.format & UInt32(PNG_FORMAT_FLAG_LINEAR)) != 0 || (bytes.count > 24 && bytes[24] == 16)
            let channels = isColor ? 3 : 1
            img.format = (isColor ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
            let w = Int(img.width), h = Int(img.height)
            var out = Image(width: w, height: h, channels: channels, bitDepth: sixteen ? 16 : 8)
            let ok: Int32
            if sixteen {
                var buf = [UInt16](repeating: 0, count: w * h * channels)
                ok = buf.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
                out.samples = buf
            } else {
                var buf = [UInt8](repeating: 0, count: w * h * channels)
                ok = buf.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
                out.samples = buf.map { UInt16($0) }
            }
            guard ok != 0 else { throw ImageError(file: name, message: message(img)) }
            return out
        }
    }

    /// Encodes to PNG bytes in memory; deterministic for the same image.
    public static func encode(_ image: Image) throws -> Data {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width); img.height = UInt32(image.height)
        img.format = (image.channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (image.bitDepth == 16 ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let bytes = image.bitDepth == 16 ? [] : image.samples.map { UInt8(truncatingIfNeeded: $0) }
        // Compressed once, into a buffer of libpng's upper bound; should a zlib exceed it, libpng
        // says the size it needs and the write is made again into that.
        var capacity = Int(crowdlab_png_size_max(&img))
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let written = out.withUnsafeMutableBytes { o in
                image.bitDepth == 16
                    ? image.samples.withUnsafeBytes { png_image_write_to_memory(&img, o.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
                    : bytes.withUnsafeBytes { png_image_write_to_memory(&img, o.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
            }
            if written != 0 { return Data(out.prefix(size)) }
            guard size > capacity else { break }
            capacity = size
            png_image_free(&img)
            img.warning_or_error = 0
        }
        throw ImageError(file: "<memory>", message: message(img))
    }

    static func message(_ img: png_image) -> String {
        var m = img.message
        return withUnsafeBytes(of: &m) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The IHDR bit depth, so 16-bit files are read without losing precision.
}

/// Overlay drawing on RGB images, in image coordinates (row from the top).
public extension Image {
    mutating func plot(_ col: Int, _ row: Int, _ rgb: (UInt16, UInt16, UInt16)) {
        guard col >= 0, row >= 0, col < width, row < height, channels == 3 else { return }
        let i = index(col, row)
        samples[i] = rgb.0; samples[i + 1] = rgb.1; samples[i + 2] = rgb.2
    }

    /// A straight segment between two points (image coordinates, row from the top).
    mutating func drawLine(_ x0: Double, _ r0: Double, _ x1: Double, _ r1: Double, _ rgb: (UInt16, UInt16, UInt16)) {
        let steps = max(1, Int(max(abs(x1 - x0), abs(r1 - r0)).rounded(.up)))
        for k in 0...steps {
            let t = Double(k) / Double(steps)
            plot(Int((x0 + (x1 - x0) * t).rounded()), Int((r0 + (r1 - r0) * t).rounded()), rgb)
        }
    }

    mutating func drawCross(x: Double, row: Double, arm: Int, _ rgb: (UInt16, UInt16, UInt16)) {
        let c = Int(x.rounded()), r = Int(row.rounded())
        for d in -arm...arm { plot(c + d, r, rgb); plot(c, r + d, rgb) }
    }

    mutating func drawCircle(x: Double, row: Double, radius: Double, _ rgb: (UInt16, UInt16, UInt16)) {
        let steps = max(16, Int(radius * 8))
        for k in 0..<steps {
            let a = Double(k) / Double(steps) * 2 * Double.pi
            plot(Int((x + radius * cos(a)).rounded()), Int((row + radius * sin(a)).rounded()), rgb)
        }
    }
}

/// Grey values as Doubles, row-major from the top: an RGB image as a person sees it, its luma
/// (ITU-R BT.709 weights on the stored values: green counts most, blue least), so a threshold or
/// a brightness read off a colour frame agrees with the eye. (Contrast, in `Visibility`, also
/// looks at each channel: an object can stand out by its colour alone.)
public extension Image {
    /// Whether every pixel's first three channels hold one value (a grey picture stored as RGB).
    var hasEqualChannels: Bool {
        guard channels >= 3 else { return true }
        for i in 0..<(width * height) where samples[i * channels] != samples[i * channels + 1] || samples[i * channels] != samples[i * channels + 2] { return false }
        return true
    }

    func greyValues() -> [Double] {
        if channels == 1 { return samples.map(Double.init) }
        return (0..<(width * height)).map { (i: Int) -> Double in
            let r = Double(samples[i * 3]), g = Double(samples[i * 3 + 1]), b = Double(samples[i * 3 + 2])
            return 0.2126 * r + 0.7152 * g + 0.0722 * b
        }
    }
}

/// Separable Gaussian blur of a grey field (edges clamped).
///
/// Each pass adds one kernel tap at a time to a whole row, so the inner loops run over contiguous
/// pixels without bounds checks and vectorise; every pixel still sums its taps in kernel order, so
/// the result is the plain convolution's to the bit.
public func gaussianBlur(_ v: [Double], width: Int, height: Int, sigma: Double) -> [Double] {
    precondition(v.count == width * height)
    let reach = max(1, Int((3 * sigma).rounded(.up)))
    var kernel = (-reach...reach).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let sum = kernel.reduce(0, +)
    kernel = kernel.map { $0 / sum }
    guard width > 0, height > 0 else { return v }
    var tmp = [Double](repeating: 0, count: v.count), out = tmp
    v.withUnsafeBufferPointer { src in
        tmp.withUnsafeMutableBufferPointer { dst in
            for r in 0..<height {
                let row = src.baseAddress! + r * width, acc = dst.baseAddress! + r * width
                for (j, kj) in kernel.enumerated() {
                    // Tap j reads column c + j − reach, clamped to the row's ends.
                    let shift = j - reach
                    let lo = min(width, max(0, -shift)), hi = max(lo, min(width, width - shift))
                    for c in 0..<lo { acc[c] += kj * row[0] }
                    for c in lo..<hi { acc[c] += kj * row[c + shift] }
                    for c in hi..<width { acc[c] += kj * row[width - 1] }
                }
            }
        }
    }
    tmp.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for r in 0..<height {
                let acc = dst.baseAddress! + r * width
                for (j, kj) in kernel.enumerated() {
                    let row = src.baseAddress! + min(max(r + j - reach, 0), height - 1) * width
                    for c in 0..<width { acc[c] += kj * row[c] }
                }
            }
        }
    }
    return out
}
