import Consensus
import Foundation
import Imaging

/// An image as the network reads it: chosen channels, planar (channel, row, column), samples
/// scaled to 0…1 by the image's bit depth.
public struct DetectorImage: Sendable {
    public var name: String
    public var width: Int, height: Int, channels: Int
    public var planes: [Float]

    /// `selection` picks channels of the PNG (0-based: grey has 0, RGB 0-2); nil takes them all.
    public init(_ image: Image, name: String, selection: [Int]?) throws {
        let picked = selection ?? Array(0..<image.channels)
        for c in picked where !(0..<image.channels).contains(c) {
            throw InputError(file: name, field: "channels", message: "has \(image.channels) channel(s); channel \(c) was asked for")
        }
        self.name = name; width = image.width; height = image.height; channels = picked.count
        let scale = 1 / Float(image.maxValue), n = width * height
        var planes = [Float](repeating: 0, count: channels * n)
        for (k, c) in picked.enumerated() {
            for i in 0..<n { planes[k * n + i] = Float(image.samples[i * image.channels + c]) * scale }
        }
        self.planes = planes
    }

    /// An image already planar and scaled (a benchmark's, a test's).
    public init(planar planes: [Float], name: String, width: Int, height: Int, channels: Int) throws {
        guard planes.count == width * height * channels else { throw InputError(file: name, message: "\(planes.count) samples for \(channels) x \(width) x \(height)") }
        self.init(name: name, width: width, height: height, channels: channels, planes: planes)
    }

    init(name: String, width: Int, height: Int, channels: Int, planes: [Float]) {
        self.name = name; self.width = width; self.height = height; self.channels = channels; self.planes = planes
    }

    /// Each channel shifted and scaled: `(x − mean) / sd`.
    func normalised(_ n: Normalisation) -> DetectorImage {
        var out = self
        let size = width * height
        for c in 0..<channels {
            let m = n.mean[c], s = n.sd[c]
            for i in (c * size)..<((c + 1) * size) { out.planes[i] = (planes[i] - m) / s }
        }
        return out
    }

    /// A window of the image, optionally mirrored left-right and top-bottom.
    func crop(col: Int, row: Int, width w: Int, height h: Int, flipX: Bool, flipY: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: channels * w * h)
        let size = width * height
        for c in 0..<channels {
            for r in 0..<h {
                let sr = row + (flipY ? h - 1 - r : r)
                for q in 0..<w {
                    let sc = col + (flipX ? w - 1 - q : q)
                    out[c * w * h + r * w + q] = planes[c * size + sr * width + sc]
                }
            }
        }
        return out
    }
}

/// Per-channel mean and standard deviation of the training images, applied to every input.
public struct Normalisation: Sendable, Codable, Equatable {
    public var mean: [Float]
    public var sd: [Float]

    public static func of(_ images: [DetectorImage]) -> Normalisation {
        let channels = images.first?.channels ?? 1
        var mean = [Float](), sd = [Float]()
        for c in 0..<channels {
            var s = 0.0, s2 = 0.0, n = 0.0
            for im in images {
                let size = im.width * im.height
                for i in (c * size)..<((c + 1) * size) { let v = Double(im.planes[i]); s += v; s2 += v * v }
                n += Double(size)
            }
            let m = s / max(1, n)
            mean.append(Float(m)); sd.append(Float(max(1e-6, (s2 / max(1, n) - m * m).squareRoot())))
        }
        return Normalisation(mean: mean, sd: sd)
    }
}

/// Object centres per image: `image,col,row` (file name, column, row from the top, in pixels), or
/// a crowdlab consensus (`consensus.csv`: `image,x,y,…`, `y` from the bottom edge as the Quanti.us
/// export has it), turned into rows once the images' heights are known (`inRows`).
public struct PointLabels: Sendable {
    public var byImage: [String: [(col: Double, row: Double)]]
    /// Further columns of each row (a prediction's `score`), by image, in row order.
    public var scores: [String: [Double]] = [:]
    /// Read from `x,y` columns: the second coordinate is `y` from the bottom edge, not yet a row.
    public var yFromBottom = false
    /// The file it was read from, for errors.
    public var source = ""

    public init(byImage: [String: [(col: Double, row: Double)]]) { self.byImage = byImage }

    /// The labels in image rows: `y` from the bottom turned into `height − y` (pixel centres, as
    /// crowdlab's exports and consensus write them). Labels already in rows are returned as they are.
    public func inRows(heights: [String: Int]) throws -> PointLabels {
        guard yFromBottom else { return self }
        var out = self
        out.yFromBottom = false
        for (image, points) in byImage {
            guard let h = heights[image] else { throw InputError(file: source, field: "image", message: "image \(image) is not among the images, so its y (from the bottom) cannot be turned into a row") }
            out.byImage[image] = points.map { ($0.col, Double(h) - $0.row) }
        }
        return out
    }

    /// Reads a points CSV; a bad row is a one-line error naming the file, line and field.
    public static func read(path: String) throws -> PointLabels {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, message: "cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: path, message: "not UTF-8 text") }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        while let l = lines.last, l.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let header = lines.first else { throw InputError(file: path, message: "empty: expected a header image,col,row") }
        let cols = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ name: String) throws -> Int {
            guard let i = cols.firstIndex(of: name) else { throw InputError(file: path, record: 1, field: name, message: "header has no '\(name)' column (expected image,col,row, or a consensus.csv's image,x,y)", unit: "line") }
            return i
        }
        // A consensus.csv (`image,x,y,…`) holds y from the bottom edge; a points file rows from the top.
        let fromBottom = !cols.contains("col") && cols.contains("x") && cols.contains("y")
        let ci = try column("image"), xi = try column(fromBottom ? "x" : "col"), yi = try column(fromBottom ? "y" : "row"), si = cols.firstIndex(of: "score")
        var out = PointLabels(byImage: [:])
        out.yFromBottom = fromBottom
        out.source = path
        for (k, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func number(_ i: Int, _ name: String) throws -> Double {
                guard i < f.count, let v = Double(f[i]), v.isFinite else {
                    throw InputError(file: path, record: k + 1, field: name, message: "not a number: '\(i < f.count ? f[i] : "")'", unit: "line")
                }
                return v
            }
            guard ci < f.count, !f[ci].isEmpty else { throw InputError(file: path, record: k + 1, field: "image", message: "no image name", unit: "line") }
            let x = try number(xi, fromBottom ? "x" : "col"), y = try number(yi, fromBottom ? "y" : "row")
            out.byImage[f[ci], default: []].append((x, y))
            if let si { out.scores[f[ci], default: []].append(try number(si, "score")) }
        }
        return out
    }
}

/// Loads every PNG of a folder, in name order, as the network reads it.
public func detectorImages(folder: String, selection: [Int]?) throws -> [DetectorImage] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
        throw InputError(file: folder, message: "is not a folder that can be read")
    }
    let pngs = names.filter { $0.lowercased().hasSuffix(".png") }.sorted()
    guard !pngs.isEmpty else { throw InputError(file: folder, message: "holds no PNG images") }
    return try pngs.map { name in
        let path = (folder as NSString).appendingPathComponent(name)
        return try DetectorImage(try PNG.read(path: path), name: name, selection: selection)
    }
}

/// The regression target of an image: a Gaussian bump of height `peak` and spread `sigma` at every
/// labelled centre, summed where they overlap.
public func densityTarget(width: Int, height: Int, points: [(col: Double, row: Double)], sigma: Double, peak: Double) -> [Float] {
    var out = [Float](repeating: 0, count: width * height)
    let reach = Int((3 * sigma).rounded(.up))
    for p in points {
        let c0 = Int(p.col.rounded()), r0 = Int(p.row.rounded())
        // A centre off the image by more than the bump's reach leaves nothing on it.
        guard r0 + reach >= 0, r0 - reach < height, c0 + reach >= 0, c0 - reach < width else { continue }
        for r in max(0, r0 - reach)...min(height - 1, r0 + reach) {
            for c in max(0, c0 - reach)...min(width - 1, c0 + reach) {
                let d2 = (Double(c) - p.col) * (Double(c) - p.col) + (Double(r) - p.row) * (Double(r) - p.row)
                out[r * width + c] += Float(peak * exp(-d2 / (2 * sigma * sigma)))
            }
        }
    }
    return out
}
