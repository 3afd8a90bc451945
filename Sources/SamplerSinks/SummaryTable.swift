import SamplerClassifier
import SamplerWire

/// Human-readable tables of window summaries: one row per window with each stage's
/// share, then the totals, close reasons and tag counts.
public enum SummaryTable {
    public static func render(windows: [WindowSummary], parseErrors: WireErrorCounts = WireErrorCounts(),
                              counters: ClassifierCounters? = nil) -> String {
        var lines: [String] = []
        if windows.isEmpty {
            // Nothing to share out: no table of zeros (a trial read an 'all' row of 0.0%).
            lines.append("no connections")
        } else {
            lines += table(windows)
        }
        if let counters {
            lines.append("packets: \(counters.packets), orphans: \(counters.orphans), evicted (table full): \(counters.evicted)")
        }
        if parseErrors.total > 0 {
            lines.append("parse errors: " + parseErrors.nonZero.map { "\($0.0.name) \($0.1)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A row per window, the totals, the close reasons and the tags.
    private static func table(_ windows: [WindowSummary]) -> [String] {
        var lines: [String] = []
        let stages = Stage.allCases
        let header = ["window (UTC)".padding(20), "total".leftPad(8)] + stages.map { $0.name.leftPad(9) }
        lines.append(header.joined(separator: " "))
        var total = WindowSummary(start: 0, length: 0)
        let seconds = Timestamp.needsSeconds(windows.map(\.start))
        for window in windows {
            total.merge(window)
            lines.append(row(label: Timestamp.windowLabel(window.start, seconds: seconds, separator: UInt8(ascii: "T")), window))
        }
        if windows.count != 1 { lines.append(row(label: "all", total)) }
        lines.append("")
        lines.append("close:  " + CloseReason.allCases.map { "\($0.name) \(total.count($0))" }.joined(separator: ", "))
        let tagText = Tags.all.filter { total.count($0.tag) > 0 }.map { "\($0.name) \(total.count($0.tag))" }
        lines.append("tags:   " + (tagText.isEmpty ? "none" : tagText.joined(separator: ", ")))
        if total.excluded > 0 { lines.append("\(total.excluded) \(WindowSummary.excludedNote)") }
        return lines
    }

    /// A share as a percentage with `decimals` decimals: 0.2308 is "23.1%" (tables, logs,
    /// reports), and with 2 "23.08%" (status, whose thresholds are finer).
    public static func percent(_ share: Double, decimals: Int = 1) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let units = Int((share * 100 * Double(scale)).rounded())
        guard decimals > 0 else { return "\(units)%" }
        let fraction = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction + "%"
    }

    private static func row(label: String, _ window: WindowSummary) -> String {
        let cells = Stage.allCases.map { stage -> String in
            percent(window.share(stage)).leftPad(9)
        }
        return ([label.padding(20), String(window.total).leftPad(8)] + cells).joined(separator: " ")
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }

    /// The text without the spaces at its end (a table's last column, an empty value).
    public var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// "1 connection", "3 connections": a count with its noun, singular for one. The one
/// plural rule of the messages, reports and logs.
public func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}

/// A window's length as an adjective: "15-minute", "6-hour", "1-day", "90-second".
public func windowLength(seconds: Int64) -> String {
    for (unit, name) in [(Int64(86_400), "day"), (3600, "hour"), (60, "minute")] where seconds >= unit && seconds % unit == 0 {
        return "\(seconds / unit)-\(name)"
    }
    return "\(seconds)-second"
}
