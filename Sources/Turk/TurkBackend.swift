import Consensus
import Foundation

/// What a crowdlab job needs from Mechanical Turk, behind one interface with two implementations:
/// `LocalMarketplace` (simulated workers, offline) and `LiveTurkClient` (the real service or its
/// sandbox). Every operation is a typed request of the service's API model, so a job that runs on
/// one runs on the other by changing the backend and nothing else.
public protocol TurkBackend: Sendable {
    func send<Op: TurkOperation>(_ operation: Op) async throws -> Op.Response
    /// Stores a PNG (and optionally its truth, `col,row[,snr]`) where workers can load it; returns its URL.
    func putImage(name: String, png: Data, truthCSV: String?) async throws -> String
    /// Whether `putImage` works here: Amazon's service hosts no images, a local marketplace does.
    var hostsImages: Bool { get }
}

/// Image names the marketplace accepts: a plain file name, no paths.
public func isValidImageName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 200 && !name.hasPrefix(".")
        && name.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95
        }
}

/// The annotation answer a worker's form posts: the Quanti.us `raw_data` of that worker, a list of
/// annotations, each a list of `{x, y, timestamp}` (y from the bottom edge, timestamp in ms).
public enum AnswerFormat {
    /// The form field (QuestionIdentifier) holding the raw_data JSON.
    public static let field = "annotations"

    /// QuestionFormAnswers XML as the service writes it for an HTMLQuestion form.
    public static func questionFormAnswers(_ fields: [(String, String)]) -> String {
        var s = #"<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">"#
        for (k, v) in fields {
            s += "<Answer><QuestionIdentifier>\(xmlEscape(k))</QuestionIdentifier><FreeText>\(xmlEscape(v))</FreeText></Answer>"
        }
        return s + "</QuestionFormAnswers>"
    }

    /// Reads QuestionFormAnswers back into (identifier, free text) pairs.
    public static func parse(_ xml: String) -> [(String, String)] {
        var out: [(String, String)] = []
        var rest = xml[...]
        while let a = rest.range(of: "<Answer>"), let b = rest.range(of: "</Answer>", range: a.upperBound..<rest.endIndex) {
            let body = rest[a.upperBound..<b.lowerBound]
            func tag(_ name: String) -> String? {
                guard let s = body.range(of: "<\(name)>"), let e = body.range(of: "</\(name)>", range: s.upperBound..<body.endIndex) else { return nil }
                return xmlUnescape(String(body[s.upperBound..<e.lowerBound]))
            }
            if let id = tag("QuestionIdentifier") { out.append((id, tag("FreeText") ?? "")) }
            rest = rest[b.upperBound...]
        }
        return out
    }

    /// Text safe inside XML (the five entities; non-ASCII as character references).
    public static func xmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: if u.value < 128 { out.unicodeScalars.append(u) } else { out += "&#\(u.value);" }
            }
        }
        return out
    }

    /// The text an XML string holds, entities and character references resolved.
    public static func xmlUnescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = UnicodeScalar(v) { replacement = String(u) }
                    else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = UnicodeScalar(v) { replacement = String(u) }
                }
                if let replacement { out += replacement; i = s.index(after: semi); continue }
            }
            out.append(s[i]); i = s.index(after: i)
        }
        return out
    }
}

extension AnswerFormat {
    /// A submitted answer as a Quanti.us export record: the `annotations` field's raw_data, checked
    /// by the same strict reader as a portal export (errors name the assignment's field).
    public static func exportRecord(answer: String, image: String, width: Int, height: Int, workerId: String,
                                    submitTime: Double, annotationType: AnnotationType = .crosshairs) throws -> ExportRecord {
        guard let raw = parse(answer).first(where: { $0.0 == field })?.1 else {
            throw InputError(file: image, field: field, message: "the answer of worker \(workerId) has no '\(field)' field")
        }
        let wrapped = "[{\"image_filename\": \(jsonString(image)), \"worker_id\": \(jsonString(workerId)), \"annotation_type\": \"\(annotationType.rawValue)\", \"width\": \(width), \"height\": \(height), \"raw_data\": \(raw)}]"
        var record = try ExportReader.decode(Data(wrapped.utf8), fileName: "answer of \(workerId) on \(image)").records[0]
        record.timeWhenCompleted = portalTimestamp(epochSeconds: submitTime)
        return record
    }
}

extension TurkBackend {
    /// The HIT whose RequesterAnnotation is `annotation` (how a job finds the HIT a retried
    /// CreateHIT made before an interruption), reading ListHITs page by page.
    public func hit(requesterAnnotation annotation: String, pageSize: Int = 100) async throws -> HIT? {
        var token: String? = nil
        repeat {
            let page = try await send(ListHITs(nextToken: token, maxResults: pageSize))
            if let hit = page.HITs?.first(where: { $0.RequesterAnnotation == annotation }) { return hit }
            token = page.NextToken
        } while token != nil
        return nil
    }

    /// Every assignment of a HIT (in the statuses given, or all), page by page.
    public func allAssignments(hitId: String, statuses: [AssignmentStatus]? = nil, pageSize: Int = 100) async throws -> [HITAssignment] {
        var out: [HITAssignment] = []
        var token: String? = nil
        repeat {
            let page = try await send(ListAssignmentsForHIT(hitId: hitId, statuses: statuses, nextToken: token, maxResults: pageSize))
            out += page.Assignments ?? []
            token = page.NextToken
        } while token != nil
        return out
    }
}
