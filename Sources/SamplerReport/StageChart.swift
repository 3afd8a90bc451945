import Foundation
import SamplerClassifier
import SamplerSinks

/// The stage table as a picture: one stacked column per window, each stage's share of
/// the window's connections, anomalies at the bottom where the eye can compare them and
/// `none` (ordinary connections) on top in grey, with the window's count under its
/// column. With `--by`, small multiples: one panel per group, the largest groups first,
/// on one time axis, so that the groups compare at a glance (grouped columns would put
/// five stages times several groups side by side in each window). Plain SVG 1.1, no
/// script, no external font: any browser shows it and rsvg-convert renders it to PNG.
public enum StageChart {
    /// Okabe–Ito colours: told apart with every common colour vision deficiency.
    static let colours: [Stage: String] = [
        .postSYN: "#D55E00", .postACK: "#E69F00", .postPSH: "#CC79A7", .later: "#0072B2", .none: "#C8C8C8",
    ]

    /// What each stage means, for the legend (docs/classification.md).
    static let meanings: [Stage: String] = [
        .postSYN: "reset or timeout after the SYN",
        .postACK: "after the handshake, no data",
        .postPSH: "after the first data packet",
        .later: "after more data",
        .none: "no reset or timeout",
    ]

    /// Panels drawn at most with --by; the others are named in the subtitle.
    public static let maximumPanels = 6

    struct Panel {
        var title: String?
        var windows: [(window: Int64, row: StageTable.Row)]
        var total: Int { windows.reduce(0) { $0 + $1.row.total } }
    }

    /// `label` names a group (an AS number with its name).
    public static func svg(_ table: StageTable, title: String? = nil, label: (String) -> String = { $0 }) -> String {
        let (panels, more) = self.panels(table, label: label)
        let width = 960.0, left = 64.0, right = 250.0, top = 62.0, bottom = 64.0
        let panelHeight = panels.count == 1 ? 354.0 : 150.0, panelGap = panels.count == 1 ? 0.0 : 34.0
        let height = top + Double(panels.count) * (panelHeight + panelGap) - panelGap + bottom
        let plotWidth = width - left - right
        let totalConnections = panels.reduce(0) { $0 + $1.total } + more.connections
        let minutes = windowLength(seconds: table.windowSeconds)
        let heading = title ?? (table.grouping == .none ? "Where new TCP connections ended, per \(minutes) window"
            : "Where new TCP connections ended, per \(minutes) window, by \(table.grouping.heading)")
        var subtitle = "\(counted(totalConnections, "connection"))"
            + (table.excluded > 0 ? ", \(table.excluded) \(WindowSummary.excludedNote)" : "")
        if more.groups > 0 {
            subtitle += "; the \(panels.count) largest of \(panels.count + more.groups) groups (\(counted(more.connections, "connection")) in the others)"
        }
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text id="title" x="\(left)" y="26" font-size="16" font-weight="bold">\(escape(heading))</text>
            <text id="subtitle" x="\(left)" y="46" fill="#444444">\(escape(subtitle)); share of each window's connections by stage, count below</text>

            """
        // One time axis for every panel: the first to the last window with connections.
        let all = panels.flatMap { $0.windows.map(\.window) }
        let seconds = Timestamp.needsSeconds(all.map { $0 * 1_000_000 })
        guard let first = all.min(), let last = all.max() else {
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + panelHeight / 2))\" text-anchor=\"middle\" fill=\"#444444\">no connections</text>\n"
            return out + legend(x: width - right + 20, y: top, whole: StageTable.Row()) + "</svg>\n"
        }
        let span = Double(last - first + table.windowSeconds)
        let columnWidth = plotWidth * Double(table.windowSeconds) / span
        let gap = columnWidth > 6 ? min(2, columnWidth * 0.1) : 0
        func x(_ window: Int64) -> Double { left + plotWidth * Double(window - first) / span }
        // Counts fit under columns at least 22 px wide; narrower ones keep theirs in the hover text.
        let showCounts = columnWidth >= 22

        for (index, panel) in panels.enumerated() {
            let panelTop = top + Double(index) * (panelHeight + panelGap) + (panel.title == nil ? 0 : 14)
            let plotHeight = panelHeight - (panel.title == nil ? 0 : 14) - (showCounts ? 16 : 0)
            let id = panels.count == 1 ? "" : "-\(index + 1)"
            out += "<g id=\"panel\(id)\" class=\"panel\">\n"
            if let name = panel.title {
                out += "<text class=\"panel-title\" x=\"\(f(left))\" y=\"\(f(panelTop - 6))\" font-weight=\"bold\">\(escape(name)) "
                    + "<tspan font-weight=\"normal\" fill=\"#444444\">\(counted(panel.total, "connection"))</tspan></text>\n"
            }
            // Y axis: gridlines and labels every 25% (every 50% in a small panel).
            out += "<g class=\"y-axis\" fill=\"#444444\" text-anchor=\"end\">\n"
            for tick in stride(from: 0, through: 100, by: panels.count == 1 ? 25 : 50) {
                let y = panelTop + plotHeight * (1 - Double(tick) / 100)
                out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>"
                out += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\">\(tick)%</text>\n"
            }
            if panels.count == 1 {
                out += "<text x=\"16\" y=\"\(f(panelTop + plotHeight / 2))\" transform=\"rotate(-90 16 \(f(panelTop + plotHeight / 2)))\" text-anchor=\"middle\">share of connections</text>\n"
            }
            out += "</g>\n"
            for stage in Stage.allCases {
                out += "<g id=\"series-\(stage.name)\(id)\" class=\"series\" fill=\"\(colours[stage]!)\">\n"
                for (window, row) in panel.windows where row.total > 0 {
                    let below = Stage.allCases.prefix { $0 != stage }.reduce(0.0) { $0 + row.share($1) }
                    let share = row.share(stage)
                    guard share > 0 else { continue }
                    let y = panelTop + plotHeight * (1 - below - share)
                    out += "<rect x=\"\(f(x(window) + gap / 2))\" y=\"\(f(y))\" width=\"\(f(columnWidth - gap))\" height=\"\(f(plotHeight * share))\">"
                    out += "<title>\(StageTable.windowText(window, seconds: seconds)) UTC\(panel.title.map { ", \(escape($0))" } ?? ""), \(stage.name): "
                        + "\(SummaryTable.percent(share)) (\(row.count(stage)) of \(row.total))</title></rect>\n"
                }
                out += "</g>\n"
            }
            if showCounts {
                out += "<g class=\"counts\" fill=\"#444444\" font-size=\"10\" text-anchor=\"middle\">\n"
                for (window, row) in panel.windows where row.total > 0 {
                    out += "<text x=\"\(f(x(window) + columnWidth / 2))\" y=\"\(f(panelTop + plotHeight + 12))\">\(row.total)</text>\n"
                }
                out += "</g>\n"
            }
            out += "</g>\n"
        }

        // X axis under the last panel: at most 8 labels, on windows spread evenly.
        let axis = top + Double(panels.count) * (panelHeight + panelGap) - panelGap
        out += "<g id=\"x-axis\" fill=\"#444444\" text-anchor=\"middle\">\n"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(axis))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(axis))\" stroke=\"#888888\"/>\n"
        let count = Int((last - first) / table.windowSeconds) + 1
        let step = max(1, Int((Double(count) / 8).rounded(.up)))
        for i in stride(from: 0, to: count, by: step) {
            let window = first + Int64(i) * table.windowSeconds
            let cx = x(window) + columnWidth / 2
            let text = StageTable.windowText(window, seconds: seconds)
            out += "<line x1=\"\(f(cx))\" y1=\"\(f(axis))\" x2=\"\(f(cx))\" y2=\"\(f(axis + 5))\" stroke=\"#888888\"/>"
            out += "<text x=\"\(f(cx))\" y=\"\(f(axis + 19))\">\(text.dropFirst(5).prefix(5))</text>"
            out += "<text x=\"\(f(cx))\" y=\"\(f(axis + 33))\">\(text.suffix(5))</text>\n"
        }
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\">window start (UTC)</text>\n</g>\n"

        var whole = StageTable.Row()
        for panel in panels { for (_, row) in panel.windows { for i in whole.stages.indices { whole.stages[i] += row.stages[i] } } }
        return out + legend(x: width - right + 20, y: top, whole: whole) + "</svg>\n"
    }

    /// The panels: the whole table, or its largest groups (by connections, then name), and
    /// how many groups and connections are left out.
    static func panels(_ table: StageTable, label: (String) -> String) -> ([Panel], more: (groups: Int, connections: Int)) {
        guard table.grouping != .none else { return ([Panel(title: nil, windows: table.byWindow)], (0, 0)) }
        var byGroup: [String: [Int64: StageTable.Row]] = [:]
        for (key, row) in table.rows { byGroup[key.group, default: [:]][key.window] = row }
        let ranked = byGroup.map { group, windows in (group, windows, windows.values.reduce(0) { $0 + $1.total }) }
            .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }
        guard !ranked.isEmpty else { return ([Panel(title: nil, windows: [])], (0, 0)) }
        let shown = ranked.prefix(maximumPanels).map { group, windows, _ in
            Panel(title: label(group), windows: windows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        let rest = ranked.dropFirst(maximumPanels)
        return (shown, (rest.count, rest.reduce(0) { $0 + $1.2 }))
    }

    /// Top to bottom in the order the stack reads from its top: each stage, what it
    /// means, and its share over everything drawn.
    static func legend(x: Double, y: Double, whole: StageTable.Row) -> String {
        var out = "<g id=\"legend\">\n"
        for (i, stage) in Stage.allCases.reversed().enumerated() {
            let top = y + 8 + Double(i) * 34
            out += "<rect x=\"\(f(x))\" y=\"\(f(top))\" width=\"14\" height=\"14\" fill=\"\(colours[stage]!)\"/>"
            out += "<text x=\"\(f(x + 22))\" y=\"\(f(top + 11))\">\(stage.name) \(SummaryTable.percent(whole.share(stage)))</text>"
            out += "<text x=\"\(f(x + 22))\" y=\"\(f(top + 25))\" fill=\"#444444\" font-size=\"10\">\(escape(meanings[stage]!))</text>\n"
        }
        out += "<text x=\"\(f(x))\" y=\"\(f(y + 8 + 5 * 34 + 8))\" fill=\"#444444\" font-size=\"11\">shares over all that is drawn</text>\n</g>\n"
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
