import Testing
@testable import SamplerRules

/// The rules that keep connections out of conntrack, read from listings as the tools print
/// them (iptables-nft 1.8.9 and nft 1.0.6 of Debian 12), with what each rule's matches
/// reach of the connections sampler samples (TCP SYNs not from loopback).
@Suite struct UntrackingRuleTests {
    @Test func iptablesRawRulesAreReadWithWhatTheyReach() {
        let listing = """
            -P PREROUTING ACCEPT
            -N FW
            -A PREROUTING -p udp -m udp --dport 53 -j CT --notrack
            -A PREROUTING -i lo -j NOTRACK
            -A PREROUTING ! -p tcp -j NOTRACK
            -A PREROUTING ! -p udp -j NOTRACK
            -A PREROUTING -p tcp -m tcp --dport 80 -j CT --notrack
            -A PREROUTING -p tcp -m comment --comment "no state for the web" -j NOTRACK
            -A PREROUTING ! -i lo -j NOTRACK
            -A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j NOTRACK
            -A PREROUTING -s 192.0.2.0/24 -j FW
            -A PREROUTING -s 192.0.2.0/24 -j CT --zone 1
            -A FW -j NOTRACK
            """
        let rules = UntrackingRule.inIptables(listing, family: .v4)
        #expect(rules.map(\.text) == [
            "-A PREROUTING ! -p udp -j NOTRACK",
            "-A PREROUTING -p tcp -m tcp --dport 80 -j CT --notrack",
            "-A PREROUTING -p tcp -m comment --comment \"no state for the web\" -j NOTRACK",
            "-A PREROUTING ! -i lo -j NOTRACK",
            "-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j NOTRACK",
            "-A FW -j NOTRACK",
        ])
        // `! -i lo` and --syn are what sampler's own rule matches: every connection it samples.
        #expect(rules.map(\.coversEveryConnection) == [true, false, true, true, true, false])
        #expect(rules.allSatisfy { $0.family == "IPv4" })
        #expect(rules.last?.place == "raw table, chain FW (iptables -t raw -S FW)")
    }

    @Test func nftablesNotrackBeforeConntrackIsReadPerFamily() {
        let ruleset = """
            table ip raw {
            \tchain PREROUTING {
            \t\ttype filter hook prerouting priority raw; policy accept;
            \t\ttcp dport 80 counter packets 0 bytes 0 notrack
            \t}
            \tchain OUTPUT {
            \t\ttype filter hook output priority raw; policy accept;
            \t\tcounter packets 0 bytes 0 notrack
            \t}
            }
            table inet fw {
            \tchain raw {
            \t\ttype filter hook prerouting priority raw; policy accept;
            \t\tudp dport 53 notrack
            \t\tiifname "lo" notrack
            \t\tmeta mark 1 notrack
            \t\tmeta l4proto { tcp, udp } counter packets 12 bytes 720 comment "all of it" notrack
            \t\tmeta l4proto != tcp notrack
            \t\tip protocol tcp notrack
            \t\tmeta nfproto ipv6 notrack
            \t\tiif != "lo" notrack
            \t\ttcp flags syn notrack
            \t\ttcp flags & (fin | syn | rst | ack) == syn notrack
            \t\tjump untrack
            \t}
            \tchain untrack {
            \t\ttcp dport 22 notrack
            \t}
            \tchain late {
            \t\ttype filter hook prerouting priority filter; policy accept;
            \t\tnotrack
            \t}
            }
            table netdev edge {
            \tchain ingress {
            \t\ttype filter hook ingress device "eth0" priority 0; policy accept;
            \t\tnotrack
            \t}
            }
            """
        let rules = UntrackingRule.inNftables(ruleset, versions: [.v4, .v6])
        #expect(rules.map(\.text) == [
            "tcp dport 80 counter notrack",
            "meta mark 1 notrack",
            "meta l4proto { tcp, udp } counter comment \"all of it\" notrack",
            "ip protocol tcp notrack",
            "meta nfproto ipv6 notrack",
            "iif != \"lo\" notrack",
            "tcp flags syn notrack",
            "tcp flags & (fin | syn | rst | ack) == syn notrack",
            "tcp dport 22 notrack",
        ])
        #expect(rules.map(\.family) == ["IPv4", "IPv4, IPv6", "IPv4, IPv6", "IPv4", "IPv6", "IPv4, IPv6", "IPv4, IPv6", "IPv4, IPv6", "IPv4, IPv6"])
        #expect(rules.map(\.coversEveryConnection) == [false, false, true, true, true, true, true, true, false])
        #expect(rules.last?.place == "table inet fw, chain untrack (nft -a list chain inet fw untrack)")
        // A daemon that keeps IPv6 only is not concerned by IPv4's rules.
        #expect(!UntrackingRule.inNftables(ruleset, versions: [.v6]).contains { $0.family.contains("IPv4") })
        #expect(UntrackingRule.inNftables(ruleset, versions: [.v6]).count == 7)
    }
}
