import Foundation

/// A rule that keeps packets out of conntrack before sampler's rules see them: NOTRACK or
/// CT --notrack in iptables' raw table, nftables' `notrack` in a chain on the prerouting
/// hook ahead of conntrack (priority below -200). sampler's sampling rule matches
/// connections conntrack tracks (state NEW, then a label on the connection), so a
/// connection such a rule matches is never sampled, and nothing else says so: the daemon
/// just sees fewer connections.
///
/// Read from listings, not judged by running them. What a rule's matches say about the
/// connections sampler could sample (TCP SYNs that do not come from loopback) is a
/// `Reach`: none (another protocol, `tcp` negated, the loopback interface), every one
/// (no other match: `-p tcp`, `! -i lo`, `--syn`, a family), or some (a port, an address,
/// an interface: anything else). Jumps to user chains are followed, their matches with them.
public struct UntrackingRule: Sendable, Equatable, Codable {
    /// "IPv4", "IPv6", or "IPv4, IPv6" (an nftables inet table).
    public var family: String
    /// The rule as its tool lists it.
    public var text: String
    /// Where it is, in its tool's words ("raw table, chain PREROUTING"; "table inet fw,
    /// chain raw"), and the command that lists it there.
    public var place: String
    /// It untracks every connection sampler could sample: none is sampled.
    public var coversEveryConnection: Bool

    /// The families it names, one by one.
    public var families: [String] { family.split(separator: ", ").map(String.init) }

    /// What the matches on the way to a rule say about sampled connections.
    struct Reach {
        var versions: Set<IPVersion>
        /// It cannot match one (UDP only, loopback, `! -p tcp`).
        var none = false
        /// It matches only some (a port, an address, an interface).
        var partial = false

        /// Only for `family`.
        mutating func only(_ family: IPVersion) { versions.formIntersection([family]) }

        func and(_ other: Reach) -> Reach {
            Reach(versions: versions.intersection(other.versions), none: none || other.none, partial: partial || other.partial)
        }

        func rule(text: String, place: String) -> UntrackingRule? {
            guard !none, !versions.isEmpty else { return nil }
            return UntrackingRule(family: IPVersion.allCases.filter(versions.contains).map { "IPv\($0.rawValue)" }.joined(separator: ", "),
                                  text: text, place: place, coversEveryConnection: !partial)
        }
    }

    // MARK: iptables

    /// The untracking rules of `iptables -t raw -S` (either family's tool, `family`'s),
    /// from PREROUTING and the user chains it jumps to.
    static func inIptables(_ listing: String, family: IPVersion) -> [UntrackingRule] {
        var chains: [String: [[String]]] = [:]
        for line in listing.split(separator: "\n") {
            let words = RuleManager.words(String(line))
            if words.first == "-N", let name = words[safe: 1], chains[name] == nil { chains[name] = [] }
            if words.first == "-A", let name = words[safe: 1] { chains[name, default: []].append(words) }
        }
        var found: [UntrackingRule] = []
        func walk(_ chain: String, _ reach: Reach, depth: Int) {
            guard depth < 8, let rules = chains[chain] else { return }
            for words in rules {
                let target = words.firstIndex(of: "-j").flatMap { words[safe: $0 + 1] }
                let here = reach.and(iptablesReach(words, family: family))
                if target == "NOTRACK" || (target == "CT" && words.contains("--notrack")) {
                    let shown = words.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
                    if let rule = here.rule(text: shown, place: "raw table, chain \(chain) (\(family == .v4 ? "iptables" : "ip6tables") -t raw -S \(chain))") {
                        found.append(rule)
                    }
                } else if let target, target != chain, chains[target] != nil, target != "PREROUTING" {
                    walk(target, here, depth: depth + 1)
                }
            }
        }
        walk("PREROUTING", Reach(versions: [family]), depth: 0)
        return found
    }

    /// What one `-A CHAIN ...` line's matches reach.
    static func iptablesReach(_ words: [String], family: IPVersion) -> Reach {
        var reach = Reach(versions: [family])
        let matches = Array(words.dropFirst(2).prefix { $0 != "-j" && $0 != "-g" })
        var index = 0, negated = false
        while index < matches.count {
            let word = matches[index], value = matches[safe: index + 1]
            if word == "!" {
                negated = true
                index += 1
                continue
            }
            switch word {
            case "-p":
                let tcp = value == "tcp" || value == "6"
                if value != "all" && value != "0" && tcp == negated { reach.none = true }  // -p udp; ! -p tcp
                index += 2
            case "-i":
                if value == "lo" { if !negated { reach.none = true } } else { reach.partial = true }
                index += 2
            case "-m":
                index += value == "comment" ? 4 : 2  // -m comment --comment TEXT; -m tcp
            case "--syn":
                if negated { reach.none = true }
                index += 1
            case "--tcp-flags":
                // SYN set of SYN and ACK (what --syn is): every SYN; another test, some.
                let mask = matches[safe: index + 1] ?? "", set = matches[safe: index + 2] ?? ""
                if set == "SYN" && mask.contains("SYN") && mask.contains("ACK") { if negated { reach.none = true } } else { reach.partial = true }
                index += 3
            default:
                reach.partial = true
                index += 1
            }
            negated = false
        }
        return reach
    }

    // MARK: nftables

    /// The untracking rules of `nft list ruleset` that apply to `versions`: in chains on
    /// the prerouting hook ahead of conntrack, of ip, ip6 and inet tables, and in the
    /// chains they jump to.
    static func inNftables(_ ruleset: String, versions: [IPVersion]) -> [UntrackingRule] {
        struct Chain { var early = false; var rules: [(text: String, words: [String])] = [] }
        struct Table { var name: String; var family: String; var versions: Set<IPVersion>; var chains: [String: Chain] = [:]; var order: [String] = [] }
        var tables: [Table] = []
        var chain: String?
        for line in ruleset.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            let words = nftablesWords(text)
            if words.first == "table", let family = words[safe: 1], let name = words[safe: 2] {
                let covered: Set<IPVersion> = switch family {
                case "ip": [.v4]
                case "ip6": [.v6]
                case "inet": [.v4, .v6]
                default: []  // arp, bridge, netdev: not where conntrack starts
                }
                tables.append(Table(name: name, family: family, versions: covered.intersection(versions)))
                chain = nil
            } else if words.first == "chain", let name = words[safe: 1], !tables.isEmpty {
                chain = name
                tables[tables.count - 1].chains[name] = Chain()
                tables[tables.count - 1].order.append(name)
            } else if let chain, !tables.isEmpty, !words.isEmpty, words != ["}"] {
                if words.first == "type" {
                    tables[tables.count - 1].chains[chain]?.early = hooksBeforeConntrack(words)
                } else if words.first != "policy" {
                    tables[tables.count - 1].chains[chain]?.rules.append((text, words))
                }
            }
        }
        var found: [UntrackingRule] = []
        for table in tables where !table.versions.isEmpty {
            func walk(_ name: String, _ reach: Reach, depth: Int) {
                guard depth < 8, let chain = table.chains[name] else { return }
                for rule in chain.rules {
                    let here = reach.and(nftablesReach(rule.words, versions: table.versions))
                    if rule.words.contains("notrack") {
                        let shown = rule.text.replacingOccurrences(of: #" packets [0-9]+ bytes [0-9]+"#, with: "", options: .regularExpression)
                        let place = "table \(table.family) \(table.name), chain \(name) (nft -a list chain \(table.family) \(table.name) \(name))"
                        if let untracking = here.rule(text: shown, place: place) { found.append(untracking) }
                    } else if let at = rule.words.firstIndex(where: { $0 == "jump" || $0 == "goto" }), let target = rule.words[safe: at + 1] {
                        walk(target, here, depth: depth + 1)
                    }
                }
            }
            for name in table.order where table.chains[name]?.early == true {
                walk(name, Reach(versions: table.versions), depth: 0)
            }
        }
        return found
    }

    /// A chain's `type filter hook prerouting priority P;`: whether it runs before
    /// conntrack (priority -200), where an untracked packet never gets a connection.
    static func hooksBeforeConntrack(_ words: [String]) -> Bool {
        guard let hook = words.firstIndex(of: "hook"), words[safe: hook + 1] == "prerouting",
              let at = words.firstIndex(of: "priority"), let base = words[safe: at + 1] else { return false }
        let named = ["raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50]
        guard var priority = named[base] ?? Int(base) else { return false }
        if let sign = words[safe: at + 2], let offset = words[safe: at + 3].flatMap({ Int($0) }) {
            if sign == "+" { priority += offset } else if sign == "-" { priority -= offset }
        }
        return priority < -200
    }

    /// A line's words, with the punctuation of sets and statements taken off.
    static func nftablesWords(_ text: String) -> [String] {
        RuleManager.words(text).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "{},();")) }.filter { !$0.isEmpty }
    }

    static let protocols: Set<String> = ["tcp", "udp", "udplite", "icmp", "icmpv6", "ipv6-icmp", "sctp", "dccp", "gre", "esp", "ah"]
    static let tcpFlags: Set<String> = ["&", "|", "==", "!=", "/", "fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"]

    /// What one nftables rule's matches reach.
    static func nftablesReach(_ words: [String], versions: Set<IPVersion>) -> Reach {
        var reach = Reach(versions: versions)
        var index = 0
        /// `!=` after the expression's name, if there is one: the rest of it is negated.
        func negation(at position: Int) -> (Bool, Int) { words[safe: position] == "!=" ? (true, position + 1) : (false, position) }
        while index < words.count {
            let word = words[index], next = words[safe: index + 1]
            switch (word, next) {
            case ("counter", _), ("notrack", _):
                index += 1
            case ("packets", _), ("bytes", _), ("comment", _):
                index += 2
            case ("meta", "l4proto"), ("ip", "protocol"), ("ip6", "nexthdr"):
                if word == "ip" { reach.only(.v4) } else if word == "ip6" { reach.only(.v6) }
                let (negated, start) = negation(at: index + 2)
                var at = start, named: [String] = []
                while let value = words[safe: at], protocols.contains(value) || Int(value) != nil {
                    named.append(value == "6" ? "tcp" : value)
                    at += 1
                }
                if named.contains("tcp") == negated { reach.none = true }
                if !negated && named.isEmpty { reach.partial = true }
                index = at
            case ("meta", "nfproto"):
                let (negated, at) = negation(at: index + 2)
                if let value = words[safe: at], let family = value == "ipv4" ? IPVersion.v4 : value == "ipv6" ? .v6 : nil {
                    reach.versions = negated ? reach.versions.subtracting([family]) : reach.versions.intersection([family])
                } else {
                    reach.partial = true
                }
                index = at + 1
            case ("meta", _) where next == "iif" || next == "iifname":
                index += 1  // the same as without `meta`
            case ("iif", _), ("iifname", _):
                let (negated, at) = negation(at: index + 1)
                if words[safe: at] == "lo" { if !negated { reach.none = true } } else { reach.partial = true }
                index = at + 1
            case ("tcp", "flags"):
                var at = index + 2
                var tested: [String] = []
                while let value = words[safe: at], tcpFlags.contains(value) {
                    tested.append(value)
                    at += 1
                }
                // `tcp flags syn`, `tcp flags & (fin | syn | rst | ack) == syn`: every SYN.
                let compared = tested.lastIndex(of: "==").map { Array(tested[($0 + 1)...]) } ?? tested
                if compared != ["syn"] || tested.contains("!=") { reach.partial = true }
                index = at
            case ("ip", _), ("ip6", _):
                reach.only(word == "ip" ? .v4 : .v6)
                reach.partial = true
                index += 2
            case ("tcp", _):
                reach.partial = true  // a port, a sequence number: some
                index += 2
            default:
                if protocols.contains(word) && word != "tcp" {
                    reach.none = true  // `udp dport 53`: another protocol's header
                } else if word != "jump" && word != "goto" {
                    reach.partial = true
                } else {
                    index += 1  // its chain's name
                }
                index += 1
            }
        }
        return reach
    }
}

extension Array {
    /// The element at `index`, or nil past either end (a listing's last word has no value).
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
