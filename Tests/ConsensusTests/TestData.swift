import Foundation
@testable import Consensus

/// The package root, found from this file's path, so tests read the real exports in Data/.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func dataPath(_ rel: String) -> String { packageRoot + "/Data/quanti-us/" + rel }

func tempDir() -> String {
    let p = NSTemporaryDirectory() + "crowdlab-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// Builds a one-image job from (worker, x, y) clicks.
func job(_ clicks: [(Int, Double, Double)], workers: Int, image: String = "img.png") -> ClickJob {
    var im = ImageClicks(image: image, width: 100, height: 100, workers: Array(0..<workers), xs: [], ys: [], worker: [], timestamp: [])
    for (k, c) in clicks.enumerated() {
        im.xs.append(c.1); im.ys.append(c.2); im.worker.append(Int32(c.0)); im.timestamp.append(Double(k * 1000))
    }
    return ClickJob(workerIDs: (0..<workers).map { "W\($0)" }, images: [im])
}
