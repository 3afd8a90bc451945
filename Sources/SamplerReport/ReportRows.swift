import Foundation
import SamplerClassifier
import SamplerSinks

/// How `sampler report` prints a view: the table people read, or JSON or CSV for scripts
/// (docs/clickhouse.md, "Reports for scripts").
public enum OutputStyle: String, Sendable, CaseIterable {
    case text, json, csv
}

/// A report view as named columns and rows of typed cells: what the JSON and CSV outputs
/// print (and the signature view's table), so that every output of a view has the same
/// rows and the same numbers.
public struct ReportRows: Sendable {
    public enum Cell: Sendable, Equatable {
        /// A window start, seconds since the epoch: "2026-11-20 10:00" in a table,
        /// "2026-11-20T10:00:00Z" in JSON and CSV.
        case window(Int64)
        case text(String)
        case count(Int)
        /// A fraction (0.25); `nil` when it has nothing to divide (null, "-" in a table).
        case share(Double?)
        /// Radar's percentages (25.0), rounded to six places as Radar's API gives them.
        case percent(Double)
        /// Counts by name, largest first: a JSON object, `name:count` pairs in CSV.
        case counts([(name: String, count: Int)])
        /// Not known (an AS number the database did not have): null, empty in CSV, "-".
        case missing

        public static func == (a: Cell, b: Cell) -> Bool {
            switch (a, b) {
            case let (.window(x), .window(y)): x == y
            case let (.text(x), .text(y)): x == y
            case let (.count(x), .count(y)): x == y
            case let (.share(x), .share(y)): x == y
            case let (.percent(x), .percent(y)): x == y
            case let (.counts(x), .counts(y)): x.map(\.name) == y.map(\.name) && x.map(\.count) == y.map(\.count)
            case (.missing, .missing): true
            default: false
            }
        }
    }

    public var columns: [String]
    public var rows: [[Cell]]

    /// A header row, then one line per row; fields quoted only where CSV needs it (RFC 4180).
    public func csv() -> String {
        var lines = [columns.map(Self.csvField).joined(separator: ",")]
        for row in rows {
            lines.append(row.map { cell in
                switch cell {
                case .counts(let pairs): Self.csvField(pairs.map { "\($0.name):\($0.count)" }.joined(separator: " "))
                default: Self.csvField(Self.plain(cell))
                }
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The rows as a JSON array of objects, keys in column order.
    public func jsonArray() -> String {
        "[" + rows.map { row in
            "{" + zip(columns, row).map { JSONText.string($0) + ":" + JSONText.value($1) }.joined(separator: ",") + "}"
        }.joined(separator: ",\n ") + "]"
    }

    /// The rows as a table: each column as wide as its widest cell, text to the left,
    /// numbers to the right.
    public func text() -> String {
        let starts = rows.flatMap { $0.compactMap { cell -> Int64? in if case .window(let seconds) = cell { seconds * 1_000_000 } else { nil } } }
        let seconds = Timestamp.needsSeconds(starts)
        let cells = rows.map { $0.map { Self.readable($0, seconds: seconds) } }
        let widths = columns.indices.map { i in max(columns[i].count, cells.map { $0[i].count }.max() ?? 0) }
        let numeric = columns.indices.map { i in rows.allSatisfy { row in
            switch row[i] { case .window, .text, .missing: false; default: true }
        } }
        func line(_ fields: [String]) -> String {
            fields.indices.map { i in
                let fill = String(repeating: " ", count: widths[i] - fields[i].count)
                return numeric[i] ? fill + fields[i] : fields[i] + fill
            }.joined(separator: "  ")
        }
        return ([line(columns)] + cells.map(line)).map { $0.trimmingTrailingSpaces }.joined(separator: "\n") + "\n"
    }

    static func readable(_ cell: Cell, seconds withSeconds: Bool = false) -> String {
        switch cell {
        case .window(let seconds): StageTable.windowText(seconds, seconds: withSeconds)
        case .share(let share): share.map { SummaryTable.percent($0) } ?? "-"
        case .percent(let percent): SummaryTable.percent(percent / 100)
        case .counts(let pairs): pairs.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        case .missing: "-"
        default: plain(cell)
        }
    }

    static func plain(_ cell: Cell) -> String {
        switch cell {
        case .window(let seconds): JSONText.time(seconds)
        case .text(let text): text
        case .count(let count): String(count)
        case .share(let share): share.map { "\($0)" } ?? ""
        case .percent(let percent): "\(JSONText.rounded(percent))"
        case .counts(let pairs): pairs.map { "\($0.name) \($0.count)" }.joined(separator: " ")
        case .missing: ""
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The little JSON the reports write: strings escaped per RFC 8259, numbers as numbers.
enum JSONText {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func value(_ cell: ReportRows.Cell) -> String {
        switch cell {
        case .window(let seconds): string(time(seconds))
        case .text(let text): string(text)
        case .count(let count): String(count)
        case .share(let share): share.map { "\($0)" } ?? "null"
        case .percent(let percent): "\(rounded(percent))"
        case .counts(let pairs): "{" + pairs.map { string($0.name) + ":" + String($0.count) }.joined(separator: ",") + "}"
        case .missing: "null"
        }
    }

    /// "2026-11-20T10:00:00Z".
    static func time(_ seconds: Int64) -> String {
        var out: [UInt8] = []
        Timestamp.appendDateTime(seconds * 1_000_000, separator: UInt8(ascii: "T"), to: &out)
        return String(decoding: out, as: UTF8.self) + "Z"
    }

    /// Six decimal places, as Radar's API gives its shares.
    static func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
}
