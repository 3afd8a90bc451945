import Foundation

/// Conntrack label names, as iptables' connlabel match reads them from
/// /etc/xtables/connlabel.conf and nft from /etc/connlabel.conf ("<bit> <name>" per line).
/// Both print a label by its name when their file names its bit, so rules compare labels
/// by bit, never by text.
public struct ConnLabels: Sendable {
    /// Where a configured label name is looked up first (iptables' file).
    public static let defaultPath = "/etc/xtables/connlabel.conf"
    /// nft's file: names nft prints are looked up here too.
    public static let nftablesPath = "/etc/connlabel.conf"
    private var bits: [String: Int] = [:]

    /// Reads the files in order (a name keeps the bit of the first file that has it); a
    /// missing or unreadable file names nothing.
    public init(paths: [String] = [ConnLabels.defaultPath, ConnLabels.nftablesPath]) {
        self.init(text: paths.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n"))
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
