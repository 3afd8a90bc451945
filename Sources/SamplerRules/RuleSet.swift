/// The rules sampler installs, as iptables-restore input. They live in a chain of their
/// own, SAMPLER in the mangle table, reached from PREROUTING by one jump rule: replacing
/// the chain is atomic, installing twice leaves one copy, and removing takes out exactly
/// the jump and the chain.
public enum RuleSet {
    public static let table = "mangle"
    public static let chain = "SAMPLER"
    public static let hook = "PREROUTING"
    public static let jumpComment = "sampler: sample new inbound TCP connections"
    /// The rules' comments, the same on both backends.
    public static let samplingComment = "sampler: label a sample of new inbound TCP connections"
    public static func loggingComment(_ p: RuleParameters) -> String { "sampler: log the first \(p.packets) packets of each sampled connection" }

    /// The jump from PREROUTING, as iptables arguments after `-t mangle -A|-C|-D`.
    public static var jumpArguments: [String] {
        [hook, "-m", "comment", "--comment", jumpComment, "-j", chain]
    }

    /// The chain's two rules, one line each, as `iptables-save` would list them.
    public static func rules(_ p: RuleParameters) -> [String] {
        let label = quoted(p.label)
        return [
            // Not loopback: connections the host makes to itself (a local ClickHouse that
            // sampler ships to, above all) are not clients arriving from the network.
            "-A \(chain) ! -i lo -p tcp --syn -m state --state NEW -m statistic --mode random --probability \(probabilityText(p.probability))"
                + " -m connlabel --label \(label) --set -m comment --comment \"\(samplingComment)\"",
            "-A \(chain) -m connlabel --label \(label) -m connbytes ! --connbytes \(p.packets + 1) --connbytes-dir original"
                + " --connbytes-mode packets -m comment --comment \"\(loggingComment(p))\""
                + " -j NFLOG --nflog-group \(p.group) --nflog-prefix \(quoted(p.prefix))",
        ]
    }

    /// A whole iptables-restore file for `--noflush`: declaring the chain creates it, or
    /// empties it if it exists, and the two rules refill it in one transaction. The jump
    /// is added separately, once (`RuleManager.install`).
    public static func restoreFile(_ p: RuleParameters, version: IPVersion) -> String {
        """
        # sampler's sampling rules for IPv\(version.rawValue) (iptables-restore format, use with --noflush).
        # probability \(probabilityText(p.probability)), label \(p.label), group \(p.group), first \(p.packets) packets.
        # Installed by `sampler rules install`; by hand: ip\(version == .v4 ? "" : "6")tables-restore --noflush < FILE,
        # then: ip\(version == .v4 ? "" : "6")tables -t mangle -A \(jumpArguments.map(shellQuoted).joined(separator: " "))
        *\(table)
        :\(chain) - [0:0]
        \(rules(p).joined(separator: "\n"))
        COMMIT

        """
    }

    /// Up to 11 significant digits, as iptables prints, without trailing zeros.
    static func probabilityText(_ value: Double) -> String {
        var text = String(value)
        if text.contains("e") {
            // Scientific notation is not iptables syntax: write the decimal out.
            var digits = value
            var decimals = 0
            while digits != digits.rounded() && decimals < 11 { digits *= 10; decimals += 1 }
            text = "0." + String(repeating: "0", count: max(0, decimals - String(Int(digits.rounded())).count))
                + String(Int(digits.rounded()))
        }
        return text
    }

    static func quoted(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." } ? text : "\"\(text)\""
    }

    /// An argument as a shell takes it back: in double quotes when it holds a space.
    public static func shellQuoted(_ text: String) -> String {
        text.contains(" ") ? "\"\(text)\"" : text
    }
}
