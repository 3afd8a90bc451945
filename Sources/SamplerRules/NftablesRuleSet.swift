/// sampler's rules in nftables' own words: a table of its own (`table inet sampler`, one
/// for IPv4 and IPv6) with one base chain on the prerouting hook and the same two rules
/// as the iptables chain. Written, not translated: `iptables-translate` cannot translate
/// the statistic match. docs/rules.md compares the two, rule by rule.
public enum NftablesRuleSet {
    public static let defaultTable = "sampler"
    public static let family = "inet"
    public static let chain = "prerouting"
    /// Just after the mangle priority (-150), where the iptables jump sits at the end of
    /// mangle's PREROUTING: packets meet the rules after the host's other mangle rules.
    /// Above conntrack's -200, so `ct state` and `ct label` are there.
    public static let priority = -149
    static let chainLine = "type filter hook prerouting priority mangle + 1; policy accept;"

    /// The random match's threshold: xt_statistic keeps the probability as a 31-bit
    /// fraction (`lround(p * 2^31)`, compared with a random number's low 31 bits); nft's
    /// `meta random & 0x7fffffff < K` is the same test at the same resolution.
    public static func threshold(_ probability: Double) -> UInt64 {
        UInt64((probability * 2_147_483_648).rounded())
    }

    public static func probability(threshold: UInt64) -> Double {
        RuleManager.meantProbability(Double(threshold) / 2_147_483_648)
    }

    /// The chain's two rules, one line each, as `nft list` prints them. The label is sent
    /// as its bit: nft would look a name up in its own /etc/connlabel.conf, not in the
    /// xtables file the configuration names labels from.
    public static func rules(_ p: RuleParameters, versions: [IPVersion], labels: ConnLabels = ConnLabels()) -> [String] {
        let label = labels.bit(of: p.label).map(String.init) ?? p.label
        // One family of the two: the sampling rule says which (the logging rule follows
        // the label, which only that family's connections get).
        let only = versions.count == 1 ? "meta nfproto ipv\(versions[0].rawValue) " : ""
        return [
            "\(only)iifname != \"lo\" tcp flags & (fin|syn|rst|ack) == syn ct state new meta random & 2147483647 < \(threshold(p.probability))"
                + " ct label set \(label) counter comment \"\(RuleSet.samplingComment)\"",
            "ct label \(label) ct original packets < \(p.packets + 1) counter log prefix \"\(p.prefix)\" group \(p.group)"
                + " comment \"\(RuleSet.loggingComment(p))\"",
        ]
    }

    /// A whole `nft -f` file that creates the table, or empties it if it is there, and
    /// fills it, in one transaction: a packet meets either the old rules or the new ones,
    /// never none and never both. Declaring the table and chain first lets `flush` work
    /// when they do not exist yet. The package ships this file with the defaults for
    /// operators whose /etc/nftables.conf should own the rules (docs/rules.md).
    public static func file(_ p: RuleParameters, versions: [IPVersion], table: String = defaultTable,
                            labels: ConnLabels = ConnLabels()) -> String {
        let families = versions.map { "IPv\($0.rawValue)" }.joined(separator: " and ")
        return """
            # sampler's sampling rules for \(families) (nftables: nft -f FILE, or include it in /etc/nftables.conf).
            # probability \(RuleSet.probabilityText(p.probability)), label \(p.label), group \(p.group), first \(p.packets) packets.
            # Installed by `sampler rules install --backend nftables`; removed with: nft delete table \(family) \(table)
            table \(family) \(table) {
            \tchain \(chain) {
            \t\t\(chainLine)
            \t}
            }
            flush table \(family) \(table)
            table \(family) \(table) {
            \tchain \(chain) {
            \t\t\(chainLine)
            \(rules(p, versions: versions, labels: labels).map { "\t\t" + $0 }.joined(separator: "\n"))
            \t}
            }

            """
    }

    /// Deletes the table whether or not it is there (declaring it first), in one transaction.
    public static func removeFile(table: String) -> String {
        "table \(family) \(table) {}\ndelete table \(family) \(table)\n"
    }

    /// What a table name may be: nft's identifiers, kept plain (no quoting needed anywhere).
    public static let allowedTable = "a letter, then up to 31 letters, digits or _"

    @Sendable public static func isValid(table: String) -> Bool {
        func letter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        guard let first = table.unicodeScalars.first, letter(first), table.utf8.count <= 32 else { return false }
        return table.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
