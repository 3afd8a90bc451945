import Foundation

/// sampler's table as `nft -j list table inet NAME` prints it, read into the same
/// `RuleManager.Installed` the iptables listing gives, so that check, show, status and the
/// daemon's upkeep judge both backends alike. JSON rather than the text listing: its
/// shape is nftables' documented schema (libnftables-json(5)), the text is for people.
struct NftablesListing: Equatable {
    /// The table has the chain, and the chain is a base chain on the prerouting hook.
    var chainExists = false
    var hooked = false
    var rules: [Rule] = []

    struct Rule: Equatable {
        /// `meta nfproto ipv4|ipv6` when the rule covers one family only.
        var family: IPVersion?
        var threshold: UInt64?
        var setLabel: String?
        var matchedLabel: String?
        var packetsBelow: Int?
        var group: UInt16?
        var prefix: String?
        var counter = RuleCounter(packets: 0, bytes: 0)
    }

    struct Malformed: Error { var detail: String }

    /// Reads the JSON of one table. A label nft printed by name (from its
    /// /etc/connlabel.conf) stays a name: `ConnLabels` compares it by bit.
    init(json: String, chain name: String = NftablesRuleSet.chain) throws(Malformed) {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let items = root["nftables"] as? [[String: Any]] else {
            throw Malformed(detail: "nft -j printed something that is not nftables JSON")
        }
        for item in items {
            if let chain = item["chain"] as? [String: Any], chain["name"] as? String == name {
                chainExists = true
                hooked = chain["hook"] as? String == "prerouting"
            }
            if let rule = item["rule"] as? [String: Any], rule["chain"] as? String == name {
                rules.append(Self.rule(rule["expr"] as? [[String: Any]] ?? []))
            }
        }
    }

    private static func rule(_ expressions: [[String: Any]]) -> Rule {
        var rule = Rule()
        func key(_ side: Any?, _ kind: String) -> String? { ((side as? [String: Any])?[kind] as? [String: Any])?["key"] as? String }
        func label(_ value: Any?) -> String? {
            if let bit = value as? Int { return String(bit) }
            return value as? String
        }
        for expression in expressions {
            if let match = expression["match"] as? [String: Any] {
                let left = match["left"], right = match["right"]
                if key(left, "meta") == "nfproto", let name = right as? String {
                    rule.family = name == "ipv4" ? .v4 : name == "ipv6" ? .v6 : nil
                } else if key(left, "ct") == "label" {
                    rule.matchedLabel = label(right)
                } else if key(left, "ct") == "packets", match["op"] as? String == "<", let below = right as? Int {
                    rule.packetsBelow = below
                } else if let and = (left as? [String: Any])?["&"] as? [Any], key(and.first, "meta") == "random",
                          match["op"] as? String == "<", let threshold = right as? Int {
                    rule.threshold = UInt64(threshold)
                }
            } else if let mangle = expression["mangle"] as? [String: Any], key(mangle["key"], "ct") == "label" {
                rule.setLabel = label(mangle["value"])
            } else if let counter = expression["counter"] as? [String: Any] {
                rule.counter = RuleCounter(packets: UInt64(counter["packets"] as? Int ?? 0), bytes: UInt64(counter["bytes"] as? Int ?? 0))
            } else if let log = expression["log"] as? [String: Any] {
                rule.group = (log["group"] as? Int).flatMap { UInt16(exactly: $0) } ?? 0
                rule.prefix = log["prefix"] as? String ?? ""
            }
        }
        return rule
    }

    /// What is there for one IP version: the chain, its hook as the "jump", and the
    /// values of its rules. A table whose sampling rule covers only the other family has
    /// nothing for this one.
    func installed(version: IPVersion) -> RuleManager.Installed {
        var state = RuleManager.Installed()
        let sampling = rules.first { $0.setLabel != nil }
        if let only = sampling?.family, only != version {
            state.tableSamplesOnly = only
            return state
        }
        state.chainExists = chainExists
        state.jumps = chainExists && hooked ? 1 : 0
        state.ruleCount = rules.count
        if let sampling {
            state.probability = sampling.threshold.map(NftablesRuleSet.probability(threshold:))
            state.label = sampling.setLabel
        }
        if let logging = rules.first(where: { $0.group != nil }) {
            state.group = logging.group
            state.loggedLabel = logging.matchedLabel
            state.prefix = logging.prefix
            state.packets = logging.packetsBelow.map { $0 - 1 }
        }
        state.counters = RuleCounters(sampling: sampling?.counter, logging: rules.first { $0.group != nil }?.counter)
        return state
    }
}

/// A rule's packet and byte counters.
public struct RuleCounter: Sendable, Equatable {
    public var packets: UInt64
    public var bytes: UInt64
}

/// The counters of sampler's two rules, each told by what the rule is (not by its place
/// in the chain), so that a chain that lost one never shows the other's as its; nil for
/// a rule that is not there.
public struct RuleCounters: Sendable, Equatable {
    public var sampling: RuleCounter?
    public var logging: RuleCounter?

    public init(sampling: RuleCounter? = nil, logging: RuleCounter? = nil) {
        (self.sampling, self.logging) = (sampling, logging)
    }
}
