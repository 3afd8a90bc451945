import Foundation

/// Conntrack label names, as iptables' connlabel match reads them from
/// /etc/xtables/connlabel.conf ("<bit> <name>" per line). `iptables -S` prints a label by
/// its name when the file names its bit, so rules compare labels by bit, never by text.
public struct ConnLabels: Sendable {
    public static let defaultPath = "/etc/xtables/connlabel.conf"
    private var bits: [String: Int] = [:]

    /// Reads `path`; a missing or unreadable file names nothing.
    public init(path: String = ConnLabels.defaultPath) {
        self.init(text: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    public init(text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, let bit = Int(words[0]), (0...127).contains(bit) else { continue }
            // The first name for a bit is the one iptables prints.
            if bits[String(words[1])] == nil { bits[String(words[1])] = bit }
        }
    }

    /// The bit of a label given as a number or a name; nil for an unknown name.
    public func bit(of label: String) -> Int? { Int(label) ?? bits[label] }

    /// Whether two labels name the same bit (the text, when a name is unknown).
    public func same(_ a: String, _ b: String) -> Bool {
        if let x = bit(of: a), let y = bit(of: b) { return x == y }
        return a == b
    }
}
