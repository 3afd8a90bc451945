import Foundation
import Testing
@testable import SamplerRules

@Suite struct NftablesTests {
    @Test func theShippedIncludeFileIsTheRenderedDefaults() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("nftables/sampler.nft"), encoding: .utf8)
        #expect(file == NftablesRuleSet.file(RuleParameters(), versions: [.v4, .v6], labels: ConnLabels(text: "")),
                "nftables/sampler.nft is stale: regenerate with 'sampler rules install --backend nftables --dry-run --config /dev/null'")
    }

    /// xt_statistic's resolution: iptables stores lround(p * 2^31) and the kernel compares
    /// a random number's low 31 bits with it; the nft rule compares the same.
    @Test(arguments: [(0.0001, UInt64(214_748)), (1.0, 2_147_483_648), (0.5, 1_073_741_824), (1e-9, 2), (0.123456789, 265_121_436)])
    func thresholdsAreXtStatisticsFraction(probability: Double, threshold: UInt64) {
        #expect(NftablesRuleSet.threshold(probability) == threshold)
        #expect(abs(NftablesRuleSet.probability(threshold: threshold) - probability) < 1e-9)
    }

    @Test func probabilitiesBelowOneStepAreRefused() {
        #expect(!RuleParameters.isValid(probability: 1e-10))
        #expect(RuleParameters.isValid(probability: 1.0 / 2_147_483_648))
        #expect(!RuleParameters.isValid(probability: 0) && !RuleParameters.isValid(probability: 1.01))
    }

    @Test func rendersOneFamilyAndNamedLabelsAsBits() {
        var p = RuleParameters()
        (p.label, p.group, p.packets, p.prefix) = ("mine", 300, 4, "x-1")
        let rules = NftablesRuleSet.rules(p, versions: [.v6], labels: ConnLabels(text: "17 mine\n"))
        #expect(rules[0].hasPrefix("meta nfproto ipv6 iifname != \"lo\" tcp flags & (fin|syn|rst|ack) == syn ct state new meta random & 2147483647 < 214748 ct label set 17 counter"))
        #expect(rules[1] == "ct label 17 ct original packets < 5 counter log prefix \"x-1\" group 300 comment \"sampler: log the first 4 packets of each sampled connection\"")
        #expect(!NftablesRuleSet.rules(p, versions: [.v4, .v6], labels: ConnLabels(text: "17 mine\n"))[0].contains("nfproto"))
    }

    @Test func prefixesThatNftWouldReadOtherwiseAreRefused() {
        for prefix in ["a$b", "a\\b", "a\"b", "a'b", "a b", "é"] { #expect(!RuleParameters.isValid(prefix: prefix), "\(prefix)") }
        #expect(RuleParameters.isValid(prefix: "sampler-1_x.y"))
    }

    @Test func tableNames() {
        for good in ["sampler", "s", "S_2"] { #expect(NftablesRuleSet.isValid(table: good)) }
        for bad in ["", "2s", "a-b", "a b", String(repeating: "a", count: 33)] { #expect(!NftablesRuleSet.isValid(table: bad), "\(bad)") }
    }

    /// What nft 1.0.6 printed (`nft -j list table inet sampler`) for the defaults with
    /// probability 1, label 42 named `other` in /etc/connlabel.conf, and 7 and 3 packets
    /// counted by the two rules.
    static let listing = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "sampler", "handle": 1}},
        {"chain": {"family": "inet", "table": "sampler", "name": "prerouting", "handle": 1, "type": "filter", "hook": "prerouting", "prio": -149, "policy": "accept"}},
        {"rule": {"family": "inet", "table": "sampler", "chain": "prerouting", "handle": 2, "comment": "sampler: label a sample of new inbound TCP connections",
          "expr": [{"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "lo"}},
                   {"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["fin", "syn", "rst", "ack"]]}, "right": "syn"}},
                   {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}},
                   {"match": {"op": "<", "left": {"&": [{"meta": {"key": "random"}}, 2147483647]}, "right": 2147483648}},
                   {"mangle": {"key": {"ct": {"key": "label"}}, "value": "other"}},
                   {"counter": {"packets": 7, "bytes": 420}}]}},
        {"rule": {"family": "inet", "table": "sampler", "chain": "prerouting", "handle": 3, "comment": "sampler: log the first 10 packets of each sampled connection",
          "expr": [{"match": {"op": "in", "left": {"ct": {"key": "label"}}, "right": 42}},
                   {"match": {"op": "<", "left": {"ct": {"key": "packets", "dir": "original"}}, "right": 11}},
                   {"counter": {"packets": 3, "bytes": 180}},
                   {"log": {"prefix": "sampler", "group": 5}}]}}]}
        """#

    @Test func readsTheListingAsTheIptablesOneReads() throws {
        let listing = try NftablesListing(json: Self.listing)
        let state = listing.installed(version: .v4)
        #expect(state.isComplete)
        #expect(state.probability == 1.0 && state.label == "other" && state.loggedLabel == "42")
        #expect(state.group == 5 && state.packets == 10 && state.prefix == "sampler")
        #expect(state.counters == RuleCounters(sampling: RuleCounter(packets: 7, bytes: 420), logging: RuleCounter(packets: 3, bytes: 180)))
        #expect(listing.installed(version: .v6) == state, "one table for both families")
        var expected = RuleParameters()
        expected.probability = 1
        let labels = ConnLabels(text: "42 other\n")
        #expect(RuleManager(backend: .nftables, labels: labels).differences(state, from: expected, version: .v4).isEmpty)
        expected.group = 6
        #expect(RuleManager(backend: .nftables, labels: labels).differences(state, from: expected, version: .v4)
            .map(\.text) == ["IPv4: NFLOG group is 5, expected 6: nothing reaches this group; "
                              + "run 'sampler rules install --backend nftables --group 6 --probability 1', or read group 5 (--group)"])
    }

    @Test func aTableForOneFamilyHasNothingForTheOther() throws {
        let one = Self.listing.replacingOccurrences(of: #""expr": [{"match": {"op": "!=""#,
                                                    with: #""expr": [{"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}}, {"match": {"op": "!=""#)
        let listing = try NftablesListing(json: one)
        #expect(listing.installed(version: .v4).isComplete)
        #expect(!listing.installed(version: .v6).isPresent)
    }

    /// A flushed chain, or one emptied by hand: present, not complete (damage, which the
    /// daemon repairs), and check says why.
    @Test func anEmptiedChainIsIncomplete() throws {
        let empty = #"{"nftables": [{"table": {"family": "inet", "name": "sampler"}}, {"chain": {"family": "inet", "table": "sampler", "name": "prerouting", "hook": "prerouting"}}]}"#
        let state = try NftablesListing(json: empty).installed(version: .v4)
        #expect(state.isPresent && !state.isComplete)
        let texts = RuleManager(backend: .nftables, labels: ConnLabels(text: "")).differences(state, from: RuleParameters(), version: .v4)
            .map(\.text)
        #expect(texts.contains("IPv4: table inet sampler has no rules: run 'sampler rules install --backend nftables'"), "\(texts)")
        #expect(!texts.contains { $0.contains("rule is missing") }, "one problem for an empty chain, not one per rule: \(texts)")
        #expect(throws: NftablesListing.Malformed.self) { try NftablesListing(json: "not json") }
    }
}
