import Foundation

/// One self-contained HTML page with crowdlab's common look: sections, tables, inline SVG.
public struct HTMLPage {
    public var title: String
    private var body = ""
    public init(title: String) { self.title = title }

    public mutating func heading(_ text: String, level: Int = 2) { body += "<h\(level)>\(esc(text))</h\(level)>\n" }
    public mutating func paragraph(_ text: String) { body += "<p>\(esc(text))</p>\n" }
    public mutating func raw(_ html: String) { body += html + "\n" }
    public mutating func figure(_ svg: String, caption: String) {
        body += "<figure>\(svg)<figcaption>\(esc(caption))</figcaption></figure>\n"
    }
    public mutating func table(_ header: [String], _ rows: [[String]]) {
        // A column of words has its heading on the left too.
        let words = header.indices.map { i in rows.first.map { i < $0.count && $0[i].filter(\.isLetter).count > 1 } ?? false }
        body += "<table><thead><tr>" + header.indices.map { words[$0] ? "<th class=\"t\">\(esc(header[$0]))</th>" : "<th>\(esc(header[$0]))</th>" }.joined() + "</tr></thead><tbody>"
        // Numbers line up on the right, words read from the left.
        for r in rows { body += "<tr>" + r.map { ($0.filter(\.isLetter).count > 1 ? "<td class=\"t\">" : "<td>") + esc($0) + "</td>" }.joined() + "</tr>" }
        body += "</tbody></table>\n"
    }

    public func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
        h1{border-bottom:2px solid #1f77b4;padding-bottom:.2em} h2{margin-top:1.6em;color:#1f4e79}
        table{border-collapse:collapse;margin:.8em 0;font-size:13px} th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
        th{background:#eef3f8} td:first-child,th:first-child,td.t,th.t{text-align:left}
        figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top} figcaption{font-size:12px;color:#555;max-width:520px}
        .overlays img{width:300px;margin:4px;border:1px solid #ccc;image-rendering:pixelated}
        .note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em}
        code{background:#f3f3f3;padding:0 3px}
        </style></head><body>
        <h1>\(esc(title))</h1>
        \(body)
        <footer><p style="color:#888;font-size:12px">Written by crowdlab.</p></footer>
        </body></html>
        """
    }
}

public func fmt(_ v: Double?, _ digits: Int = 3) -> String {
    guard let v, v.isFinite else { return "–" }
    return String(format: "%.\(digits)f", v)
}

/// A value shown with about three significant digits, whatever its size (0.990, 42.0, 105,153).
public func fmtSignificant(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "–" }
    let a = abs(v)
    if a >= 1000 {
        let f = NumberFormatter()
        f.numberStyle = .decimal; f.maximumFractionDigits = 0; f.locale = Locale(identifier: "en_US")
        return f.string(from: NSNumber(value: v.rounded())) ?? String(format: "%.0f", v)
    }
    return String(format: a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.3f", v)
}
