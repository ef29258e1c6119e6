import Foundation

extension QuantiusExport {
    /// The export with each worker's first submission per image and tool only.
    ///
    /// A worker can submit an image twice (a second HIT on it), and two downloads of one job joined
    /// list every record twice. Pooled, one worker's two submissions count against each other: a
    /// worker clicks an object once, so each object's second click stands apart, as a stray that
    /// halves a careful worker's reliability or, where every record is there twice, as a second copy
    /// of every object. So, as Zooniverse's aggregation keeps a volunteer's
    /// first classification of a subject by default, the first completed counts (by
    /// `time_when_completed`; a time that does not read comes after one that does, and equal times
    /// fall to `ExportRecord.canonicallyOrdered`, so any listing gives the same answer). What is
    /// left out is counted in `repeatedSubmissionsLeftOut` of the export returned.
    public func keepingFirstSubmissions() -> QuantiusExport {
        /// When a record was completed; a time that does not read comes last.
        func completed(_ r: ExportRecord) -> Double {
            let s = r.timeWhenCompleted.map(portalCompletionSeconds) ?? 0
            return s > 0 ? s : .infinity
        }
        var first: [String: Int] = [:]
        for (i, r) in records.enumerated() {
            let key = r.workerID + "\u{1}" + r.imageFilename + "\u{1}" + r.annotationType.rawValue
            guard let j = first[key] else { first[key] = i; continue }
            let (ti, tj) = (completed(r), completed(records[j]))
            if ti != tj ? ti < tj : ExportRecord.canonicallyOrdered(r, records[j]) { first[key] = i }
        }
        guard first.count < records.count else { return self }
        let keep = Set(first.values)
        var kept = QuantiusExport(records: records.indices.filter { keep.contains($0) }.map { records[$0] })
        kept.repeatedSubmissionsLeftOut = repeatedSubmissionsLeftOut + records.count - first.count
        return kept
    }

    /// One line for a user when `keepingFirstSubmissions` left records out, nil when it did not.
    public func repeatedSubmissionsNote(file: String) -> String? {
        guard repeatedSubmissionsLeftOut > 0 else { return nil }
        let n = repeatedSubmissionsLeftOut
        return "\(file): \(n) repeated submission\(n == 1 ? "" : "s") left out (a worker's later one on an image they had already submitted, or the same record twice); each worker's first on an image counts"
    }
}

extension QuantiusExport {
    /// Refuses an export whose records give one image two sizes. Clicks count `y` from the bottom
    /// edge (`y = height - row`), so two heights put one worker's clicks where another's are not,
    /// and a truth could be flipped by either; nothing can say which record is right.
    public func checkImageSizes(file: String) throws {
        var size: [String: (width: Int, height: Int, record: Int)] = [:]
        for (i, r) in records.enumerated() {
            guard let s = size[r.imageFilename] else { size[r.imageFilename] = (r.width, r.height, i); continue }
            for (field, here, there) in [("width", r.width, s.width), ("height", r.height, s.height)] where here != there {
                throw InputError(file: file, record: i, field: field,
                                 message: "\(here), where record \(s.record) gives \(there) for the same image \(r.imageFilename) (clicks count y from the bottom edge, so an image has one size)")
            }
        }
    }
}

extension ExportReader {
    /// A user's export as crowdlab reads it: the file's records, refused if they give an image two
    /// sizes, with each worker's first submission on an image (`keepingFirstSubmissions`; its
    /// `repeatedSubmissionsNote` says what was left out).
    public static func readSubmissions(path: String) throws -> QuantiusExport {
        let records = try read(path: path)
        try records.checkImageSizes(file: path)
        return records.keepingFirstSubmissions()
    }
}
