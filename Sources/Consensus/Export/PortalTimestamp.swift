import Foundation

/// Seconds since 1970 in the portal's `time_when_completed` form, in UTC: `Mon Jan 05 09:00:00 UTC 2026`.
/// The inverse of `portalCompletionSeconds`.
public func portalTimestamp(epochSeconds: Double) -> String {
    var t = time_t(epochSeconds.rounded(.down))
    var parts = tm()
    gmtime_r(&t, &parts)
    let year = Array(String(parts.tm_year + 1900).utf8)
    // Written byte by byte: a simulation stamps every one of its submissions.
    return String(unsafeUninitializedCapacity: 24 + year.count) { b in
        func name(_ table: StaticString, _ k: Int32, at i: Int) {
            for j in 0..<3 { b[i + j] = table.utf8Start[3 * Int(k) + j] }
        }
        func two(_ v: Int32, at i: Int) { b[i] = UInt8(48 + v / 10); b[i + 1] = UInt8(48 + v % 10) }
        name("SunMonTueWedThuFriSat", parts.tm_wday, at: 0); b[3] = 0x20
        name("JanFebMarAprMayJunJulAugSepOctNovDec", parts.tm_mon, at: 4); b[7] = 0x20
        two(parts.tm_mday, at: 8); b[10] = 0x20
        two(parts.tm_hour, at: 11); b[13] = 0x3A; two(parts.tm_min, at: 14); b[16] = 0x3A; two(parts.tm_sec, at: 17)
        for (j, c) in " UTC ".utf8.enumerated() { b[19 + j] = c }
        for (j, c) in year.enumerated() { b[24 + j] = c }
        return 24 + year.count
    }
}

/// Seconds of `time_when_completed` ("Thu Jul 19 16:30:29 PDT 2018") for ordering one worker's
/// submissions; the zone name is ignored (one worker's submissions share it). 0 when unparseable.
public func portalCompletionSeconds(_ s: String) -> Double {
    let f = s.split(separator: " ", omittingEmptySubsequences: true)
    guard f.count >= 5 else { return 0 }
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    guard let mi = months.firstIndex(of: String(f[1])), let day = Int(f[2]), let year = Int(f[f.count - 1]) else { return 0 }
    let hms = f[3].split(separator: ":").compactMap { Int($0) }
    guard hms.count == 3 else { return 0 }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = mi < 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (mi + 10) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    return Double(days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}
