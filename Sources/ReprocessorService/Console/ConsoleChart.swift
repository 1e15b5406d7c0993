import Foundation
import Synchronization

/// The overview's pictures of the last 24 hours, drawn on the server as SVG values a template
/// walks: failures and applies per hour as bars (failures hatched, applies solid, each labelled,
/// so they read without colour), and the queue's depth as a line with a marker per sample.
enum ConsoleChart {
    /// Hours drawn.
    static let hours = 24
    /// The drawing's size and its plot area.
    static let (width, height) = (760.0, 230.0)
    static let (left, right, top, bottom) = (56.0, 744.0, 16.0, 190.0)

    /// The bars of failures (failed and parked) and applies per hour, oldest first, ending at `end`.
    static func activity(failures: [Int], applies: [Int], end: Date) -> [String: Any] {
        let maximum = niceMaximum(max(failures.max() ?? 0, applies.max() ?? 0))
        let slot = (right - left) / Double(hours)
        let start = end.addingTimeInterval(-Double(hours) * 3600)
        var bars: [[String: Any]] = []
        for hour in 0..<hours {
            let x = left + Double(hour) * slot
            let span = hourSpan(start.addingTimeInterval(Double(hour) * 3600))
            for (offset, count, kind) in [(0.12, failures[hour], "failures"), (0.52, applies[hour], "applies")]
            where count > 0 {
                let barHeight = max(1.5, (bottom - top) * Double(count) / Double(maximum))
                let text = kind == "failures" ? ConsoleText.counted(count, "failure") : appliesText(count)
                bars.append([
                    "x": format(x + slot * offset), "y": format(bottom - barHeight), "w": format(slot * 0.36),
                    "h": format(barHeight), "kind": kind, "title": "\(span): \(text)",
                ])
            }
        }
        return [
            "width": format(width), "height": format(height), "bars": bars, "yTicks": yTicks(maximum),
            "xTicks": xTicks(start: start, end: end), "left": format(left), "right": format(right), "bottom": format(bottom),
            "top": format(top),
            "failuresText": ConsoleText.counted(failures.reduce(0, +), "failure"),
            "appliesText": appliesText(applies.reduce(0, +)),
            "rows": (0..<hours).reversed().map { hour in
                [
                    "span": hourSpan(start.addingTimeInterval(Double(hour) * 3600)),
                    "failures": ConsoleText.number(failures[hour]), "applies": ConsoleText.number(applies[hour]),
                ]
            },
        ]
    }

    /// The queue's depth as a line over the last 24 hours ending at `end`, from `samples` (oldest
    /// first); nil when there is no sample in that time.
    static func depth(_ samples: [QueueDepthHistory.Sample], end: Date) -> [String: Any]? {
        let start = end.addingTimeInterval(-Double(hours) * 3600)
        let shown = samples.filter { $0.at >= start && $0.at <= end }
        guard !shown.isEmpty else { return nil }
        let maximum = niceMaximum(shown.map(\.visible).max() ?? 0)
        let points = shown.map { sample -> (x: Double, y: Double, sample: QueueDepthHistory.Sample) in
            let x = left + (right - left) * sample.at.timeIntervalSince(start) / (Double(hours) * 3600)
            return (x, bottom - (bottom - top) * Double(sample.visible) / Double(maximum), sample)
        }
        return [
            "width": format(width), "height": format(height), "left": format(left), "right": format(right),
            "bottom": format(bottom), "top": format(top), "yTicks": yTicks(maximum), "xTicks": xTicks(start: start, end: end),
            "line": points.map { "\(format($0.x)),\(format($0.y))" }.joined(separator: " "),
            "markers": points.map {
                [
                    "x": format($0.x), "y": format($0.y),
                    "title": "\(ConsoleTime.utc($0.sample.at)): \(ConsoleText.counted($0.sample.visible, "message")) waiting",
                ]
            },
            "latestText": ConsoleText.counted(shown[shown.count - 1].visible, "message"),
            "samplesText": ConsoleText.counted(shown.count, "sample"),
        ]
    }

    /// `1 apply`, `12 applies`.
    static func appliesText(_ count: Int) -> String {
        "\(ConsoleText.number(count)) \(count == 1 ? "apply" : "applies")"
    }

    /// `13:00–14:00 UTC`.
    static func hourSpan(_ start: Date) -> String {
        let from = ConsoleTime.utc(start).dropFirst(11).prefix(5)
        let to = ConsoleTime.utc(start.addingTimeInterval(3600)).dropFirst(11).prefix(5)
        return "\(from)–\(to) UTC"
    }

    /// Four times the smallest of 1, 2, 5 × 10ⁿ that makes four steps reach `value` (at least 4,
    /// so an empty chart has a scale): every gridline a whole number.
    static func niceMaximum(_ value: Int) -> Int {
        var step = 1
        while true {
            for factor in [1, 2, 5] where 4 * factor * step >= value { return 4 * factor * step }
            step *= 10
        }
    }

    /// Gridlines above the baseline.
    static let gridlines = 4

    /// The baseline and the gridlines, with their labels.
    static func yTicks(_ maximum: Int) -> [[String: Any]] {
        (0...gridlines).map { index in
            let y = bottom - (bottom - top) * Double(index) / Double(gridlines)
            return ["y": format(y), "labelY": format(y + 4), "label": ConsoleText.number(maximum * index / gridlines)]
        }
    }

    /// A label every 4 hours: the UTC hour.
    static func xTicks(start: Date, end: Date) -> [[String: Any]] {
        stride(from: 0, through: hours, by: 4).map { hour in
            let x = left + (right - left) * Double(hour) / Double(hours)
            let label =
                hour == hours
                ? "now" : String(ConsoleTime.utc(start.addingTimeInterval(Double(hour) * 3600)).dropFirst(11).prefix(5))
            // The ends are anchored inwards, so a large label at a narrow width stays inside the drawing.
            let anchor = hour == 0 ? "start" : hour == hours ? "end" : "middle"
            return ["x": format(x), "label": label, "anchor": anchor]
        }
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}

/// The queue depths this process read, one per minute at most, for the last 24 hours: kept in
/// memory only (nothing is stored), so the line starts when `serve` started and has gaps where
/// nobody had the overview open (each overview, and each of its refreshes, reads the depth).
final class QueueDepthHistory: Sendable {
    /// One reading.
    struct Sample: Sendable {
        var at: Date
        var visible: Int
    }

    private let samples = Mutex<[Sample]>([])

    /// Records a reading; one in the same minute as the last replaces it.
    func record(_ visible: Int, at: Date) {
        samples.withLock { samples in
            if let last = samples.last, Int(last.at.timeIntervalSince1970 / 60) == Int(at.timeIntervalSince1970 / 60) {
                samples.removeLast()
            }
            samples.append(Sample(at: at, visible: visible))
            let oldest = at.addingTimeInterval(-Double(ConsoleChart.hours) * 3600)
            if let first = samples.firstIndex(where: { $0.at >= oldest }), first > 0 { samples.removeFirst(first) }
        }
    }

    /// The readings, oldest first.
    var all: [Sample] { samples.withLock { $0 } }
}
