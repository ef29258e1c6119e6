@testable import Consensus
import Foundation

/// JSON numbers: on any bytes, `DecimalNumber.parse` either refuses or gives exactly what `strtod`
/// gives for the same token (bit for bit), and only tokens of RFC 8259's grammar are accepted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecimalNumber(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count < 400, let text = String(bytes: UnsafeRawBufferPointer(start: start, count: count), encoding: .utf8) else { return 0 }
    guard let v = DecimalNumber.parse(text) else { return 0 }
    let grammar = #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#
    precondition(text.range(of: grammar, options: .regularExpression) != nil, "accepted \(text)")
    let reference = text.withCString { strtod($0, nil) }
    precondition(v.bitPattern == reference.bitPattern, "\(text): \(v) against strtod's \(reference)")
    return 0
}
