import Foundation
import Imaging

/// PNG files: any bytes give an image whose samples match its size, or one line naming the file;
/// an image read encodes (in one pass, into libpng's upper bound) and reads back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    do {
        let image = try PNG.decode(Data(bytes: start, count: count), name: "fuzz.png")
        precondition(image.width > 0 && image.height > 0 && image.samples.count == image.width * image.height * image.channels, "samples do not match the size")
        if image.samples.count <= 1 << 20 {
            let again = try? PNG.decode(PNG.encode(image), name: "again.png")
            precondition(again == image, "encoding the image read does not read back to it")
        }
    } catch let e as ImageError {
        precondition(!e.description.contains("\n") && e.description.hasPrefix("fuzz.png"), "error not one line naming the file: \(e)")
    } catch {
        fatalError("not an ImageError: \(error)")
    }
    return 0
}
