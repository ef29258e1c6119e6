import Consensus
import Crypto
import Foundation

/// The model file: a first line `crowdlab-fcrn 1`, a line of JSON describing the detector
/// (architecture, channels, normalisation, target, detection settings, parameter count and the
/// SHA-256 of the parameters), then the parameters as float32 little-endian. Loading checks all of
/// it, so a truncated, altered or foreign file is a one-line error, never a wrong detector.
public enum DetectorFile {
    public static let magic = "crowdlab-fcrn"
    public static let version = 1

    struct Header: Codable {
        var architecture: String
        var channels: Int
        var channelSelection: [Int]?
        var normalisation: Normalisation
        var sigma: Double, peak: Double
        var threshold: Double, suppression: Int
        var parameters: Int
        var sha256: String
    }

    public static func encode(_ d: Detector) throws -> Data {
        var weights = Data(capacity: d.network.parameters.count * 4)
        for p in d.network.parameters { withUnsafeBytes(of: p.bitPattern.littleEndian) { weights.append(contentsOf: $0) } }
        let header = Header(architecture: "conv3x3(\(d.network.channels)->32) relu conv3x3(32->32) relu conv3x3(32->1)", channels: d.network.channels,
                            channelSelection: d.channelSelection, normalisation: d.normalisation, sigma: d.sigma, peak: d.peak,
                            threshold: d.detection.threshold, suppression: d.detection.suppression, parameters: d.network.parameters.count,
                            sha256: SHA256.hash(data: weights).map { String(format: "%02x", $0) }.joined())
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var out = Data("\(magic) \(version)\n".utf8)
        out += try enc.encode(header)
        out += Data("\n".utf8)
        return out + weights
    }

    public static func decode(_ data: Data, name: String) throws -> Detector {
        let bytes = [UInt8](data)
        guard let nl1 = bytes.firstIndex(of: 10), String(decoding: bytes[..<nl1], as: UTF8.self).hasPrefix(magic + " ") else {
            throw InputError(file: name, message: "not a crowdlab detector (it does not start with '\(magic)')")
        }
        let v = String(decoding: bytes[..<nl1], as: UTF8.self).dropFirst(magic.count + 1)
        guard Int(v) == version else { throw InputError(file: name, message: "detector format \(v), this crowdlab reads format \(version)") }
        guard let nl2 = bytes[(nl1 + 1)...].firstIndex(of: 10) else { throw InputError(file: name, message: "truncated: the header line does not end") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[(nl1 + 1)..<nl2])) } catch {
            throw InputError(file: name, message: "the header is not a detector description (\(error))")
        }
        guard header.channels >= 1, header.parameters == FCRN.parameterCount(channels: header.channels),
              header.normalisation.mean.count == header.channels, header.normalisation.sd.count == header.channels else {
            throw InputError(file: name, field: "parameters", message: "the header does not describe this network (\(header.parameters) parameters for \(header.channels) channel(s))")
        }
        let weights = Data(bytes[(nl2 + 1)...])
        guard weights.count == header.parameters * 4 else {
            throw InputError(file: name, message: "truncated or padded: \(header.parameters) parameters need \(header.parameters * 4) bytes, \(weights.count) follow the header")
        }
        guard SHA256.hash(data: weights).map({ String(format: "%02x", $0) }).joined() == header.sha256 else {
            throw InputError(file: name, field: "sha256", message: "the parameters do not match their checksum: the file was altered or damaged")
        }
        var params = [Float](repeating: 0, count: header.parameters)
        weights.withUnsafeBytes { raw in
            for i in params.indices { params[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        }
        var d = Detector(network: FCRN(channels: header.channels, parameters: params), channelSelection: header.channelSelection,
                         normalisation: header.normalisation, sigma: header.sigma, peak: header.peak)
        d.detection = DetectionSettings(threshold: header.threshold, suppression: header.suppression)
        return d
    }

    public static func read(path: String) throws -> Detector {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, message: "cannot be read") }
        return try decode(data, name: path)
    }
}
