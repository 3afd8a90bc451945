import Foundation

/// A rule that keeps packets out of conntrack before sampler's rules see them: NOTRACK or
/// CT --notrack in iptables' raw table, nftables' `notrack` in a chain on the prerouting
/// hook. sampler's sampling rule matches connections conntrack tracks (state NEW, then a
/// label on the connection), so a connection such a rule matches is never sampled, and
/// nothing else says so: the daemon just sees fewer connections.
///
/// Read from listings, not judged by running them: a rule whose matches name another
/// protocol (udp, icmp) or the loopback interface cannot untrack a client's TCP
/// connection and is left out; any other match (a port, an address, an interface) may
/// cover some of them. Rules in user chains are not followed.
public struct UntrackingRule: Sendable, Equatable, Codable {
    /// "IPv4", "IPv6", or "IPv4, IPv6" for an nftables inet table.
    public var family: String
    /// The rule as its tool lists it.
    public var text: String
    /// It has no match beyond TCP: no inbound connection is tracked, so none is sampled.
    public var coversEveryConnection: Bool

    /// Protocols whose match keeps a rule off TCP, by name (both tools) and, after -p, by
    /// number (iptables).
    static let otherProtocolNames: Set<String> = ["udp", "udplite", "icmp", "icmpv6", "ipv6-icmp", "sctp", "dccp", "gre", "esp", "ah"]
    static let otherProtocols = otherProtocolNames.union(["17", "1", "58", "132", "33", "47", "50", "51", "136"])

    /// The untracking rules of `iptables -t raw -S PREROUTING` (either family's tool).
    static func inIptables(_ listing: String, family: String) -> [UntrackingRule] {
        listing.split(separator: "\n").compactMap { line in
            let words = RuleManager.words(String(line))
            guard words.starts(with: ["-A", "PREROUTING"]),
                  words.contains("NOTRACK") || (words.contains("CT") && words.contains("--notrack")) else { return nil }
            // What the rule matches, without what it does and its comment.
            var matches: [String] = []
            var index = 2
            while index < words.count {
                switch words[index] {
                case "-j": index = words.count  // the target and its options end the matches
                case "-m" where words[safe: index + 1] == "comment":
                    index += 4  // -m comment --comment TEXT
                default:
                    matches.append(words[index])
                    index += 1
                }
            }
            for (position, word) in matches.enumerated() {
                let negated = position > 0 && matches[position - 1] == "!"
                let value = matches[safe: position + 1]
                if word == "-p", let value, otherProtocols.contains(value) != negated { return nil }
                if word == "-p", value == "tcp" || value == "6", negated { return nil }
                if word == "-i", value == "lo", !negated { return nil }
            }
            let beyondTCP = matches.filter { !["-p", "tcp", "6", "-m"].contains($0) }
            return UntrackingRule(family: family, text: String(line), coversEveryConnection: beyondTCP.isEmpty)
        }
    }

    /// The untracking rules of `nft list ruleset` that apply to `versions`: those in
    /// chains on the prerouting hook of an ip, ip6 or inet table.
    static func inNftables(_ ruleset: String, versions: [IPVersion]) -> [UntrackingRule] {
        var found: [UntrackingRule] = []
        var tableVersions: [IPVersion] = []
        var hooked = false
        for line in ruleset.split(separator: "\n") {
            let rule = line.trimmingCharacters(in: .whitespaces)
            let words = RuleManager.words(rule)
            if words.first == "table" {
                tableVersions = switch words[safe: 1] {
                case "ip": [.v4]
                case "ip6": [.v6]
                case "inet": [.v4, .v6]
                default: []  // arp, bridge, netdev: not where conntrack starts
                }
                hooked = false
                continue
            }
            if words.first == "chain" { hooked = false; continue }
            if words.starts(with: ["type"]) {
                hooked = words.contains("hook") && words[safe: (words.firstIndex(of: "hook") ?? 0) + 1] == "prerouting"
                continue
            }
            let applies = versions.filter(tableVersions.contains)
            guard hooked, !applies.isEmpty, words.contains("notrack") else { continue }
            // Names only: a number here is a port, a mark or a zone, not a protocol.
            if words.contains(where: otherProtocolNames.contains) && !words.contains("tcp") { continue }
            if let at = words.firstIndex(where: { $0 == "iifname" || $0 == "iif" }), words[safe: at + 1] == "lo" { continue }
            // What the rule matches, without its counter, its comment and the verdict.
            var matches: [String] = []
            var index = 0
            while index < words.count {
                switch words[index] {
                case "counter": index += 1
                case "packets", "bytes", "comment": index += 2
                case "notrack": index += 1
                default:
                    matches.append(words[index])
                    index += 1
                }
            }
            let onlyTCP = matches.isEmpty || [["meta", "l4proto", "tcp"], ["ip", "protocol", "tcp"], ["ip6", "nexthdr", "tcp"]].contains(matches)
            found.append(UntrackingRule(
                family: applies.map { "IPv\($0.rawValue)" }.joined(separator: ", "),
                text: rule.replacingOccurrences(of: #" packets [0-9]+ bytes [0-9]+"#, with: "", options: .regularExpression),
                coversEveryConnection: onlyTCP))
        }
        return found
    }
}

extension Array {
    /// The element at `index`, or nil past either end (a listing's last word has no value).
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
