import SamplerClassifier
/// What the two sampling rules are made of: every value `sampler rules` and `sampler run`
/// agree on. The defaults are documented in docs/rules.md.
public struct RuleParameters: Sendable, Equatable {
    /// Chance that a new inbound TCP connection is sampled (the reference uses 1/10,000).
    public var probability: Double = 0.0001
    /// The conntrack label bit (0-127) or a name from /etc/xtables/connlabel.conf.
    public var label: String = "42"
    /// The NFLOG group the logging rule sends to, and `sampler run` reads.
    public var group: UInt16 = 5
    /// Packets logged per sampled connection, in the original direction.
    public var packets: Int = 10
    /// The `--nflog-prefix` of logged packets.
    public var prefix: String = "sampler"

    public init() {}

    /// The flags of `sampler rules install` that give these values: one for each value
    /// that is not the default (`RuleManager.installCommand` adds the tools and families).
    public var installFlags: [String] {
        let defaults = RuleParameters()
        var words: [String] = []
        if group != defaults.group { words.append("--group \(group)") }
        if probability != defaults.probability {
            words.append("--probability " + (probability == probability.rounded() ? String(Int(probability)) : "\(probability)"))
        }
        if label != defaults.label { words.append("--label \(label)") }
        if packets != defaults.packets { words.append("--packets \(packets)") }
        if prefix != defaults.prefix { words.append("--prefix \(prefix)") }
        return words
    }

    /// What each value may be, in words (the configuration's errors and docs use these).
    public enum Allowed {
        public static let probability = "a number at least 1/2^31 (4.7e-10, the kernel's step) and at most 1"
        public static let label = "a label bit 0 to 127, or a name from /etc/xtables/connlabel.conf"
        public static let packets = "a whole number of packets, 1 to \(Connection.capacity) (what the classifier keeps of a connection)"
        public static let prefix = "1 to 63 printable ASCII characters, no spaces, quotes, $ or \\"
    }

    /// The kernel keeps the probability as a 31-bit fraction: below one step it is 0.
    @Sendable public static func isValid(probability: Double) -> Bool {
        probability <= 1 && NftablesRuleSet.threshold(probability) >= 1
    }

    @Sendable public static func isValid(label: String) -> Bool {
        if let bit = Int(label) { return (0...127).contains(bit) }
        return !label.isEmpty && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    /// At most what the classifier keeps of a connection (`Connection.capacity`): a rule
    /// that logged more would send packets the classifier cannot hold (docs/rules.md).
    @Sendable public static func isValid(packets: Int) -> Bool { (1...Connection.capacity).contains(packets) }

    @Sendable public static func isValid(prefix: String) -> Bool {
        // Printable, no space; `$` and `\` mean something to nft's parser (a variable, an
        // escape); no quote of either kind, as the allowed text says.
        !prefix.isEmpty && prefix.utf8.count <= 63
            && prefix.unicodeScalars.allSatisfy { (33...126).contains($0.value) && !"\"'$\\".unicodeScalars.contains($0) }
    }

    /// Checks each value; the error names the option, the value and what is allowed.
    public func validate() throws(RulesError) {
        func bad(_ option: String, _ value: Any, _ allowed: String) -> RulesError { .badParameter("--\(option) '\(value)': \(allowed)") }
        guard Self.isValid(probability: probability) else { throw bad("probability", probability, Allowed.probability) }
        guard Self.isValid(label: label) else { throw bad("label", label, Allowed.label) }
        guard Self.isValid(packets: packets) else { throw bad("packets", packets, Allowed.packets) }
        guard Self.isValid(prefix: prefix) else { throw bad("prefix", prefix, Allowed.prefix) }
    }
}

public enum IPVersion: String, Sendable, CaseIterable {
    case v4 = "4", v6 = "6"
}

/// Which tools install the rules: iptables and ip6tables, as whatever `iptables` is
/// (Debian's default is the nf_tables backend) or one of its two backends by name, or
/// nft with a native table of sampler's own (docs/rules.md says when to choose which).
public enum Backend: String, Sendable, CaseIterable {
    case auto, nft, legacy, nftables

    /// The program that lists and changes the rules.
    public func command(for version: IPVersion) -> String {
        let base = version == .v4 ? "iptables" : "ip6tables"
        switch self {
        case .auto: return base
        case .nft: return base + "-nft"
        case .legacy: return base + "-legacy"
        case .nftables: return "nft"
        }
    }

    /// The matching iptables-restore binary (nft reads its input itself).
    public func restoreCommand(for version: IPVersion) -> String {
        let base = version == .v4 ? "iptables" : "ip6tables"
        switch self {
        case .auto: return base + "-restore"
        case .nft: return base + "-nft-restore"
        case .legacy: return base + "-legacy-restore"
        case .nftables: return "nft"
        }
    }
}

/// sampler's rules of the other kind found in the kernel (`RuleManager.otherBackendRules`):
/// what they are, and the command that removes them, each said where it fits (install
/// refuses, remove and show point at them, check and status say where they are).
public struct OtherBackendRules: Codable, Sendable, Equatable {
    /// "sampler's nftables table (table inet sampler) is installed".
    public var what: String
    /// The `sampler rules remove` that removes them.
    public var removal: String
    /// Installing with this backend instead would use them (for the iptables backends:
    /// the nftables table, which holds both versions); nil when there is none.
    public var installInstead: String?
    /// The backend they are in: `--backend` with it reads them.
    public var backend: String
    /// "them" or "it" (words only: not in the JSON).
    var plural = false
    private enum CodingKeys: String, CodingKey { case what, removal, installInstead, backend }

    public init(what: String, removal: String, installInstead: String? = nil, backend: Backend, plural: Bool) {
        (self.what, self.removal, self.installInstead, self.backend, self.plural) = (what, removal, installInstead, backend.rawValue, plural)
    }

    /// "remove it with 'sampler rules remove --backend nftables'".
    public var removeThem: String { "remove \(plural ? "them" : "it") with '\(removal)'" }

    /// "… is installed: remove it with 'sampler rules remove --backend nftables'".
    public var removalAdvice: String { "\(what): \(removeThem)" }

    /// Why install refuses, and the ways on.
    public var installRefusal: String {
        "\(what): remove \(plural ? "them" : "it") first with '\(removal)'" + (installInstead.map { ", or install with \($0)" } ?? "")
    }
}

public enum RulesError: Error, Equatable, CustomStringConvertible {
    case badParameter(String)
    case toolMissing(String)
    /// An iptables tool is missing where nft is (a minimal install): its backend would do.
    case iptablesMissing(String)
    case notPermitted(String)
    case kernelSupport(String)
    /// The other backend's rules are in the kernel (the text names them and their removal).
    case otherBackendInstalled(String)
    case failed(String)

    public var description: String {
        switch self {
        case .badParameter(let text): text
        case .iptablesMissing(let tool):
            "\(tool) not found: use nftables, which is here (--backend nftables, or backend = nftables in the configuration), "
                + "or install Debian's iptables package (apt-get install iptables)"
        case .toolMissing(let tool):
            "\(tool) not found: install Debian's \(tool == "nft" ? "nftables" : "iptables") package (apt-get install \(tool == "nft" ? "nftables" : "iptables"))"
        case .notPermitted(let tool):
            "\(tool) was refused: the kernel lists firewall rules, as it changes them, only for root (CAP_NET_ADMIN), so even "
                + "reading them needs it; run with sudo (to watch a running sampler without root: sampler status --skip-rules)"
        case .kernelSupport(let detail): "the kernel lacks what the rules need (\(detail)): load the modules with 'modprobe nf_conntrack xt_connlabel xt_statistic xt_connbytes xt_NFLOG nfnetlink_log', or use a kernel built with them"
        case .otherBackendInstalled(let text): "\(text): two sets of sampler's rules would log every sampled packet twice"
        case .failed(let detail): detail
        }
    }
}
