import Consensus
import Crowd
import Foundation
import Reports

/// A grid of scenario variants run over several seeds: the CSV of runs, a summary with intervals
/// over seeds, and plots. Runs can be split into shards (`i/N`) for a cluster's job array and
/// merged afterwards.
public struct Sweep: Sendable {
    public struct Axis: Sendable, Equatable {
        public var key: String
        public var values: [String]

        /// `key=v1,v2,...` or `key=start:stop:step` (inclusive of stop when it falls on the grid).
        public init(parsing s: String) throws {
            guard let eq = s.firstIndex(of: "=") else { throw InputError(file: "--vary", message: "expected key=v1,v2 or key=start:stop:step, found \"\(s)\"") }
            key = String(s[..<eq])
            let spec = String(s[s.index(after: eq)...])
            guard Scenario.keys.contains(key) else { throw InputError(file: "--vary", field: key, message: "unknown scenario key") }
            if spec.contains(":") {
                let p = spec.split(separator: ":").map { Double($0) }
                guard p.count == 3, let a = p[0], let b = p[1], let step = p[2], step > 0, b >= a, (b - a) / step <= 10_000 else {
                    throw InputError(file: "--vary", field: key, message: "expected start:stop:step with step > 0 and stop >= start, found \"\(spec)\"")
                }
                var v: [String] = []
                var k = 0
                while a + Double(k) * step <= b + step * 1e-9 { v.append(formatNumber((a + Double(k) * step) * 1e9 .rounded() / 1e9)); k += 1 }
                values = v
            } else {
                values = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !values.isEmpty else { throw InputError(file: "--vary", field: key, message: "no values") }
            }
        }
    }

    public struct Run: Sendable {
        public var point: Int
        /// Added to the scenario's seed (after the run's overrides, so `seed` itself can be an axis).
        public var seedOffset: UInt64
        public var values: [String]
    }

    public var scenarioPath: String
    public var overrides: [String]
    public var axes: [Axis]
    public var seeds: Int

    public init(scenarioPath: String, overrides: [String], axes: [Axis], seeds: Int) {
        self.scenarioPath = scenarioPath; self.overrides = overrides; self.axes = axes; self.seeds = seeds
    }

    /// Every run of the grid in a fixed order: points (first axis slowest), then seeds.
    public func runs() -> [Run] {
        var points: [[String]] = [[]]
        for a in axes { points = points.flatMap { p in a.values.map { p + [$0] } } }
        var out: [Run] = []
        for (i, p) in points.enumerated() { for k in 0..<seeds { out.append(Run(point: i, seedOffset: UInt64(k), values: p)) } }
        return out
    }

    /// The figures of each run: scores, cost and time, then the consensus's misses and false
    /// objects by cause (`ErrorBreakdown`), so a sweep shows which errors each setting removes.
    public static let metricColumns = ["precision", "recall", "f1", "filtered_precision", "filtered_recall", "cost_usd", "hours", "annotations_per_hour", "workers"]
        + ErrorBreakdown.causes.map(\.key)

    /// The runs CSV header: point, the run's seed, one column per axis, the metrics. A `seed` axis
    /// is the point's first seed, named `base_seed` so no two columns share a name.
    public func header() -> String {
        (["point", "seed"] + axes.map { $0.key == "seed" ? "base_seed" : $0.key } + Self.metricColumns).joined(separator: ",")
    }

    /// Runs the given runs in parallel and returns CSV rows (in the given order).
    public func execute(_ runs: [Run], progress: (@Sendable (Int) -> Void)? = nil) throws -> [String] {
        let counter = Counter()
        let results: [Result<String, Error>] = runs.parallelMap { r in
            defer { progress?(counter.increment()) }
            return Result {
                var s = try Scenario.load(path: scenarioPath, overrides: overrides + zip(axes, r.values).map { "\($0.key)=\($1)" })
                s.seed = s.seed &+ r.seedOffset
                let o = try LabRun.run(s, keepPhantoms: false)
                let a = o.analysis
                let scores: [Double] = [a.overall?.precision ?? .nan, a.overall?.recall ?? .nan, a.overall?.f1 ?? .nan,
                                        a.filtered.score?.precision ?? .nan, a.filtered.score?.recall ?? .nan,
                                        o.cost.total, o.simulation.hours, o.simulation.annotationsPerHour, Double(o.simulation.imagesPerWorker.count)]
                let errors: [Double] = a.errors?.counts.map(Double.init) ?? ErrorBreakdown.causes.map { _ in .nan }
                let m = scores + errors
                return ([String(r.point), String(s.seed)] + r.values.map(csvField) + m.map { String(format: "%.6g", $0) }).joined(separator: ",")
            }
        }
        return try results.map { try $0.get() }
    }

    final class Counter: @unchecked Sendable {
        private var n = 0
        private let lock = NSLock()
        func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
    }
}

/// Summaries of a sweep's runs CSV: mean and 95 % interval over seeds per grid point, and plots.
public enum SweepSummary {
    public struct Table: Sendable {
        /// One grid point: its axis values, seeds, and each metric's mean and 95 % half-width.
        public typealias Row = (point: Int, values: [String], seeds: Int, mean: [Double], half: [Double])
        public var keys: [String]
        public var rows: [Row]
    }

    /// Reads runs CSV text (one header line, then rows); every problem names the file and line.
    public static func summarise(csv: String, file: String) throws -> Table {
        let lines = csv.split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",").map(String.init), header.count > 2 + Sweep.metricColumns.count,
              header.suffix(Sweep.metricColumns.count) == Sweep.metricColumns[...], header.prefix(2) == ["point", "seed"] else {
            throw InputError(file: file, record: 1, message: "not a crowdlab sweep runs CSV", unit: "line")
        }
        let keys = Array(header[2..<(header.count - Sweep.metricColumns.count)])
        var byPoint: [Int: (values: [String], metrics: [[Double]])] = [:]
        for (n, line) in lines.enumerated().dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, let point = Int(f[0]) else {
                throw InputError(file: file, record: n + 1, message: "expected \(header.count) fields", unit: "line")
            }
            let metrics = f.suffix(Sweep.metricColumns.count).map { Double($0) ?? .nan }
            let values = Array(f[2..<(2 + keys.count)])
            if byPoint[point] == nil { byPoint[point] = (values, []) }
            byPoint[point]!.metrics.append(metrics)
        }
        var rows: [Table.Row] = []
        for point in byPoint.keys.sorted() {
            let (values, ms) = byPoint[point]!
            var mean: [Double] = [], half: [Double] = []
            for c in 0..<Sweep.metricColumns.count {
                let xs = ms.map { $0[c] }.filter(\.isFinite)
                let m = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
                let sd = xs.count > 1 ? (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot() : 0
                mean.append(m)
                // 95 % interval of the mean (Student t quantile for the number of seeds).
                half.append(xs.count > 1 ? tQuantile975(xs.count - 1) * sd / Double(xs.count).squareRoot() : 0)
            }
            rows.append((point, values, ms.count, mean, half))
        }
        return Table(keys: keys, rows: rows)
    }

    /// The missed objects by cause against the first numeric key, one plot per value of the other
    /// key (the first three): which misses replicates remove, which pay removes, and which neither.
    static func missedByCause(_ t: Table, x: Int, groupAxis: Int?, groups: [String: [Table.Row]],
                              into page: inout HTMLPage) {
        let causes = ErrorBreakdown.missedCauses
        let columns = causes.map { Sweep.metricColumns.firstIndex(of: $0.key)! }   // metricColumns ends with every cause
        guard t.rows.contains(where: { r in columns.contains { r.mean[$0].isFinite } }) else { return }
        for g in groups.keys.sorted().prefix(3) {
            let rows = groups[g]!.sorted { Double($0.values[x])! < Double($1.values[x])! }
            let suffix = groupAxis.map { ", \(t.keys[$0]) = \(g)" } ?? ""
            var plot = SVGPlot(title: "Missed objects by cause against \(t.keys[x])\(suffix)", xLabel: t.keys[x], yLabel: "missed objects (all images)")
            for (k, (cause, c)) in zip(causes, columns).enumerated() {
                plot.add(.init(name: cause.short, xs: rows.map { Double($0.values[x])! }, ys: rows.map { $0.mean[c] },
                               errors: rows.map { $0.half[c] }, mark: .line, color: SVGPlot.palette[k % SVGPlot.palette.count]))
            }
            let top = plot.series.flatMap { se in zip(se.ys, se.errors ?? []).map { $0 + $1 } }.filter(\.isFinite).max() ?? 1
            plot.yRange = 0...max(top, 1e-9)
            page.figure(plot.render(), caption: "What the consensus misses, by cause (as crowdlab analyze gives it): more workers remove the objects too few workers clicked, and more pay also those no worker clicked; the objects whose clicks went to a neighbour's object fall with neither (a larger display of the images is what parts them).")
        }
    }

    static func tQuantile975(_ dof: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        return dof >= 1 && dof <= table.count ? table[dof - 1] : 1.96
    }

    public static func csv(_ t: Table) -> String {
        var s = (["point"] + t.keys + ["seeds"] + Sweep.metricColumns.flatMap { [$0 + "_mean", $0 + "_ci95"] }).joined(separator: ",") + "\n"
        for r in t.rows {
            s += ([String(r.point)] + r.values.map(csvField) + [String(r.seeds)] + zip(r.mean, r.half).flatMap { [String(format: "%.6g", $0), String(format: "%.6g", $1)] }).joined(separator: ",") + "\n"
        }
        return s
    }

    /// The report: F1, recall, precision and cost against the first numeric varied key, one
    /// series per value of another key, with 95 % intervals over seeds; and F1 against cost, the
    /// comparison at equal cost (one line per value of the other key, or of a key such as
    /// `job.policy` that is not a number).
    public static func html(_ t: Table, title: String) -> String {
        var page = HTMLPage(title: title)
        page.paragraph("\(t.rows.count) design(s), \(t.rows.first?.seeds ?? 0) seed(s) each. Error bars: 95 % intervals of the mean over seeds, cut at what is possible (shares 0 to 1, costs and hours from 0).")
        let numeric = t.keys.indices.filter { i in t.rows.allSatisfy { Double($0.values[i]) != nil } }
        let xAxis = numeric.first
        let groupAxis = t.keys.indices.first { $0 != xAxis }
        let groups = Dictionary(grouping: t.rows, by: { r in groupAxis.map { r.values[$0] } ?? "" })
        let seriesName: (String, String) -> String = { g, label in groupAxis.map { "\(t.keys[$0]) = \(g)" } ?? label }
        if let x = xAxis {
            let first = t.keys[x]
            for (metric, label) in [("f1", "F1"), ("recall", "recall"), ("precision", "precision"), ("cost_usd", "cost (USD)"), ("hours", "hours to collect")] {
                guard let c = Sweep.metricColumns.firstIndex(of: metric) else { continue }
                var plot = SVGPlot(title: "\(label) against \(first)", xLabel: first, yLabel: label)
                for (k, g) in groups.keys.sorted().enumerated() {
                    let rows = groups[g]!.sorted { Double($0.values[x])! < Double($1.values[x])! }
                    plot.add(.init(name: seriesName(g, label), xs: rows.map { Double($0.values[x])! },
                                   ys: rows.map { $0.mean[c] }, errors: rows.map { $0.half[c] }, mark: .line, color: SVGPlot.palette[k % SVGPlot.palette.count]))
                }
                // Shares live in 0…1 and costs and hours are never negative: the axes say so, and
                // intervals past them are clipped.
                if ["f1", "recall", "precision"].contains(metric) { plot.yRange = 0...1 } else {
                    let top = plot.series.flatMap { se in zip(se.ys, se.errors ?? []).map { $0 + $1 } }.filter(\.isFinite).max() ?? 1
                    plot.yRange = 0...max(top, 1e-9)
                }
                if !plot.series.isEmpty { page.figure(plot.render(), caption: "\(label) by \(first); one line per \(groupAxis.map { t.keys[$0] } ?? "sweep").") }
            }
        }
        if let x = xAxis { missedByCause(t, x: x, groupAxis: groupAxis, groups: groups, into: &page) }
        if let f = Sweep.metricColumns.firstIndex(of: "f1"), let c = Sweep.metricColumns.firstIndex(of: "cost_usd"), t.rows.count > 1 {
            var plot = SVGPlot(title: "F1 against cost", xLabel: "cost (USD)", yLabel: "F1")
            for (k, g) in groups.keys.sorted().enumerated() {
                let rows = groups[g]!.sorted { $0.mean[c] < $1.mean[c] }
                plot.add(.init(name: seriesName(g, "F1"), xs: rows.map { $0.mean[c] }, ys: rows.map { $0.mean[f] },
                               errors: rows.map { $0.half[f] }, mark: .points, color: SVGPlot.palette[k % SVGPlot.palette.count]))
            }
            plot.yRange = 0...1
            plot.legendAtBottom = true
            plot.xRange = 0...max(1e-9, 1.05 * (t.rows.map { $0.mean[c] }.filter(\.isFinite).max() ?? 1))
            page.figure(plot.render(), caption: "Every design's mean F1 (bars: 95 % intervals) against its mean cost: at equal cost, the higher point buys more for the money.")
        }
        page.table(["point"] + t.keys + ["seeds", "precision", "recall", "F1", "cost (USD)", "hours"], t.rows.map { r in
            [String(r.point)] + r.values + [String(r.seeds)] + [0, 1, 2, 5, 6].map { String(format: "%.3f ± %.3f", r.mean[$0], r.half[$0]) }
        })
        return page.render()
    }
}
