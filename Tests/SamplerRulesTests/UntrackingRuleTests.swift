import Testing
@testable import SamplerRules

/// The rules that keep connections out of conntrack, read from listings as the tools print
/// them (iptables-nft 1.8.9 and nft 1.0.6 of Debian 12, copied from a namespace).
@Suite struct UntrackingRuleTests {
    @Test func iptablesRawRulesAreReadWithWhatTheyCover() {
        let listing = """
            -P PREROUTING ACCEPT
            -A PREROUTING -p udp -m udp --dport 53 -j CT --notrack
            -A PREROUTING -i lo -j NOTRACK
            -A PREROUTING ! -p tcp -j NOTRACK
            -A PREROUTING -p tcp -m tcp --dport 80 -j CT --notrack
            -A PREROUTING -p tcp -m comment --comment "no state for the web" -j NOTRACK
            -A PREROUTING -j NOTRACK
            -A PREROUTING -s 192.0.2.0/24 -j CT --zone 1
            """
        let rules = UntrackingRule.inIptables(listing, family: "IPv4")
        #expect(rules == [
            UntrackingRule(family: "IPv4", text: "-A PREROUTING -p tcp -m tcp --dport 80 -j CT --notrack", coversEveryConnection: false),
            UntrackingRule(family: "IPv4", text: "-A PREROUTING -p tcp -m comment --comment \"no state for the web\" -j NOTRACK",
                           coversEveryConnection: true),
            UntrackingRule(family: "IPv4", text: "-A PREROUTING -j NOTRACK", coversEveryConnection: true),
        ])
    }

    @Test func nftablesNotrackAtPreroutingIsReadPerFamily() {
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
            \t\tmeta mark 1 notrack
            \t\tiifname "lo" notrack
            \t\tmeta l4proto tcp counter packets 12 bytes 720 comment "all of it" notrack
            \t}
            }
            table netdev edge {
            \tchain ingress {
            \t\ttype filter hook ingress device "eth0" priority 0; policy accept;
            \t\tnotrack
            \t}
            }
            """
        #expect(UntrackingRule.inNftables(ruleset, versions: [.v4, .v6]) == [
            UntrackingRule(family: "IPv4", text: "tcp dport 80 counter notrack", coversEveryConnection: false),
            // A number that is a mark, not protocol 1 (ICMP): the rule may untrack TCP.
            UntrackingRule(family: "IPv4, IPv6", text: "meta mark 1 notrack", coversEveryConnection: false),
            UntrackingRule(family: "IPv4, IPv6", text: "meta l4proto tcp counter comment \"all of it\" notrack",
                           coversEveryConnection: true),
        ])
        // A daemon that keeps IPv6 only is not concerned by an ip table's rule.
        #expect(UntrackingRule.inNftables(ruleset, versions: [.v6]).map(\.family) == ["IPv6", "IPv6"])
    }
}
