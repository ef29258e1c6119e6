import Consensus
import Foundation
import Imaging

/// Builds what simulated workers see from truth files (and, when given, the images).
public enum TaskLoader {
    public struct Source: Sendable {
        public var truthFile: String
        public var imagePath: String?
        public var imageName: String
    }

    /// One truth CSV, or a folder of them (one image per file). With `imagesDir` each truth file is
    /// matched to its image by name (the same rule `analyze --truth` uses); otherwise the image is
    /// named after the truth file's stem plus `.png`.
    public static func sources(truth: String, image: String?, imagesDir: String?) throws -> [Source] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: truth, isDirectory: &isDir) else {
            throw InputError(file: truth, message: "truth path does not exist")
        }
        if !isDir.boolValue {
            let name = image.map { ($0 as NSString).lastPathComponent } ?? TruthSet.truthKey((truth as NSString).lastPathComponent) + ".png"
            return [Source(truthFile: truth, imagePath: image, imageName: name)]
        }
        guard image == nil else { throw InputError(file: "--image", message: "goes with one truth CSV; for a folder of truth files use --images DIR") }
        let files = try FileManager.default.contentsOfDirectory(atPath: truth).filter { $0.hasSuffix(".csv") }.sorted()
        guard !files.isEmpty else { throw InputError(file: truth, message: "no truth CSV files in the folder") }
        var pngs: [String: String] = [:]
        if let dir = imagesDir {
            for f in (try FileManager.default.contentsOfDirectory(atPath: dir)).sorted() where f.lowercased().hasSuffix(".png") {
                for k in TruthSet.imageKeys(f) where pngs[k] == nil { pngs[k] = f }
            }
        }
        return try files.map { f in
            let key = TruthSet.truthKey(f)
            let path = (truth as NSString).appendingPathComponent(f)
            if let dir = imagesDir {
                guard let png = pngs[key] else { throw InputError(file: f, message: "no image in \(dir) matches this truth file") }
                return Source(truthFile: path, imagePath: (dir as NSString).appendingPathComponent(png), imageName: png)
            }
            return Source(truthFile: path, imagePath: nil, imageName: key + ".png")
        }
    }

    /// Loads tasks; `measure` decides what visibility is (nominal SNR or contrast measured in the image).
    public static func tasks(_ sources: [Source], size: (Int, Int)?, measure: Population.VisibilityMeasure) throws -> [ImageTask] {
        // Files are read in parallel; the first error in file order is the one reported.
        let sz = size.map { [$0.0, $0.1] }
        let results: [Result<ImageTask, Error>] = sources.parallelMap { s in
            Result { try task(s, size: sz.map { ($0[0], $0[1]) }, measure: measure) }
        }
        return try results.map { try $0.get() }
    }

    static func task(_ s: Source, size: (Int, Int)?, measure: Population.VisibilityMeasure) throws -> ImageTask {
        var picture: Image? = nil
        if let p = s.imagePath { picture = try PNG.read(path: p) }
        let w = picture?.width ?? size?.0 ?? 300, h = picture?.height ?? size?.1 ?? 300
        let t = try readTruthCSV(path: s.truthFile, height: Double(h))
        let vis: [Double]
        var structure: LookAlikes? = nil
        // Truth without SNR (an expert's clicks) on an image: its objects are as visible as the
        // image shows them, so the contrast is measured there (both are in noise units).
        let reads: Population.VisibilityMeasure = measure == .snr && t.snr == nil && picture != nil ? .contrast : measure
        switch reads {
        case .snr:
            guard let snr = t.snr else {
                throw InputError(file: t.source, field: "snr", message: "the population measures detection by SNR, but this truth file has no snr column: pass its image (--image/--images) to measure contrast there", unit: "line")
            }
            vis = snr
        case .contrast:
            guard let picture else {
                throw InputError(file: t.source, message: "the population measures detection by image contrast: pass the image (--image or --images)")
            }
            // False clicks land on the image's look-alikes, measured in the contrast units the
            // detection curve reads, so they are drawn by how detectable they are.
            (vis, structure) = Visibility.Map(image: picture).objects(xs: t.xs, ys: t.ys)
        }
        return ImageTask(name: s.imageName, width: w, height: h, xs: t.xs, ys: t.ys, visibility: vis,
                         distractorXs: t.distractorXs, distractorYs: t.distractorYs, structure: structure)
    }
}
