import SamplerPipeline
import SamplerClassifier
import SamplerSinks
import Foundation
import SamplerClickHouse

/// `sampler status --json`: the verdict with everything it was made from.
public struct StatusOutput: Codable, Sendable {
    public var state: String
    public var code: Int32
    public var problems: [String]
    public var socket: String
    public var rules: RulesCheck
    /// The daemon's report; nil when it did not answer (then `daemonError` says why).
    public var daemon: StatusReport?
    public var daemonError: String?

    public init(health: Health, socket: String, rules: RulesCheck, daemon: Result<StatusReport, UnixClient.Failure>) {
        state = health.state.name
        code = health.state.rawValue
        problems = health.problems
        self.socket = socket
        self.rules = rules
        switch daemon {
        case .success(let report): self.daemon = report
        case .failure(let error): daemonError = error.description
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// `sampler status` for people and for monitoring plugins: the first line is
/// "SAMPLER <STATE> - <summary> | <performance data>", the details follow.
public enum StatusText {
    public static func render(health: Health, rules: RulesCheck, daemon: Result<StatusReport, UnixClient.Failure>,
                              thresholds: HealthThresholds = HealthThresholds()) -> String {
        var lines: [String] = []
        guard case .success(let r) = daemon else {
            lines.append("SAMPLER \(health.state.name) - \(health.problems.first ?? "")")
            lines += health.problems.dropFirst()
            return lines.joined(separator: "\n")
        }
        let lastPacket = r.lastPacketSecondsAgo.map { "last packet \(duration($0)) ago" } ?? "no packet yet"
        let summary = health.problems.isEmpty
            ? "group \(r.group), \(r.counts[.messages]) messages, \(r.counts[.lost]) lost in the kernel, \(r.counts[.ringDrops]) dropped at full rings, "
                + "\(r.openConnections) open connections, \(lastPacket)"
            : health.problems.joined(separator: "; ")
        // The counts as `Counter` labels them (`c`: a counter), then the gauges.
        let counted = Counter.allCases.filter { $0.publisher != .clickhouse || r.clickhouse != nil }.compactMap { counter in
            counter.perfdata.map { "\($0)=\(r.counts[counter])c" }
        }
        let perf = counted.joined(separator: " ") + " open_connections=\(r.openConnections);;;0;\(r.maxConnections)"
            + (r.clickhouse.map { " spool_records=\($0.spoolRecords);;;0" } ?? "")
            + stagePerfdata(r.currentWindow, thresholds)
        lines.append("SAMPLER \(health.state.name) - \(summary) | \(perf)")
        lines.append("sampler \(r.version), pid \(r.pid), up \(duration(r.uptimeSeconds)) (since \(r.startedAt))")
        lines.append("rules: " + rulesLine(rules))
        if let u = r.rulesUpkeep {
            // Missing since: the last check that found them, or, when none has, the first
            // that looked (a trial read "last found at" the time they were found missing).
            let since = u.missingSince.map { u.everPresent == false ? " (not found at any check since \($0))" : " (last found at \($0))" } ?? ""
            let state = u.present.map { $0 ? "present" : "missing" + since } ?? "not checked yet"
            let checks = SamplerSinks.counted(Int(clamping: u.checks), "check")
            let repairs = SamplerSinks.counted(Int(clamping: u.repairs), "repair")
            lines.append("rules upkeep: \(state) at the last of \(checks) (\(u.lastCheckAt ?? "none yet")); "
                + "\(repairs), \(duration(u.missingSeconds)) without them"
                + (u.lastGapEnd.map { ", last gap after \(u.lastGapStart ?? "?") until \($0)" } ?? "")
                + (u.repair ? "" : "; repair off" + (u.repairOff.map { " (\($0))" } ?? "")) + (u.problem.map { "; \($0)" } ?? ""))
        }
        lines.append("nflog: group \(r.group), \(r.counts[.messages]) messages in \(r.counts[.datagrams]) datagrams (\(r.counts[.bytes]) bytes), "
            + "\(r.counts[.lost]) lost (sequence gaps), \(r.counts[.overruns]) overruns (ENOBUFS), receive buffer \(r.receiveBufferBytes) bytes"
            // A gap shows when the message after it comes: what a burst lost at its very
            // end is not counted yet (a trial took it for messages lost without a count).
            + (r.counts[.overruns] > 0 ? "; messages lost at the end of the last burst are counted when the next message comes" : ""))
        let tables = r.shards.map { "\($0.openConnections)/\($0.maxConnections)" }.joined(separator: " ")
        let rings = r.shards.map { "\($0.packetsQueued)/\($0.packetRingCapacity)" }.joined(separator: " ")
        let recordRings = r.shards.map { "\($0.recordsQueued)/\($0.recordRingCapacity)" }.joined(separator: " ")
        lines.append("pipeline: \(r.shards.count) shard\(r.shards.count == 1 ? "" : "s"); open connections \(tables); "
            + "packet rings \(rings); record rings \(recordRings); \(r.counts[.ringDrops]) packets dropped at full rings, "
            + "\(r.counts[.writerWaits]) waits for the writer, \(r.counts[.writeErrors]) write errors, \(r.counts[.recordsDropped]) records dropped"
            + (r.counts[.tornTails] > 0 ? ", \(SamplerSinks.counted(Int(clamping: r.counts[.tornTails]), "torn record")) cut at open (a crash during a write)" : "")
            + (r.writeFailure.map { " (writing fails: \($0))" } ?? ""))
        let errors = r.parseErrors.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append("parse errors: " + (errors.isEmpty ? "none" : errors.joined(separator: ", ")))
        let n = r.counts
        let waiting = r.outputBytesWaiting > 0 ? " (\(r.outputBytesWaiting) bytes of them still in memory, not written yet)" : ""
        let connections = "connections: \(r.openConnections) open (limit \(r.maxConnections)), \(n[.opened]) opened, "
            + "\(n[.evicted]) evicted (table full), \(n[.finalized]) finalized, \(n[.records]) records for \(r.output)"
            + (n[.recordsDropped] > 0 ? " (\(n[.recordsDropped]) of them dropped, not written)" : "")
        lines.append(connections + waiting + "; \(n[.orphans]) orphan packets")
        // conntrack's table: the connections it drops are never sampled.
        if let c = r.conntrack {
            lines.append("conntrack: \(c.entries) of \(c.maximum) entries (\(percent(c.fill)) full); since the kernel started \(c.drops) new connections "
                + "dropped (table full), \(c.earlyDrops) evicted (early_drop), \(c.insertFailures) failed inserts"
                + (r.conntrackNewLosses.map { "; in the current and last window \($0) lost, \(r.conntrackNewEvictions ?? 0) evicted" } ?? ""))
        } else {
            lines.append("conntrack: not loaded in the daemon's network namespace (no nf_conntrack_count)")
        }
        if let c = r.clickhouse {
            lines.append("clickhouse: \(c.destination); \(n[.clickhouseInsertedRecords]) records in \(batches(Int(n[.clickhouseInsertedBatches]))) inserted, "
                + "last \(c.lastInsertAt ?? "never"); spool \(c.spoolRecords) records in \(batches(c.spoolBatches)), "
                + "\(c.spoolBytes)/\(c.spoolLimitBytes) bytes; \(n[.clickhouseDroppedRecords]) dropped; \(n[.clickhouseInsertFailures]) failed inserts"
                + (c.lastError.map { " (last: \($0) at \(c.lastFailureAt ?? "?"))" } ?? ""))
        }
        lines.append("current window: " + windowLine(r.currentWindow, r.currentInterval))
        if let last = r.lastWindow { lines.append("last window: " + windowLine(last, r.lastInterval)) }
        lines.append(r.lastPacketAt.map { "last packet: \(duration(r.lastPacketSecondsAgo ?? 0)) ago (\($0))" } ?? "last packet: none yet")
        return lines.joined(separator: "\n")
    }

    /// Each stage's share of the current window in percent, with the limits given:
    /// ` post_syn=1.25%;;;0;100 ... post_psh=0.00%;5;10;0;100`.
    static func stagePerfdata(_ window: StatusReport.Window, _ thresholds: HealthThresholds) -> String {
        func limit(_ limits: [StageLimit], _ stage: String) -> String {
            limits.last { $0.stage == stage }.map { plainPercent($0.share * 100) } ?? ""
        }
        return Stage.allCases.map { stage in
            let share = window.stages[stage.name]?.share ?? 0
            return " \(stage.name)=\(plainPercent(share * 100))%;\(limit(thresholds.stageWarning, stage.name));\(limit(thresholds.stageCritical, stage.name));0;100"
        }.joined()
    }

    /// Two decimals, without a trailing ".00" only when whole: 12.5 -> "12.50", 5 -> "5".
    static func plainPercent(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return hundredths % 100 == 0 ? "\(hundredths / 100)" : "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    static func rulesLine(_ rules: RulesCheck) -> String {
        guard rules.checked else { return "not checked" + ((rules.reason ?? rules.note).map { " (\($0))" } ?? "") }
        // A rule that is not there has no counter: "missing", not 0 packets (a trial).
        func counters(_ f: RulesCheck.Family) -> String {
            [("sampling rule", f.sampledPackets), ("logging rule", f.loggedPackets)]
                .map { name, packets in packets.map { "\(name) \($0) packets" } ?? "\(name) missing" }.joined(separator: ", ")
        }
        // A rule short is not "present" (a trial: "present (…, logging rule missing)").
        func state(_ f: RulesCheck.Family) -> String { (f.rules ?? 2) < 2 ? "incomplete" : "present" }
        if rules.sharedCounters, rules.families.count > 1, rules.families.allSatisfy({ $0.present && $0.rules != 0 }), let f = rules.families.first {
            // One nftables table for both versions: one pair of counters, not one per version.
            return "\(rules.families.map(\.family).joined(separator: " and ")) \(state(f)) in one nftables table (\(counters(f)), both versions together)"
                + (rules.differences.isEmpty ? ", as the daemon expects" : "; differs: " + rules.differences.joined(separator: "; "))
        }
        let families = rules.families.map { f in
            !f.present ? "\(f.family) missing"
                : f.rules == 0 ? "\(f.family) chain present, its rules missing"  // flushed
                : "\(f.family) \(state(f)) (\(counters(f)))"
        }.joined(separator: "; ")
        return families + (rules.differences.isEmpty ? ", as the daemon expects" : "; differs: " + rules.differences.joined(separator: "; "))
    }

    static func windowLine(_ w: StatusReport.Window, _ interval: StatusReport.Interval?) -> String {
        let order = ["post_syn", "post_ack", "post_psh", "later", "none"]
        let stages = order.map { name in
            let s = w.stages[name] ?? StatusReport.StageCount(count: 0, share: 0)
            return "\(name) \(s.count) (\(percent(s.share)))"
        }.joined(separator: ", ")
        let tags = w.tags.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        // As the log's window line labels it: seconds for windows shorter than whole minutes.
        let label = Timestamp.parse(Substring(w.start)).map {
            Timestamp.windowLabel($0, seconds: w.lengthSeconds.truncatingRemainder(dividingBy: 60) != 0, separator: UInt8(ascii: "T"))
        } ?? String(w.start.prefix(16))
        var line = "\(label)Z, \(counted(w.total, "connection")): \(stages)"
        if w.excluded > 0 { line += "; \(w.excluded) \(WindowSummary.excludedNote)" }
        if !tags.isEmpty { line += "; tags: \(tags)" }
        if let i = interval {
            line += "; \(i[.messages]) messages, \(i[.lost]) lost, \(i[.ringDrops]) ring drops, \(i[.parseErrorsTotal]) parse errors, \(i[.evicted]) evicted"
        }
        return line
    }

    /// 3725.2 -> "1h 2m 5s"; under a minute, "12.3 s".
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return "\((seconds * 10).rounded() / 10) s" }
        let total = Int(seconds), d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, s = total % 60
        return [(d, "d"), (h, "h"), (m, "m"), (s, "s")].drop { $0.0 == 0 }.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }
}
