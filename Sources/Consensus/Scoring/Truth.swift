import Foundation

/// True object positions of one image, already in the export's coordinates (`y` from the bottom).
public struct TruthPoints: Sendable {
    public var xs: [Double]
    public var ys: [Double]
    public var snr: [Double]?
    public var source: String
    /// Rows of kind `pore` or `distractor`: things that look like objects but are not (not scored).
    public var distractorXs: [Double] = []
    public var distractorYs: [Double] = []
    public var count: Int { xs.count }

    public init(xs: [Double], ys: [Double], snr: [Double]?, source: String, distractorXs: [Double] = [], distractorYs: [Double] = []) {
        self.xs = xs; self.ys = ys; self.snr = snr; self.source = source
        self.distractorXs = distractorXs; self.distractorYs = distractorYs
    }
}

/// Kinds in a truth file's `kind` column that are not objects to find.
public let distractorKinds: Set<String> = ["pore", "distractor"]

/// Truth for a job: which images have it, and what could not be matched (reported, not dropped).
public struct TruthSet: Sendable {
    public var byImage: [String: TruthPoints]
    public var imagesWithoutTruth: [String]
    public var unusedTruthFiles: [String]

    public init(byImage: [String: TruthPoints], imagesWithoutTruth: [String] = [], unusedTruthFiles: [String] = []) {
        self.byImage = byImage; self.imagesWithoutTruth = imagesWithoutTruth; self.unusedTruthFiles = unusedTruthFiles
    }

    /// Loads `--truth PATH`: a folder of CSVs (`col,row[,snr]`, image coordinates) matched to images
    /// by name, or one CSV for one image: the export's only image, the image `image` names
    /// (`--truth-image`: an expert labelled one image of a job), or the one image whose name
    /// matches the file's. The other images are analysed without truth and listed as such. Row is
    /// counted from the top in the truth files and `y` from the bottom in the clicks, so a truth
    /// point becomes `x = col`, `y = height - row`.
    public static func load(path: String, export: QuantiusExport, image: String? = nil) throws -> TruthSet {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw InputError(file: path, message: "truth path does not exist")
        }
        let images = export.imageNames
        var heights: [String: Int] = [:]
        for r in export.records where heights[r.imageFilename] == nil { heights[r.imageFilename] = r.height }
        if !isDir.boolValue {
            let owner = try imageOfSingleFile(path, images: images, named: image)
            let t = try readTruthCSV(path: path, height: Double(heights[owner]!))
            return TruthSet(byImage: [owner: t], imagesWithoutTruth: images.filter { $0 != owner }, unusedTruthFiles: [])
        }
        if image != nil {
            throw InputError(file: "--truth-image", message: "names the image of a single truth CSV, but \(path) is a folder (its files are matched to images by name)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".csv") }.sorted()
        var byKey: [String: String] = [:]
        for f in files { byKey[truthKey(f)] = f }
        var out: [String: TruthPoints] = [:]
        var missing: [String] = []
        var used = Set<String>()
        for im in images {
            guard let f = imageKeys(im).lazy.compactMap({ byKey[$0] }).first else { missing.append(im); continue }
            used.insert(f)
            out[im] = try readTruthCSV(path: (path as NSString).appendingPathComponent(f), height: Double(heights[im]!))
        }
        return TruthSet(byImage: out, imagesWithoutTruth: missing, unusedTruthFiles: files.filter { !used.contains($0) })
    }

    /// The image a single truth CSV belongs to (see `load`).
    static func imageOfSingleFile(_ path: String, images: [String], named: String?) throws -> String {
        let file = (path as NSString).lastPathComponent
        if let named {
            guard images.contains(named) else {
                let listed = images.prefix(5).joined(separator: ", ") + (images.count > 5 ? ", …" : "")
                throw InputError(file: "--truth-image", message: "no image \"\(named)\" in the export (it has \(images.count): \(listed))")
            }
            return named
        }
        if images.count == 1 { return images[0] }
        let byName = images.filter { imageKeys($0).contains(truthKey(file)) }
        guard byName.count == 1 else {
            throw InputError(file: file, message: "a single truth CSV is for one image, but the export has \(images.count) images and the file's name matches \(byName.isEmpty ? "none" : "\(byName.count)") of them; pass a folder of truth files, or --truth-image NAME for the image it belongs to")
        }
        return byName[0]
    }

    /// `…snr10_2.5_coord_snr_list.csv` → `…snr10_2.5`; `img1_truth.csv` → `img1`; `img1.csv` → `img1`.
    public static func truthKey(_ file: String) -> String {
        var s = String(file.dropLast(4))
        for suffix in ["_coord_snr_list", "_truth"] where s.hasSuffix(suffix) { s = String(s.dropLast(suffix.count)); break }
        return s
    }

    /// Names an image's truth file may carry: its stem, and the stem up to `spot_img`/`_spot_img`
    /// (`…snr10_2.5spot_img.png` → `…snr10_2.5`), as the Quanti.us data sets name them.
    public static func imageKeys(_ image: String) -> [String] {
        var stem = image
        if let dot = stem.lastIndex(of: ".") { stem = String(stem[..<dot]) }
        var keys = [stem]
        for suffix in ["_spot_img", "spot_img", "_spots", "_img"] where stem.hasSuffix(suffix) {
            keys.append(String(stem.dropLast(suffix.count)))
        }
        return keys
    }
}

/// Reads a truth CSV with a header naming `col` and `row` (and optionally `snr`), any order,
/// extra columns ignored. Each problem names the file, line and column.
public func readTruthCSV(path: String, height: Double) throws -> TruthPoints {
    let name = (path as NSString).lastPathComponent
    if let fast = fastTruthCSV(path: path, name: name, height: height) { return fast }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw InputError(file: name, message: "cannot read truth file as UTF-8 text")
    }
    return try parseTruthCSV(text: text, name: name, height: height)
}

/// Parses truth CSV text (an upload, say) as `readTruthCSV` reads a file; `name` is for errors.
public func parseTruthCSV(text: String, name: String, height: Double) throws -> TruthPoints {
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    while let l = lines.last, l.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
    guard let header = lines.first else { throw InputError(file: name, message: "empty truth file") }
    let cols = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    guard let ci = cols.firstIndex(of: "col") else { throw InputError(file: name, record: 1, field: "col", message: "header has no 'col' column", unit: "line") }
    guard let ri = cols.firstIndex(of: "row") else { throw InputError(file: name, record: 1, field: "row", message: "header has no 'row' column", unit: "line") }
    let si = cols.firstIndex(of: "snr")
    let ki = cols.firstIndex(of: "kind")
    var xs: [Double] = [], ys: [Double] = [], snr: [Double] = []
    var dx: [Double] = [], dy: [Double] = []
    for (k, line) in lines.enumerated().dropFirst() {
        let fields = line.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { f -> Substring in
            // Trim spaces, tabs and CR by hand: Foundation's trimming costs more than the parse.
            var t = f[...]
            while let c = t.first, c == 0x20 || c == 0x09 || c == 0x0D { t = t.dropFirst() }
            while let c = t.last, c == 0x20 || c == 0x09 || c == 0x0D { t = t.dropLast() }
            return Substring(t)
        }
        func value(_ i: Int, _ field: String) throws -> Double {
            guard i < fields.count else {
                throw InputError(file: name, record: k + 1, field: field, message: "missing value (line has \(fields.count) fields)", unit: "line")
            }
            guard let v = Double(fields[i]), v.isFinite else {
                throw InputError(file: name, record: k + 1, field: field, message: "not a finite number: \"\(fields[i])\"", unit: "line")
            }
            return v
        }
        let col = try value(ci, "col"), row = try value(ri, "row")
        if let ki, ki < fields.count, distractorKinds.contains(fields[ki].lowercased()) {
            dx.append(col); dy.append(height - row); continue
        }
        xs.append(col); ys.append(height - row)
        if let si { snr.append(try value(si, "snr")) }
    }
    return TruthPoints(xs: xs, ys: ys, snr: si == nil ? nil : snr, source: name, distractorXs: dx, distractorYs: dy)
}

/// The common case read quickly: a header naming col and row (and snr, kind), then lines of plain
/// numbers parsed in place with strtod. Anything unusual returns nil and the careful reader above
/// handles it (and words any error).
func fastTruthCSV(path: String, name: String, height: Double) -> TruthPoints? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    var bytes = [CChar](repeating: 0, count: data.count + 1)
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        bytes.withUnsafeMutableBytes { dst in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<data.count])) }
    }
    guard let nl = bytes.firstIndex(of: 0x0A) else { return nil }
    let header = String(decoding: data.prefix(nl), as: UTF8.self).split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
    guard let ci = header.firstIndex(of: "col"), let ri = header.firstIndex(of: "row") else { return nil }
    let si = header.firstIndex(of: "snr"), ki = header.firstIndex(of: "kind")
    let numeric = Set([ci, ri] + (si.map { [$0] } ?? []))
    var xs: [Double] = [], ys: [Double] = [], snr: [Double] = [], dx: [Double] = [], dy: [Double] = []
    return bytes.withUnsafeMutableBufferPointer { buf -> TruthPoints? in
        var p = buf.baseAddress! + nl + 1
        let end = buf.baseAddress! + data.count
        while p < end {
            if p.pointee == 0x0A || p.pointee == 0x0D { p += 1; continue }
            var fields = [Double](repeating: .nan, count: header.count)
            var distractor = false
            for f in 0..<header.count {
                if numeric.contains(f) {
                    var stop: UnsafeMutablePointer<CChar>? = nil
                    let v = strtod(p, &stop)
                    guard let e = stop, e > p, v.isFinite else { return nil }
                    fields[f] = v
                    p = e
                } else {
                    let start = p
                    while p < end && p.pointee != 0x2C && p.pointee != 0x0A && p.pointee != 0x0D { p += 1 }
                    if f == ki {
                        let word = String(decoding: UnsafeRawBufferPointer(start: start, count: p - start), as: UTF8.self)
                        distractor = distractorKinds.contains(word.trimmingCharacters(in: .whitespaces).lowercased())
                    }
                }
                if f < header.count - 1 {
                    guard p < end, p.pointee == 0x2C else { return nil }
                    p += 1
                }
            }
            // The line must end here.
            while p < end && (p.pointee == 0x20 || p.pointee == 0x0D) { p += 1 }
            guard p >= end || p.pointee == 0x0A else { return nil }
            if distractor { dx.append(fields[ci]); dy.append(height - fields[ri]); continue }
            xs.append(fields[ci]); ys.append(height - fields[ri])
            if let si { snr.append(fields[si]) }
        }
        return TruthPoints(xs: xs, ys: ys, snr: si == nil ? nil : snr, source: name, distractorXs: dx, distractorYs: dy)
    }
}
