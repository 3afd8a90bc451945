import Foundation
import Testing
@testable import SamplerRules

@Suite struct RuleSetTests {
    @Test func theCommittedRuleFilesAreTheRenderedDefaults() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for (version, name) in [(IPVersion.v4, "sampler-ipv4.rules"), (.v6, "sampler-ipv6.rules")] {
            let file = try String(contentsOf: root.appendingPathComponent("iptables/\(name)"), encoding: .utf8)
            #expect(file == RuleSet.restoreFile(RuleParameters(), version: version),
                    "iptables/\(name) is stale: regenerate with 'sampler rules install --dry-run --family \(version.rawValue)'")
        }
    }

    @Test func rendersTheReferenceRules() {
        var p = RuleParameters()
        p.probability = 0.25
        p.label = "7"
        p.group = 300
        p.packets = 4
        let rules = RuleSet.rules(p)
        #expect(rules[0].contains("! -i lo -p tcp --syn -m state --state NEW -m statistic --mode random --probability 0.25 -m connlabel --label 7 --set"))
        #expect(rules[1].contains("-m connlabel --label 7 -m connbytes ! --connbytes 5 --connbytes-dir original --connbytes-mode packets"))
        #expect(rules[1].contains("-j NFLOG --nflog-group 300 --nflog-prefix sampler"))
        #expect(rules.allSatisfy { $0.hasPrefix("-A SAMPLER ") && $0.contains("-m comment --comment \"sampler: ") })
    }

    @Test(arguments: [(0.0001, "0.0001"), (1.0, "1.0"), (0.5, "0.5"), (1e-05, "0.00001"), (2.5e-07, "0.00000025")])
    func writesProbabilitiesAsDecimals(value: Double, text: String) {
        #expect(RuleSet.probabilityText(value) == text)
    }

    @Test func validatesParameters() {
        var p = RuleParameters()
        #expect(throws: Never.self) { try p.validate() }
        for (change, fragment) in [({ (p: inout RuleParameters) in p.probability = 0 }, "--probability"),
                                   ({ $0.probability = 1.5 }, "--probability"), ({ $0.label = "128" }, "--label"),
                                   ({ $0.label = "bad label" }, "--label"), ({ $0.packets = 0 }, "--packets"),
                                   ({ $0.prefix = "has space" }, "--prefix")] as [((inout RuleParameters) -> Void, String)] {
            p = RuleParameters()
            change(&p)
            #expect(throws: RulesError.self) { try p.validate() }
            do { try p.validate() } catch { #expect(error.description.contains(fragment)) }
        }
    }

    @Test func splitsIptablesListingsIntoWords() {
        let line = #"-A SAMPLER -m connlabel --label "42" -m comment --comment "sampler: log the first 10" -j NFLOG --nflog-group 5"#
        #expect(RuleManager.words(line) == ["-A", "SAMPLER", "-m", "connlabel", "--label", "42", "-m", "comment", "--comment",
                                            "sampler: log the first 10", "-j", "NFLOG", "--nflog-group", "5"])
    }

    @Test func backendsNameTheirTools() {
        #expect(Backend.auto.command(for: .v4) == "iptables")
        #expect(Backend.nft.command(for: .v6) == "ip6tables-nft")
        #expect(Backend.legacy.restoreCommand(for: .v4) == "iptables-legacy-restore")
    }
}

/// Labels compare by bit: with /etc/xtables/connlabel.conf naming bit 42 `other`,
/// `iptables -S` prints `--label other` for the rules sampler installed with label 42.
@Suite struct LabelTests {
    let labels = ConnLabels(text: "# bit name\n0 first\n42 other\n42 alias\n 7\tseven  # comment\n")

    @Test func namesResolveToBits() {
        #expect(labels.bit(of: "other") == 42 && labels.bit(of: "alias") == 42 && labels.bit(of: "seven") == 7)
        #expect(labels.bit(of: "42") == 42 && labels.bit(of: "unknown") == nil)
        #expect(labels.same("other", "42") && !labels.same("other", "7") && labels.same("unknown", "unknown"))
    }

    @Test func rulesWithANamedLabelMatchTheBit() {
        var state = RuleManager.Installed()
        (state.chainExists, state.jumps, state.ruleCount) = (true, 1, 2)
        (state.probability, state.label, state.loggedLabel, state.group, state.packets, state.prefix) = (0.0001, "other", "42", 5, 10, "sampler")
        #expect(RuleManager(labels: labels).differences(state, from: RuleParameters(), version: .v4).isEmpty)
        state.loggedLabel = "7"
        let differences = RuleManager(labels: labels).differences(state, from: RuleParameters(), version: .v4)
        #expect(differences.map(\.text) == ["IPv4: the sampling rule sets label other but the logging rule matches 7"])
        #expect(differences.allSatisfy { $0.breaksSampling })
    }

    /// A chain a rule short is one problem naming the rule (a trial read the count and the
    /// rule as two on the plugin's one line).
    @Test func aRuleShortIsOneProblemThatNamesIt() {
        var state = RuleManager.Installed()
        (state.chainExists, state.jumps, state.ruleCount) = (true, 1, 1)
        (state.probability, state.label) = (0.0001, "42")
        let differences = RuleManager(labels: labels).differences(state, from: RuleParameters(), version: .v4).map(\.text)
        #expect(differences == ["IPv4: chain mangle/SAMPLER has 1 rule, expected 2 (the logging rule missing): run 'sampler rules install'"], "\(differences)")
    }

    /// Missing rules are put back as they were: the advice names every value that is not
    /// the default, the tools and the families, so that running it does not install group
    /// 5 at 1/10,000 instead, or IPv6 beside IPv4.
    @Test func theAdviceForMissingRulesInstallsTheseRules() {
        var parameters = RuleParameters()
        let iptables = RuleManager(labels: labels)
        #expect(iptables.differences(RuleManager.Installed(), from: parameters, version: .v4).map(\.text)
                == ["IPv4: chain mangle/SAMPLER is missing: run 'sampler rules install'"])
        (parameters.group, parameters.probability, parameters.packets) = (4777, 1, 5)
        let nftables = RuleManager(backend: .nftables, labels: labels)
        #expect(nftables.differences(RuleManager.Installed(), from: parameters, version: .v4).map(\.text)
                == ["IPv4: table inet sampler is missing: run 'sampler rules install --backend nftables --group 4777 --probability 1 --packets 5'"])
        parameters.probability = 0.25
        #expect(iptables.installCommand(parameters) == "sampler rules install --group 4777 --probability 0.25 --packets 5")
        #expect(iptables.installCommand(parameters, versions: [.v4]) == "sampler rules install --family 4 --group 4777 --probability 0.25 --packets 5")
        #expect(iptables.installCommand(parameters, versions: [.v6, .v4]) == "sampler rules install --group 4777 --probability 0.25 --packets 5")
        #expect(iptables.differences(RuleManager.Installed(), from: RuleParameters(), version: .v6, versions: [.v6]).map(\.text)
                == ["IPv6: chain mangle/SAMPLER is missing: run 'sampler rules install --family 6'"])
        #expect(RuleManager(backend: .legacy).installCommand(RuleParameters(), versions: [.v4]) == "sampler rules install --backend legacy --family 4")
        #expect(RuleManager(backend: .nftables, nftablesTable: "edge").installCommand(RuleParameters())
                == "sampler rules install --backend nftables --nftables-table edge")
    }
}

@Suite struct ProbabilityTests {
    /// iptables -S prints what the statistic match kept (a 31-bit fraction): read back as
    /// what was meant, so that status does not report 0.0001 as 9.99998301e-05.
    @Test func aProbabilityReadsBackAsWritten() {
        #expect(RuleManager.meantProbability(9.99998301e-05) == 0.0001)
        #expect(RuleManager.meantProbability(0.49999999976717) == 0.5)
        #expect(RuleManager.meantProbability(1.0) == 1.0)
        #expect(RuleManager.meantProbability(9.997934e-07) == 0.000001)
    }
}

/// The counters of `iptables -L SAMPLER -v -x -n` go with the rule they belong to, told
/// by what it is: a chain left with only the logging rule does not show its count as the
/// sampling rule's.
@Suite struct IptablesCounterTests {
    static let header = """
        Chain SAMPLER (1 references)
            pkts      bytes target     prot opt in     out     source               destination

        """
    static let sampling = "      12      720            6    --  !lo    *       0.0.0.0/0            0.0.0.0/0            tcp flags:0x17/0x02 state NEW statistic mode random probability 1.00000000000 connlabel 42 set /* sampler: sample new connections */\n"
    static let logging = "     200    12000 NFLOG      0    --  *      *       0.0.0.0/0            0.0.0.0/0            connlabel 42 ! connbytes 11 connbytes mode packets connbytes direction original /* sampler: log the first 10 packets */ nflog-prefix sampler nflog-group 5\n"

    @Test func eachCounterGoesWithItsRule() {
        #expect(RuleManager.counters(listing: Self.header + Self.sampling + Self.logging)
                == RuleCounters(sampling: RuleCounter(packets: 12, bytes: 720), logging: RuleCounter(packets: 200, bytes: 12000)))
        #expect(RuleManager.counters(listing: Self.header + Self.logging) == RuleCounters(logging: RuleCounter(packets: 200, bytes: 12000)))
        #expect(RuleManager.counters(listing: Self.header + Self.sampling) == RuleCounters(sampling: RuleCounter(packets: 12, bytes: 720)))
        #expect(RuleManager.counters(listing: Self.header) == RuleCounters())
    }
}
