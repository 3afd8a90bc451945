import Foundation
import SamplerClassifier
import SamplerSinks

/// The stage table as a picture: one stacked column per window, each stage's share of
/// the window's connections, anomalies at the bottom where the eye can compare them and
/// `none` (ordinary connections) on top in grey. Plain SVG 1.1, no script, no external
/// font: any browser shows it and rsvg-convert renders it to PNG.
public enum StageChart {
    /// Okabe–Ito colours: told apart with every common colour vision deficiency.
    static let colours: [Stage: String] = [
        .postSYN: "#D55E00", .postACK: "#E69F00", .postPSH: "#CC79A7", .later: "#0072B2", .none: "#C8C8C8",
    ]

    public static func svg(_ table: StageTable, title: String? = nil) -> String {
        let width = 960.0, height = 480.0
        let left = 64.0, right = 190.0, top = 62.0, bottom = 64.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let windows = table.byWindow
        let totalConnections = windows.reduce(0) { $0 + $1.row.total }
        let minutes = windowLength(seconds: table.windowSeconds)
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text id="title" x="\(left)" y="26" font-size="16" font-weight="bold">\(escape(title ?? "Where new TCP connections ended, per \(minutes) window"))</text>
            <text id="subtitle" x="\(left)" y="46" fill="#444444">\(counted(totalConnections, "connection"))\(table.excluded > 0 ? ", \(table.excluded) \(WindowSummary.excludedNote)" : ""); share of each window's connections by stage</text>

            """
        // Y axis: gridlines and labels every 25%.
        out += "<g id=\"y-axis\" fill=\"#444444\" text-anchor=\"end\">\n"
        for tick in stride(from: 0, through: 100, by: 25) {
            let y = top + plotHeight * (1 - Double(tick) / 100)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>"
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\">\(tick)%</text>\n"
        }
        out += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\" text-anchor=\"middle\">share of connections</text>\n</g>\n"

        if let first = windows.first?.window, let last = windows.last?.window {
            // Time runs left to right; a window with no connections leaves a gap.
            let span = Double(last - first + table.windowSeconds)
            let columnWidth = plotWidth * Double(table.windowSeconds) / span
            let gap = columnWidth > 6 ? min(2, columnWidth * 0.1) : 0
            func x(_ window: Int64) -> Double { left + plotWidth * Double(window - first) / span }
            for stage in Stage.allCases {
                out += "<g id=\"series-\(stage.name)\" class=\"series\" fill=\"\(colours[stage]!)\">\n"
                for (window, row) in windows where row.total > 0 {
                    let below = Stage.allCases.prefix { $0 != stage }.reduce(0.0) { $0 + row.share($1) }
                    let share = row.share(stage)
                    guard share > 0 else { continue }
                    let y = top + plotHeight * (1 - below - share)
                    let count = row.stages[Stage.allCases.firstIndex(of: stage)!]
                    out += "<rect x=\"\(f(x(window) + gap / 2))\" y=\"\(f(y))\" width=\"\(f(columnWidth - gap))\" height=\"\(f(plotHeight * share))\">"
                    out += "<title>\(StageTable.windowText(window)) UTC, \(stage.name): \(SummaryTable.percent(share)) (\(count) of \(row.total))</title></rect>\n"
                }
                out += "</g>\n"
            }
            // X axis: at most 8 labels, on windows spread evenly.
            out += "<g id=\"x-axis\" fill=\"#444444\" text-anchor=\"middle\">\n"
            out += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"#888888\"/>\n"
            let count = Int((last - first) / table.windowSeconds) + 1
            let step = max(1, Int((Double(count) / 8).rounded(.up)))
            for i in stride(from: 0, to: count, by: step) {
                let window = first + Int64(i) * table.windowSeconds
                let cx = x(window) + columnWidth / 2
                let text = StageTable.windowText(window)
                out += "<line x1=\"\(f(cx))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(cx))\" y2=\"\(f(top + plotHeight + 5))\" stroke=\"#888888\"/>"
                out += "<text x=\"\(f(cx))\" y=\"\(f(top + plotHeight + 19))\">\(text.dropFirst(5).prefix(5))</text>"
                out += "<text x=\"\(f(cx))\" y=\"\(f(top + plotHeight + 33))\">\(text.suffix(5))</text>\n"
            }
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\">window start (UTC)</text>\n</g>\n"
        } else {
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#444444\">no connections</text>\n"
        }

        // Legend, top to bottom in the order the stack reads from its top.
        var all = StageTable.Row()
        for (_, row) in windows { for i in all.stages.indices { all.stages[i] += row.stages[i] } }
        out += "<g id=\"legend\">\n"
        for (i, stage) in Stage.allCases.reversed().enumerated() {
            let y = top + 8 + Double(i) * 24
            out += "<rect x=\"\(f(width - right + 20))\" y=\"\(f(y))\" width=\"14\" height=\"14\" fill=\"\(colours[stage]!)\"/>"
            out += "<text x=\"\(f(width - right + 42))\" y=\"\(f(y + 11))\">\(stage.name) \(SummaryTable.percent(all.share(stage)))</text>\n"
        }
        out += "<text x=\"\(f(width - right + 20))\" y=\"\(f(top + 8 + 5 * 24 + 12))\" fill=\"#444444\" font-size=\"11\">all windows</text>\n</g>\n"
        out += "</svg>\n"
        return out
    }

    private static func f(_ value: Double) -> String {
        let hundredths = (value * 100).rounded() / 100
        return hundredths == hundredths.rounded() ? String(Int(hundredths)) : String(hundredths)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
