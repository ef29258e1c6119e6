import Foundation

/// Whether an export's images are the frames of one movie: every name one stem and a frame number
/// before the extension (`tissue_0003.png`, `embryo_t12.png`), no number twice. Only frames are
/// linked into tracks and read as a time course; a set of separate images (circle-spots: two
/// renderings of eight spot densities) has neither, and linking its objects image to image would
/// report speeds of nothing that moved.
public enum FrameSequence {
    /// The images' indices in frame order when `names` are two or more frames of one movie, else nil.
    public static func order(_ names: [String]) -> [Int]? {
        guard names.count >= 2 else { return nil }
        var stem: Substring?
        var numbers: [Int] = []
        for name in names {
            guard let (s, n) = split(name), stem == nil || stem == s else { return nil }
            stem = s
            numbers.append(n)
        }
        guard Set(numbers).count == numbers.count else { return nil }
        return numbers.indices.sorted { numbers[$0] < numbers[$1] }
    }

    /// `tissue_0003.png` → (`tissue_`, 3): the name less its extension and its trailing digits.
    static func split(_ name: String) -> (Substring, Int)? {
        var base = Substring(name)
        if let dot = base.lastIndex(of: "."), base[base.index(after: dot)...].allSatisfy(\.isLetter) { base = base[..<dot] }
        let digits = base.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let n = Int(String(digits.reversed())) else { return nil }
        return (base.dropLast(digits.count), n)
    }
}
