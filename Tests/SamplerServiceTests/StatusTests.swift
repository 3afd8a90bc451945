@testable import SamplerStatus
@testable import SamplerService
import SamplerRules
import Foundation
import SamplerClassifier
@testable import SamplerPipeline
import SamplerSubprocess
import SamplerWire
import Testing
import SamplerSinks
@testable import SamplerConfiguration
@testable import SamplerService

/// A snapshot with known counts: 200 messages, 2 lost (under 1%), 10 connections in the window.
func sampleSnapshot(lost: UInt64 = 2, evicted: UInt64 = 0, lastPacketAgo: Microseconds? = 2_000_000,
                    shipping: ShippingStatus? = nil) -> LiveSnapshot {
    let start: Microseconds = 1_795_000_000_000_000, now = start + 600_000_000
    var counters = LiveCounters(start: start)
    counters[.datagrams] = 20
    counters[.bytes] = 48_000
    counters[.messages] = 200
    counters[.lost] = lost
    counters[.records] = 10
    counters.parseErrors.record(.tcpTruncated)
    counters[.parseErrorsTotal] = 1
    counters[.packets] = 199
    counters[.opened] = 12
    counters[.evicted] = evicted
    counters[.finalized] = 10
    counters.lastPacketTime = lastPacketAgo.map { now - $0 }
    if let shipping { counters.counts.add(shipping) }  // as the pipeline does
    var window = WindowSummary(start: 1_794_999_600_000_000, length: 900_000_000)
    window.total = 10
    window.stageCounts = [4, 1, 3, 0, 2]
    window.tagCounts[Tags.all.firstIndex { $0.name == "reset" }!] = 6
    window.closeCounts = [6, 2, 0, 2, 0]
    counters.outcomes.total = 10
    counters.outcomes.stageCounts = window.stageCounts
    counters.outcomes.tagCounts = window.tagCounts
    counters.outcomes.closeCounts = window.closeCounts
    var interval = IntervalCounters(start: window.start, from: LiveCounters(), to: counters)
    interval.start = window.start
    return LiveSnapshot(startedAt: start, takenAt: now, group: 5, output: "/var/lib/sampler/records.jsonl",
                        receiveBufferBytes: 4 << 20, maximumReceiveBufferBytes: 64 << 20, counters: counters,
                        openConnections: 2, maxConnections: 100, currentWindow: window, lastWindow: nil,
                        currentInterval: interval, lastInterval: nil, shipping: shipping)
}

/// A ClickHouse sink that inserted 8 records, then failed: 2 wait in the spool.
func failingShipping(dropped: UInt64 = 0) -> ShippingStatus {
    var s = ShippingStatus()
    s.destination = "http://127.0.0.1:8123 sampler.connections"
    s.spoolBatches = 1
    s.spoolRecords = 2
    s.spoolBytes = 900
    s.spoolMaxBytes = 1 << 20
    s.droppedRecords = dropped
    s.insertedRecords = 8
    s.insertedBatches = 2
    s.failures = 3
    s.lastInsertAt = 1_795_000_100_000_000
    s.lastFailureAt = 1_795_000_200_000_000
    s.lastError = "cannot connect to ClickHouse at 127.0.0.1:8123: Connection refused"
    return s
}

@Suite struct StatusReportTests {
    @Test func carriesTheSnapshotsCountsAndSurvivesJSON() throws {
        let report = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        #expect(report.uptimeSeconds == 600)
        #expect(report.lastPacketSecondsAgo == 2)
        #expect(report.parseErrors["tcp_truncated"] == 1 && report.parseErrors.count == WireError.allCases.count)
        #expect(report.currentWindow.stages["post_syn"] == StatusReport.StageCount(count: 4, share: 0.4))
        #expect(report.currentWindow.tags["reset"] == 6)
        #expect(report.currentInterval.lossRatio == 2.0 / 202.0)
        #expect(report.totals.close["reset"] == 6)
        let text = String(decoding: report.json(), as: UTF8.self)
        #expect(text.contains("\"last_packet_seconds_ago\":2"))
        #expect(try StatusReport.decode(report.json()) == report)
    }

    @Test func textStartsWithThePluginLineAndPerformanceData() throws {
        let report = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true, sampledPackets: 12, loggedPackets: 200)]
        let health = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: HealthThresholds())
        let text = StatusText.render(health: health, rules: rules, daemon: .success(report))
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "SAMPLER OK - group 5, 200 messages, 2 lost in the kernel, 0 dropped at full rings, 2 open connections, last packet 2.0 s ago | messages=200c records=10c lost=2c ring_drops=0c overruns=0c parse_errors=1c open_connections=2;;;0;100"
            + " post_syn=40%;;;0;100 post_ack=10%;;;0;100 post_psh=30%;;;0;100 later=0%;;;0;100 none=20%;;;0;100")
        #expect(text.contains("rules: IPv4 present (sampling rule 12 packets, logging rule 200 packets), as the daemon expects"))
        #expect(text.contains("post_syn 4 (40.00%), post_ack 1 (10.00%), post_psh 3 (30.00%), later 0 (0.00%), none 2 (20.00%)"))
        #expect(text.contains("parse errors: tcp_truncated 1"))
        #expect(!text.contains("counted when the next message comes"), "no overrun, no note: \(text)")
        #expect(text.contains("10 finalized, 10 records for /var/lib/sampler/records.jsonl; "), "\(text)")
        #expect(StatusText.duration(3725) == "1h 2m 5s")
        // Records the output could not take are among those made: said so.
        var snapshot = sampleSnapshot()
        snapshot.counters[.recordsDropped] = 3
        let dropping = StatusReport(snapshot, version: "9.9", pid: 42)
        #expect(StatusText.render(health: health, rules: rules, daemon: .success(dropping))
            .contains("10 records for /var/lib/sampler/records.jsonl (3 of them dropped, not written)"))
    }

    /// A window of 30 s is labelled with its seconds, as the log's window line labels it;
    /// 15-minute windows keep their minutes.
    @Test func windowLinesShowSecondsForWindowsShorterThanMinutes() {
        var snapshot = sampleSnapshot()
        snapshot.currentWindow = WindowSummary(start: 1_794_999_630_000_000, length: 30_000_000)
        let short = StatusReport(snapshot, version: "9.9", pid: 42)
        let rules = RulesCheck(checked: false)
        let health = Health.evaluate(daemon: .success(short), rules: rules, settings: Settings(), thresholds: HealthThresholds())
        let text = StatusText.render(health: health, rules: rules, daemon: .success(short))
        let label = Timestamp.windowLabel(1_794_999_630_000_000, seconds: true, separator: UInt8(ascii: "T"))
        #expect(label.hasSuffix(":30") && text.contains("current window: \(label)Z, "), "\(text)")
        #expect(LiveSampler.describe(snapshot.currentWindow, counters: LiveCounters()).hasPrefix("window \(label)Z: "))
        let long = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        let minutes = Timestamp.windowLabel(1_794_999_600_000_000, seconds: false, separator: UInt8(ascii: "T"))
        #expect(StatusText.render(health: health, rules: rules, daemon: .success(long)).contains("current window: \(minutes)Z, "))
    }

    /// After an overrun, the nflog line says that a burst's last losses are counted only
    /// when the next message shows the gap.
    @Test func anOverrunSaysWhenItsLastLossesAreCounted() {
        var snapshot = sampleSnapshot()
        snapshot.counters[.overruns] = 1
        let report = StatusReport(snapshot, version: "9.9", pid: 42)
        let rules = RulesCheck(checked: false)
        let health = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: HealthThresholds())
        let text = StatusText.render(health: health, rules: rules, daemon: .success(report))
        #expect(text.contains("1 overruns (ENOBUFS), receive buffer 4194304 bytes; messages lost at the end of the last burst are counted when the next message comes"),
                "\(text)")
    }

    /// conntrack's table is in the text as in --json: the connections it drops are never
    /// sampled, so a reader of status should not need --json to see it.
    @Test func textShowsConntracksTable() throws {
        let reading = Conntrack(entries: 900, maximum: 1000, drops: 7, earlyDrops: 2, insertFailures: 1)
        let report = StatusReport(sampleSnapshot(), version: "9.9", conntrack: (reading, 8, 2), pid: 42)
        let rules = RulesCheck(checked: false)
        let health = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: HealthThresholds())
        let text = StatusText.render(health: health, rules: rules, daemon: .success(report))
        #expect(text.contains("\nconntrack: 900 of 1000 entries (90.00% full); since the kernel started 7 new connections dropped (table full), "
            + "2 evicted (early_drop), 1 failed inserts; in the current and last window 8 lost, 2 evicted\n"), "\(text)")
        let without = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        #expect(StatusText.render(health: health, rules: rules, daemon: .success(without))
            .contains("\nconntrack: not loaded in the daemon's network namespace"))
    }

    /// A gap in the rules in this window is said while they are back; missing again, status
    /// says they are missing, not also that they are back.
    @Test func aGapIsSaidBackOnlyWhileTheRulesAreThere() throws {
        let snapshot = sampleSnapshot()
        var upkeep = RuleUpkeep(repair: true)
        (upkeep.checks, upkeep.present, upkeep.lastCheckAt, upkeep.repairs) = (20, true, snapshot.takenAt, 1)
        upkeep.lastGap = (snapshot.currentWindow.start + 1_000_000, snapshot.currentWindow.start + 5_000_000)
        func problems(present: Bool) -> [String] {
            upkeep.present = present
            upkeep.missingSince = present ? nil : snapshot.takenAt - 1_000_000
            let report = StatusReport(snapshot, version: "9.9", upkeep: upkeep, pid: 42)
            var rules = RulesCheck(checked: true)
            rules.families = [.init(family: "IPv4", present: present, sampledPackets: 12, loggedPackets: 200)]
            return Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: HealthThresholds()).problems
        }
        let back = problems(present: true)
        #expect(back.contains { $0.contains("went missing after") && $0.contains("and were back at") }, "\(back)")
        let again = problems(present: false)
        #expect(again.contains { $0.contains("sampler's rules are missing") }, "\(again)")
        #expect(!again.contains { $0.contains("are back") }, "\(again)")
    }

    /// Put back by hand between two of the daemon's checks: the kernel has them, the daemon's
    /// last check did not; a WARNING for the gap, not OK beside an upkeep line saying missing.
    @Test func rulesBackBeforeTheDaemonsNextCheckAreAGap() throws {
        let snapshot = sampleSnapshot()
        var upkeep = RuleUpkeep(repair: false)
        (upkeep.checks, upkeep.present, upkeep.everPresent, upkeep.lastCheckAt) = (20, false, true, snapshot.takenAt - 2_000_000)
        upkeep.missingSince = snapshot.takenAt - 30_000_000
        let report = StatusReport(snapshot, version: "9.9", upkeep: upkeep, pid: 42)
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true, rules: 2, sampledPackets: 12, loggedPackets: 200)]
        let health = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: HealthThresholds())
        #expect(health.state == .warning, "\(health.problems)")
        #expect(health.problems.contains { $0.hasPrefix("sampler's rules are back in the kernel, but the daemon's last check") && $0.contains("has a gap") },
                "\(health.problems)")
    }

    /// Rules missing now count as time without them: an open gap is not "0 s".
    @Test func theTimeWithoutRulesIncludesTheGapStillOpen() throws {
        let snapshot = sampleSnapshot()
        var upkeep = RuleUpkeep(repair: false)
        (upkeep.checks, upkeep.present, upkeep.lastCheckAt) = (20, false, snapshot.takenAt)
        upkeep.missingMicroseconds = 3_000_000
        upkeep.missingSince = snapshot.takenAt - 90_000_000
        #expect(upkeep.missing(at: snapshot.takenAt) == 93_000_000)
        let report = StatusReport(snapshot, version: "9.9", upkeep: upkeep, pid: 42)
        #expect(report.rulesUpkeep?.missingSeconds == 93)
        let text = StatusText.render(health: Health.evaluate(daemon: .success(report), rules: RulesCheck(checked: false), settings: Settings(),
                                                             thresholds: HealthThresholds()),
                                     rules: RulesCheck(checked: false), daemon: .success(report))
        #expect(text.contains("0 repairs, 1m 33s without them"), "\(text)")
        #expect(PrometheusText.render(snapshot, version: "9.9", upkeep: upkeep).contains("sampler_rules_missing_seconds_total 93"))
        upkeep.missingSince = nil
        #expect(upkeep.missing(at: snapshot.takenAt) == 3_000_000, "an ended gap only")
    }

    /// Rules missing since the start were never found: their time is the first check's.
    @Test func rulesNeverFoundAreNotSaidToBeLastFound() throws {
        let snapshot = sampleSnapshot()
        var upkeep = RuleUpkeep(repair: true)
        (upkeep.checks, upkeep.present, upkeep.lastCheckAt, upkeep.missingSince) = (3, false, snapshot.takenAt, snapshot.takenAt - 20_000_000)
        func text() -> String {
            let report = StatusReport(snapshot, version: "9.9", upkeep: upkeep, pid: 42)
            return StatusText.render(health: Health.evaluate(daemon: .success(report), rules: RulesCheck(checked: false), settings: Settings(),
                                                             thresholds: HealthThresholds()),
                                     rules: RulesCheck(checked: false), daemon: .success(report))
        }
        let since = Timestamp.string(snapshot.takenAt - 20_000_000)
        #expect(text().contains("rules upkeep: missing (not found at any check since \(since))"), "\(text())")
        upkeep.everPresent = true
        #expect(text().contains("rules upkeep: missing (last found at \(since))"), "\(text())")
    }

    /// One nftables table counts both IP versions together: one pair of counters, said once.
    @Test func nftablesCountersAreSaidOnceForBothVersions() {
        var rules = RulesCheck(checked: true)
        rules.sharedCounters = true
        rules.families = [.init(family: "IPv4", present: true, sampledPackets: 8, loggedPackets: 31),
                          .init(family: "IPv6", present: true, sampledPackets: 8, loggedPackets: 31)]
        #expect(StatusText.rulesLine(rules) == "IPv4 and IPv6 present in one nftables table (sampling rule 8 packets, logging rule 31 packets, "
            + "both versions together), as the daemon expects")
        rules.sharedCounters = false
        #expect(StatusText.rulesLine(rules).hasPrefix("IPv4 present (sampling rule 8 packets, logging rule 31 packets); IPv6 present"))
    }

    /// A rule that is not there has no counter to show (a trial read "logging rule 0 packets").
    @Test func aMissingRuleIsSaidMissingNotZero() {
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true, rules: 1, sampledPackets: 8, loggedPackets: nil)]
        #expect(StatusText.rulesLine(rules).hasPrefix("IPv4 incomplete (sampling rule 8 packets, logging rule missing)"), "\(StatusText.rulesLine(rules))")
    }

    /// `--warning post_psh=25%`, `--critical post_syn=0.5`: the current window's shares
    /// against them, in the verdict and in the perfdata's warn and crit fields.
    @Test func stageLimitsJudgeTheCurrentWindow() throws {
        let report = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true, sampledPackets: 12, loggedPackets: 200)]
        var thresholds = HealthThresholds()
        thresholds.stageWarning = [try #require(StageLimit("post_psh=25%")), try #require(StageLimit("post_syn=0.3"))]
        thresholds.stageCritical = [try #require(StageLimit("post_syn=50%"))]
        let warned = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: thresholds)
        #expect(warned.state == .warning)
        #expect(warned.problems == ["post_psh is 30.00% of the current window's connections (3 of 10), above 25.00%",
                                    "post_syn is 40.00% of the current window's connections (4 of 10), above 30.00%"])
        thresholds.stageCritical = [try #require(StageLimit("post_syn=0.35"))]
        let critical = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: thresholds)
        #expect(critical.state == .critical)
        #expect(critical.problems.filter { $0.hasPrefix("post_syn") }.count == 1, "once, at the worse level: \(critical.problems)")
        let text = StatusText.render(health: critical, rules: rules, daemon: .success(report), thresholds: thresholds)
        #expect(text.contains(" post_syn=40%;30;35;0;100 ") && text.contains(" post_psh=30%;25;;0;100 "), "\(text)")
        for bad in ["post_psh", "post_psh=", "stage=5%", "post_psh=150%", "post_psh=-1", "post_psh=x%"] { #expect(StageLimit(bad) == nil, "\(bad)") }
    }

    /// A warning limit above the stage's critical one could never show: refused, by stage.
    @Test func aWarningAboveItsCriticalLimitIsFound() throws {
        var thresholds = HealthThresholds()
        thresholds.stageWarning = [try #require(StageLimit("post_psh=25%")), try #require(StageLimit("post_syn=0.6"))]
        thresholds.stageCritical = [try #require(StageLimit("post_psh=30%")), try #require(StageLimit("none=1%"))]
        #expect(thresholds.inverted == nil, "below its critical limit, or without one")
        thresholds.stageCritical.append(try #require(StageLimit("post_syn=50%")))
        let inverted = try #require(thresholds.inverted)
        #expect(inverted.warning.stage == "post_syn" && inverted.warning.share == 0.6 && inverted.critical.share == 0.5)
    }

    /// `--warning post_syn=5% --warning post_syn=60%`: the second replaces the first, for
    /// the verdict and the perfdata alike (a trial saw the verdict use 5% and the perfdata 60).
    @Test func aRepeatedStageLimitReplacesTheFirst() throws {
        let report = StatusReport(sampleSnapshot(), version: "9.9", pid: 42)
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true, sampledPackets: 12, loggedPackets: 200)]
        var thresholds = HealthThresholds()
        thresholds.set(try #require(StageLimit("post_syn=5%")), critical: false)
        thresholds.set(try #require(StageLimit("post_syn=60%")), critical: false)
        let health = Health.evaluate(daemon: .success(report), rules: rules, settings: Settings(), thresholds: thresholds)
        #expect(health.state == .ok, "post_syn is 40%, under the 60% given last: \(health.problems)")
        let text = StatusText.render(health: health, rules: rules, daemon: .success(report), thresholds: thresholds)
        #expect(text.contains(" post_syn=40%;60;;0;100"), "\(text)")
    }
}

@Suite struct HealthTests {
    let present: RulesCheck = {
        var rules = RulesCheck(checked: true)
        rules.families = [.init(family: "IPv4", present: true), .init(family: "IPv6", present: true)]
        return rules
    }()

    func judge(_ snapshot: LiveSnapshot = sampleSnapshot(), rules: RulesCheck? = nil, settings: Settings = Settings(),
               thresholds: HealthThresholds = HealthThresholds()) -> Health {
        Health.evaluate(daemon: .success(StatusReport(snapshot, version: "t")), rules: rules ?? present,
                        settings: settings, thresholds: thresholds)
    }

    @Test func healthyIsOK() {
        #expect(judge() == Health(state: .ok, problems: []))
    }

    @Test func aDaemonThatIsDownIsCriticalAndSaysWhetherRulesAreLeft() {
        let left = Health.evaluate(daemon: .failure(.notRunning("/run/sampler/status.sock: No such file or directory")),
                                   rules: present, settings: Settings(), thresholds: HealthThresholds())
        #expect(left.state == .critical)
        #expect(left.problems[1].hasPrefix("sampler's rules are still in the kernel (IPv4, IPv6)"))
        // Rules of the nftables backend: the daemon to start is one of that backend.
        var nftables = present
        nftables.backend = "nftables"
        let table = Health.evaluate(daemon: .failure(.notRunning("gone")), rules: nftables, settings: Settings(), thresholds: HealthThresholds())
        #expect(table.problems[1].hasSuffix("start sampler with backend nftables (the setting, or --backend nftables), "
            + "or remove them with 'sampler rules remove --backend nftables'"), "\(table.problems)")
        #expect(left.problems[1].hasSuffix("start sampler, or remove them with 'sampler rules remove'"), "\(left.problems)")
        let clean = Health.evaluate(daemon: .failure(.notRunning("gone")), rules: RulesCheck(checked: true),
                                    settings: Settings(), thresholds: HealthThresholds())
        #expect(clean.problems == ["sampler is not running (gone)", "no sampler rules are left in the kernel"])
    }

    @Test func missingOrDifferentRulesAreCritical() {
        #expect(judge(rules: RulesCheck(checked: true)).state == .critical)
        var differs = present
        differs.differences = ["IPv4: NFLOG group is 6, expected 5"]
        differs.breaking = differs.differences
        #expect(judge(rules: differs) == Health(state: .critical, problems: ["rules: IPv4: NFLOG group is 6, expected 5"]))
        var drift = present
        drift.differences = ["IPv4: probability is 0.5, expected 1.0"]
        #expect(judge(rules: drift).state == .warning)
        // A configuration that names another group than the daemon's: a WARNING that says
        // how to apply it; the same value by default (no key in the file) says nothing.
        var settings = Settings()
        settings.rules.group = 7
        #expect(judge(settings: settings).problems == [])
        try! ConfigurationFile.set("group", to: "7", in: &settings)
        #expect(judge(settings: settings).state == .warning)
        #expect(judge(settings: settings).problems.first?.hasPrefix("the configuration sets group = 7 but the running daemon uses 5") == true)
    }

    @Test func lossesAboveTheThresholdAFullTableAndSilenceWarn() {
        var strict = HealthThresholds()
        strict.lossRatio = 0.01
        #expect(judge(sampleSnapshot(lost: 2), thresholds: strict).state == .ok)  // 2 of 202 < 1%
        #expect(judge(sampleSnapshot(lost: 3), thresholds: strict).state == .warning)  // 3 of 203 > 1%
        // The warning says where they were lost and what to change.
        let loss = judge(sampleSnapshot(lost: 3), thresholds: strict).problems.first ?? ""
        #expect(loss.contains("3 by the kernel (the socket's receive buffer was full: it doubles on each overrun up to max_receive_buffer; raise that if losses go on)") && !loss.contains("shard rings"), "\(loss)")
        #expect(judge(sampleSnapshot(lost: 0, evicted: 1)).problems.first?.hasPrefix("the connection table was full (max_connections 100)") == true)
        strict.idleSeconds = 1
        #expect(judge(thresholds: strict).problems.first?.hasPrefix("no packet for 2 s") == true)
        #expect(judge(sampleSnapshot(lastPacketAgo: nil), thresholds: strict).problems.first?.hasPrefix("no packet since the start") == true)
    }

    @Test func failingInsertsAndAnOverflowingSpoolWarn() {
        let failing = judge(sampleSnapshot(shipping: failingShipping()))
        #expect(failing == Health(state: .warning, problems: [
            "ClickHouse inserts are failing (cannot connect to ClickHouse at 127.0.0.1:8123: Connection refused): 2 records wait in the spool",
        ]))
        var recovered = failingShipping(dropped: 5)
        recovered.lastInsertAt = 1_795_000_300_000_000
        recovered.spoolRecords = 0
        #expect(judge(sampleSnapshot(shipping: recovered)).problems == [
            "the ClickHouse spool overflowed: 5 records dropped since the start (spool_max_bytes 1048576)",
        ])
        let report = StatusReport(sampleSnapshot(shipping: failingShipping()), version: "9.9", pid: 42)
        #expect(report.clickhouse?.lastFailureAt == "2026-11-18T11:10:00.000000Z" && report.clickhouse?.spoolRecords == 2)
        #expect(try! StatusReport.decode(report.json()) == report)
        let text = StatusText.render(health: failing, rules: present, daemon: .success(report))
        #expect(text.contains(" clickhouse_dropped=0c open_connections=2;;;0;100 spool_records=2;;;0"), "\(text)")
        #expect(text.contains("\nclickhouse: http://127.0.0.1:8123 sampler.connections; 8 records in 2 batches inserted"), "\(text)")
    }

    @Test func whatCannotBeJudgedIsUnknownAndCriticalOutranksIt() {
        let unread = RulesCheck.skipped("reading the rules needs root")
        #expect(judge(rules: unread).state == .unknown)
        let denied = Health.evaluate(daemon: .failure(.permissionDenied("x: Permission denied")), rules: present,
                                     settings: Settings(), thresholds: HealthThresholds())
        #expect(denied.state == .unknown)
        let both = Health.evaluate(daemon: .failure(.notRunning("x")), rules: unread, settings: Settings(), thresholds: HealthThresholds())
        #expect(both.state == .critical)
        #expect([HealthState.ok, .critical, .unknown, .warning].max() == .critical)
        #expect([HealthState.ok, .unknown, .warning].max() == .unknown)
    }
}

@Suite struct MetricsTests {
    let page = PrometheusText.render(sampleSnapshot(shipping: failingShipping()), version: "9.9")

    @Test func followsTheNamingConventionsAndLabelsEveryStageAndTag() {
        var declared: [String: String] = [:]
        for line in page.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let words = line.split(separator: " ")
                declared[String(words[2])] = String(words[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let type = declared[name]
            #expect(type != nil, "\(name) has no TYPE before it")
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name): counters and only counters end in _total")
        }
        for stage in Stage.allCases { #expect(page.contains("sampler_connections_total{stage=\"\(stage.name)\"} ")) }
        for tag in Tags.all { #expect(page.contains("sampler_connection_tags_total{tag=\"\(tag.name)\"} ")) }
        #expect(page.contains("sampler_connections_total{stage=\"post_syn\"} 4\n"))
        #expect(page.contains("sampler_nflog_messages_lost_total 2\n"))
        #expect(page.contains("sampler_parse_errors_total{reason=\"tcp_truncated\"} 1\n"))
        #expect(page.contains("sampler_build_info{version=\"9.9\"} 1\n"))
        #expect(page.contains("sampler_last_packet_timestamp_seconds 1795000598\n"))
        #expect(page.contains("sampler_clickhouse_spool_records 2\n") && page.contains("sampler_clickhouse_insert_failures_total 3\n"))
        #expect(page.contains("sampler_clickhouse_last_insert_timestamp_seconds 1795000100\n"))
    }

    @Test(.enabled(if: Subprocess.find("promtool") != nil, "promtool missing: apt-get install prometheus (scripts/test does)"))
    func promtoolAcceptsThePage() throws {
        let result = try Subprocess.run(["promtool", "check", "metrics"], input: page)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}

@Suite struct ListenAddressTests {
    @Test func parsesLiteralsOnly() {
        let address = ListenAddress("127.0.0.1:9731")
        #expect(address?.host == "127.0.0.1" && address?.port == 9731 && address?.isIPv6 == false && address?.isLoopback == true)
        #expect(ListenAddress("[::1]:65535")?.port == 65535 && ListenAddress("[::1]:65535")?.isIPv6 == true)
        #expect(ListenAddress("[::1]:80")?.host == "::1")
        #expect(ListenAddress("[::1]:80")?.description == "[::1]:80")
        #expect(ListenAddress("0.0.0.0:9731")?.isLoopback == false)
        for bad in ["localhost:9731", "127.0.0.1", "::1:80", "127.0.0.1:0", "127.0.0.1:70000", "[::1]80", "1.2.3:4"] {
            #expect(ListenAddress(bad) == nil, "\(bad)")
        }
        var settings = Settings()
        settings.metrics = "localhost:1"
        #expect { try settings.validate(checkOutputDirectory: false) } throws: { "\($0)".hasPrefix("metrics = localhost:1 (--metrics)") }
        settings.metrics = "none"
        settings.statusSocket = "relative.sock"
        #expect { try settings.validate(checkOutputDirectory: false) } throws: { "\($0)".hasPrefix("status_socket = relative.sock") }
    }
}

/// Ring drops are said while sampler runs, at most every ten seconds, with what is new.
@Suite struct RingDropNoticeTests {
    @Test func saysNewDropsAtMostEveryTenSeconds() {
        var notice = RingDropNotice()
        let start: Microseconds = 1_795_000_000_000_000
        #expect(notice.isDue(at: start) && !notice.isDue(at: start + 500_000) && notice.isDue(at: start + 1_000_000))
        #expect(notice.line(dropped: 0, at: start) == nil, "nothing dropped, nothing said")
        #expect(notice.line(dropped: 40, at: start + 1_000_000)
                == "40 packets dropped at full classifier rings (40 since the start): the shards cannot keep up with the kernel; "
                + "give them more cores (shards) or sample less (probability)")
        #expect(notice.line(dropped: 90, at: start + 5_000_000) == nil, "not again within ten seconds")
        #expect(notice.line(dropped: 90, at: start + 12_000_000)?.hasPrefix("50 packets dropped at full classifier rings in the last 11 s (90 since the start)") == true)
        #expect(notice.line(dropped: 90, at: start + 30_000_000) == nil, "no new drops")
    }
}
