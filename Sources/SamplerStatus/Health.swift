import SamplerConfiguration
import SamplerClassifier
import SamplerPipeline
import SamplerRules
#if canImport(Glibc)
import Glibc
import SamplerSinks
#endif

/// A verdict in the monitoring-plugin convention: the exit status of `sampler status`.
public enum HealthState: Int32, Codable, Sendable, Comparable, CaseIterable {
    case ok = 0, warning = 1, critical = 2, unknown = 3

    public var name: String {
        switch self {
        case .ok: "OK"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        case .unknown: "UNKNOWN"
        }
    }

    /// Severity, for combining: a failure we can see (CRITICAL) outranks one we cannot
    /// judge (UNKNOWN), which outranks a degradation (WARNING).
    private var severity: Int { [0, 1, 3, 2][Int(rawValue)] }
    public static func < (a: HealthState, b: HealthState) -> Bool { a.severity < b.severity }
}

/// When `status` warns (docs/operations.md, "Status"). Missing rules or a daemon that
/// does not answer is always CRITICAL.
public struct HealthThresholds: Codable, Sendable, Equatable {
    /// Lost NFLOG messages as a share of those sent, over the current and last window.
    public var lossRatio = 0.01
    /// Seconds without a logged packet (counted from the start until the first).
    public var idleSeconds = 3600.0
    /// Optional limits on a stage's share of the current window (`--warning post_psh=5%`).
    public var stageWarning: [StageLimit] = []
    public var stageCritical: [StageLimit] = []

    public init() {}

    /// Sets a stage's limit; a second one for the same stage replaces the first, as a
    /// repeated flag does (the verdict and the perfdata read the same one).
    public mutating func set(_ limit: StageLimit, critical: Bool) {
        func replace(_ limits: inout [StageLimit]) {
            limits.removeAll { $0.stage == limit.stage }
            limits.append(limit)
        }
        if critical { replace(&stageCritical) } else { replace(&stageWarning) }
    }

    /// A stage whose warning limit is above its critical one (the warning could never
    /// show), as monitoring plugins refuse such thresholds; nil when there is none.
    public var inverted: (warning: StageLimit, critical: StageLimit)? {
        for warning in stageWarning {
            if let critical = stageCritical.first(where: { $0.stage == warning.stage }), warning.share > critical.share {
                return (warning, critical)
            }
        }
        return nil
    }
}

/// A limit on one stage's share of the current window, as monitoring plugins take
/// thresholds: `post_psh=5%` or `post_psh=0.05`.
public struct StageLimit: Codable, Sendable, Equatable {
    public var stage: String
    public var share: Double

    public static let allowed = "STAGE=SHARE, a stage (post_syn, post_ack, post_psh, later, none) and a share in percent (0 to 100%) or as a fraction (0 to 1): post_psh=5% or post_psh=0.05"

    public init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, Stage.allCases.contains(where: { $0.name == parts[0] }) else { return nil }
        let percent = parts[1].hasSuffix("%")
        guard let value = Double(percent ? String(parts[1].dropLast()) : parts[1]), value.isFinite else { return nil }
        let share = percent ? value / 100 : value
        guard (0...1).contains(share) else { return nil }
        (stage, self.share) = (parts[0], share)
    }
}

/// The kernel rules as `status` found them.
public struct RulesCheck: Codable, Sendable, Equatable {
    public struct Family: Codable, Sendable, Equatable {
        public var family: String
        /// sampler's chain or its jump is there.
        public var present: Bool
        /// How many rules sampler's chain holds (2 when whole, 0 when flushed).
        public var rules: Int?
        /// Packets counted by the sampling rule (connections sampled) and the logging rule.
        public var sampledPackets: UInt64?
        public var loggedPackets: UInt64?
    }

    /// False when the rules could not be read (no privileges, no iptables) or `--skip-rules`.
    public var checked: Bool
    /// Why they were not checked, when that leaves status unable to judge them (UNKNOWN).
    public var reason: String?
    /// Why they were not checked, when something else stands in (the daemon's own check).
    public var note: String?
    public var families: [Family] = []
    /// How the installed rules differ from what the daemon works with (or, with no
    /// daemon, from the configuration); empty when they match.
    public var differences: [String] = []
    /// Those of `differences` that mean sampling does not work (a rule or the jump is
    /// missing, another group, labels that do not match); the others are drift.
    public var breaking: [String] = []
    /// Rules that keep inbound TCP connections out of conntrack, where sampler's rules
    /// cannot sample them (NOTRACK in the raw table, nftables' notrack).
    public var untracking: [UntrackingRule] = []

    public init(checked: Bool, reason: String? = nil, note: String? = nil) {
        self.checked = checked
        self.reason = reason
        self.note = note
    }

    public var anyPresent: Bool { families.contains { $0.present } }
    /// The other backend's sampler rules, found beside (or instead of) these.
    public var otherBackend: [OtherBackendRules] = []
    /// The backend the rules were read with, for the advice (`rules remove --backend ...`).
    public var backend: String?
    /// nftables counts both IP versions in one table, so the families share counters.
    public var sharedCounters = false
    /// The `sampler rules install` that puts back the rules expected (the daemon's
    /// values, tools and families), for the advice.
    public var install = "sampler rules install"

    public static func skipped(_ reason: String) -> RulesCheck { RulesCheck(checked: false, reason: reason) }

    /// Reads the rules with iptables and compares them with `expected` (the daemon's, when
    /// it said; else the configuration's); needs CAP_NET_ADMIN, as the tools do.
    public static func read(_ settings: Settings, expected: RuleParameters? = nil) -> RulesCheck {
        let manager = settings.ruleManager
        var check = RulesCheck(checked: true)
        check.backend = settings.backend.rawValue
        check.sharedCounters = settings.backend == .nftables
        check.install = manager.installCommand(expected ?? settings.rules, versions: settings.versions)
        for version in settings.versions {
            do {
                // Each read once: the state, the other backend's rules, and (iptables only)
                // the counters; the differences come from them.
                let state = try manager.installed(version: version)
                let others = try manager.otherBackendRules(versions: [version])
                check.otherBackend += others.filter { !check.otherBackend.contains($0) }
                let present = state.isPresent
                let counters = present ? (try? manager.counters(of: state, version: version)) ?? RuleCounters() : RuleCounters()
                check.families.append(Family(
                    family: "IPv\(version.rawValue)", present: present, rules: present ? state.ruleCount : nil,
                    sampledPackets: counters.sampling?.packets, loggedPackets: counters.logging?.packets))
                let differences = manager.differences(state, others: others, from: expected ?? settings.rules, version: version,
                                                      versions: settings.versions)
                check.differences += differences.map(\.text)
                check.breaking += differences.filter(\.breaksSampling).map(\.text)
            } catch {
                return .skipped("cannot read the rules: \(error)")
            }
        }
        do throws(RulesError) { check.untracking = try manager.untrackingRules(versions: settings.versions) } catch {
            return .skipped("cannot read the rules that keep connections out of conntrack: \(error)")
        }
        return check
    }
}

/// `sampler status`'s verdict: the state and every problem behind it.
public struct Health: Codable, Sendable, Equatable {
    public var state: HealthState
    public var problems: [String]

    /// Judges what the daemon said (or why it said nothing) and the rules.
    public static func evaluate(daemon: Result<StatusReport, UnixClient.Failure>, rules: RulesCheck,
                                settings: Settings, thresholds: HealthThresholds) -> Health {
        var health = judge(daemon: daemon, rules: rules, settings: settings, thresholds: thresholds)
        // After the daemon's problems: the plugin line shows the first one.
        if !rules.checked, let reason = rules.reason {
            health.state = max(health.state, .unknown)
            health.problems.append("rules not checked: \(reason)")
        }
        return health
    }

    /// conntrack's fill at which status warns.
    public static let conntrackNearlyFull = 0.9

    static func judge(daemon: Result<StatusReport, UnixClient.Failure>, rules: RulesCheck,
                              settings: Settings, thresholds: HealthThresholds) -> Health {
        var health = Health(state: .ok, problems: [])
        func problem(_ state: HealthState, _ text: String) {
            health.state = max(health.state, state)
            health.problems.append(text)
        }
        let report: StatusReport
        switch daemon {
        case .failure(.notRunning(let text)):
            problem(.critical, "sampler is not running (\(text))")
            if rules.checked {
                let flag = rules.backend.map { $0 == "auto" ? "" : " --backend \($0)" } ?? ""
                // A daemon of another backend would not find them (a trial: the advice was
                // the same for both): the backend to start it with, as remove's flag.
                let start = flag.isEmpty ? "start sampler" : "start sampler with backend \(rules.backend ?? "") (the setting, or\(flag))"
                health.problems.append(rules.anyPresent
                    ? "sampler's rules are still in the kernel (\(rules.families.filter(\.present).map(\.family).joined(separator: ", "))): \(start), or remove them with 'sampler rules remove\(flag)'"
                    : rules.otherBackend.first.map(\.removalAdvice) ?? "no sampler rules are left in the kernel")
            }
            return health
        case .failure(.permissionDenied(let text)):
            // The socket's group, or its directory's when the directory keeps us out (sampler
            // gives both the same group).
            let directory = String(settings.statusSocket[..<(settings.statusSocket.lastIndex(of: "/") ?? settings.statusSocket.endIndex)])
            let group = (groupName(of: settings.statusSocket) ?? groupName(of: directory)).map { " (\($0))" } ?? ""
            problem(.unknown, "cannot ask the daemon (\(text)): run as root or as a member of the socket's group\(group)")
            return health
        case .failure(.failed(let text)):
            problem(.critical, "the daemon did not answer (\(text))")
            return health
        case .success(let answer):
            report = answer
        }

        if rules.checked {
            if !rules.anyPresent, let other = rules.otherBackend.first {
                // Rules of the other backend may well feed the daemon (the same group):
                // what does not work is the daemon's watch over them.
                let backend = rules.backend ?? Backend.auto.rawValue
                problem(.warning, "sampler's rules are not where the daemon looks (backend \(backend)), but \(other.what); "
                    + "if they log to the daemon's group it is fed, but cannot check or repair them: restart sampler with the backend "
                    + "they were installed with (--backend, or backend in the configuration)")
            } else if !rules.anyPresent, report.rulesUpkeep?.repair == true, let source = report.rules?.source, source != "configured" {
                // Gone from under a daemon that repairs them (the rules it started with:
                // installed or found), it puts them back at its next check.
                problem(.critical, "sampler's rules are missing: nothing is sampled until the daemon reinstalls them at its next check "
                    + "(rules_check_interval); if they stay missing, run '\(rules.install)'")
            } else if !rules.anyPresent {
                problem(.critical, "sampler's rules are missing: nothing will be sampled (run '\(rules.install)')")
            } else {
                for difference in rules.differences {
                    if rules.breaking.contains(difference) {
                        problem(.critical, "rules: \(difference)")
                    } else {
                        problem(.warning, "rules: \(difference) ("
                            + (report.rules?.source == "configured"
                               ? "the daemon found no rules at its start and works with its configuration's: restart sampler to work with these, "
                                 + "or install them with '\(rules.install)')"
                               : "the rules changed since the daemon started: restart sampler, or install them again with '\(rules.install)')"))
                    }
                }
            }
            // Every connection of every family sampled untracked is nothing sampled; one
            // family's (IPv6 only, say) leaves the other's sample whole (a trial: CRITICAL).
            let untrackedFamilies = Set(rules.untracking.filter(\.coversEveryConnection).flatMap(\.families))
            let sampledFamilies = Set(rules.families.map(\.family))
            let nothingSampled = !sampledFamilies.isEmpty && sampledFamilies.isSubset(of: untrackedFamilies)
            for rule in rules.untracking {
                // sampler samples tracked connections only: the rule is the user's to change.
                if rule.coversEveryConnection && !nothingSampled {
                    let others = sampledFamilies.subtracting(rule.families).sorted().joined(separator: " and ")
                    problem(.warning, "\(rule.family): a rule keeps every \(rule.family) TCP connection out of conntrack, so none of them is sampled "
                        + "(\(others) ones are): '\(rule.text)' in \(rule.place); narrow it so that the server's clients are tracked")
                } else if rule.coversEveryConnection {
                    problem(.critical, "\(rule.family): a rule keeps every TCP connection out of conntrack, so none is sampled: '\(rule.text)' "
                        + "in \(rule.place); narrow it so that the server's clients are tracked")
                } else {
                    problem(.warning, "\(rule.family): a rule keeps some TCP connections out of conntrack, and those are never sampled: '\(rule.text)' "
                        + "in \(rule.place); exempt the server's clients from it to sample them")
                }
            }
        }
        if let upkeep = report.rulesUpkeep {
            // The sample of a window with a gap in the rules is short of what it should
            // hold: said until that window is over, while they are back (missing again,
            // the critical line above says so, not that they are back). The daemon cannot
            // tell who removed them: a firewall reload, or somebody by hand.
            let presentNow = rules.checked ? rules.anyPresent : upkeep.present == true
            if rules.checked, rules.anyPresent, upkeep.present == false, upkeep.everPresent != false, let since = upkeep.missingSince {
                // Put back (by hand, say) since the daemon's last check, which found them
                // missing: the gap is real, and ends at its next check (a trial read OK here,
                // beside "missing" in the upkeep line).
                problem(.warning, "sampler's rules are back in the kernel, but the daemon's last check (\(upkeep.lastCheckAt ?? "?")) found them missing, "
                    + "since \(since): this window's sample has a gap (the daemon sees them at its next check)")
            } else if presentNow, let start = upkeep.lastGapStart, let end = upkeep.lastGapEnd, end >= report.currentWindow.start {
                problem(.warning, "sampler's rules went missing after \(start) (the last check that found them) and were back at \(end) (a firewall reload, or removed by hand; "
                    + "\(upkeep.repairs) repair\(upkeep.repairs == 1 ? "" : "s") since the start): this window's sample has a gap")
            }
            // Without root, status cannot read the rules itself: the daemon's last look stands in.
            if !rules.checked, upkeep.present == false {
                problem(.critical, "the daemon's last check found its rules missing or incomplete, and what they no longer cover is not sampled "
                    + "(\(upkeep.problem ?? "it reinstalls them"))")
            } else if !rules.checked, let found = upkeep.problem {
                problem(.warning, "the daemon's last check of its rules: \(found)")
            }
        }
        // A configuration file that says otherwise than the running daemon: only for the
        // keys the file sets (the defaults of an absent file are nobody's intent).
        let running = report.rules?.parameters ?? {
            var p = settings.rules
            p.group = report.group
            return p
        }()
        let keys: [(String, String, String)] = [
            ("probability", "\(settings.rules.probability)", "\(running.probability)"),
            ("label", settings.rules.label, running.label),
            ("group", "\(settings.rules.group)", "\(report.group)"),
            ("packets", "\(settings.rules.packets)", "\(running.packets)"),
            ("prefix", settings.rules.prefix, running.prefix),
        ]
        for (key, configured, used) in keys where settings.explicitKeys.contains(key) && configured != used {
            if key == "label" && ConnLabels().same(configured, used) { continue }
            if key == "probability" && abs(settings.rules.probability - running.probability) <= 1e-9 { continue }
            // Both ways, neither first: the daemon's value may be the deliberate one.
            problem(.warning, "the configuration sets \(key) = \(configured) but the running daemon uses \(used): either set \(key) = \(used) "
                + "in the file, to keep what runs, or restart sampler (after 'sampler rules install', or with --install-rules) to apply the file")
        }
        if let failure = report.writeFailure {
            problem(.critical, "cannot write records to \(report.output): \(failure); they wait in memory (up to \(RecordFile.maximumBuffered >> 20) MiB, "
                + "then new records are dropped: \(report.counts[.recordsDropped]) so far): free space there, and they are written at once; "
                + "stopping or restarting sampler before that loses them")
        } else if report.counts[.recordsDropped] > 0 {
            problem(.warning, "\(report.counts[.recordsDropped]) records were dropped since the start while \(report.output) could not be written "
                + "(writing works again)")
        }
        if let table = report.conntrack {
            if let lost = report.conntrackNewLosses, lost > 0 {
                problem(.warning, "conntrack dropped or could not track \(lost) connections in the current and last window: they are not in "
                    + "the sample (table \(table.entries) of \(table.maximum)); \(table.raiseAdvice)")
            } else if let evicted = report.conntrackNewEvictions, evicted > 0 {
                problem(.warning, "conntrack evicted \(evicted) connections not yet answered to make room in the current and last window "
                    + "(early_drop): a sampled one among them is logged no further, so its record ends early, as a timeout "
                    + "(table \(table.entries) of \(table.maximum)); \(table.raiseAdvice)")
            } else if table.fill >= Self.conntrackNearlyFull {
                problem(.warning, "conntrack's table is \(percent(table.fill)) full (\(table.entries) of \(table.maximum)): new connections will "
                    + "be dropped before sampling; \(table.raiseAdvice)")
            }
        }
        // Lost in the kernel (sequence gaps) or dropped at a full shard ring: either way
        // a packet the sample should have had.
        var both = report.currentInterval.counts
        if let last = report.lastInterval { both.add(last.counts) }
        if both.lossRatio > thresholds.lossRatio {
            // Each cause with its remedy: the kernel's losses are the socket buffer's, the
            // ring drops the classifiers'.
            var causes: [String] = []
            if both[.lost] > 0 { causes.append("\(both[.lost]) by the kernel (the socket's receive buffer was full: it doubles on each overrun up to max_receive_buffer; raise that if losses go on)") }
            if both[.ringDrops] > 0 {
                causes.append("\(both[.ringDrops]) dropped at full shard rings (the classifiers fell behind: give them more cores, shards, or raise ring_size)")
            }
            problem(.warning, "\(both.messagesLost) of \(both.messagesSent) NFLOG messages in the current and last window never reached the classifiers (more than "
                + "\(percent(thresholds.lossRatio))): " + causes.joined(separator: ", ") + "; or sample less (probability)")
        }
        let evicted = both[.evicted]
        if evicted > 0 {
            problem(.warning, "the connection table was full (max_connections \(report.maxConnections)): \(evicted) connections "
                + "evicted early in the current and last window (their records say 'evicted'); raise max_connections, "
                + "lower idle_timeout, or sample less (probability)")
        }
        if let shipping = report.clickhouse {
            if report.counts[.clickhouseDroppedRecords] > 0 {
                problem(.warning, "the ClickHouse spool overflowed: \(report.counts[.clickhouseDroppedRecords]) records dropped since the start "
                    + "(spool_max_bytes \(shipping.spoolLimitBytes))")
            }
            if let failed = shipping.lastFailureAt, failed > (shipping.lastInsertAt ?? "") {
                problem(.warning, "ClickHouse inserts are failing (\(shipping.lastError ?? "no detail")): \(shipping.spoolRecords) records wait in the spool")
            }
        }
        // The stage limits, on the current window's shares (of the connections it counts).
        for (state, limits) in [(HealthState.critical, thresholds.stageCritical), (.warning, thresholds.stageWarning)] {
            for limit in limits {
                guard let stage = report.currentWindow.stages[limit.stage], report.currentWindow.total > report.currentWindow.excluded,
                      stage.share > limit.share, !health.problems.contains(where: { $0.hasPrefix("\(limit.stage) is ") }) else { continue }
                problem(state, "\(limit.stage) is \(percent(stage.share)) of the current window's connections (\(stage.count) of "
                    + "\(report.currentWindow.total - report.currentWindow.excluded)), above \(percent(limit.share))")
            }
        }
        let idle = report.lastPacketSecondsAgo ?? report.uptimeSeconds
        if idle > thresholds.idleSeconds {
            problem(.warning, report.lastPacketSecondsAgo == nil
                ? "no packet since the start \(Int(idle)) s ago (warning after \(Int(thresholds.idleSeconds)) s)"
                : "no packet for \(Int(idle)) s (warning after \(Int(thresholds.idleSeconds)) s)")
        }
        return health
    }
}

/// Status's percentages, and the daemon log's window lines: two decimals, for thresholds
/// such as 0.5%, and so that the log and status show a window's shares alike.
public func percent(_ ratio: Double) -> String { SummaryTable.percent(ratio, decimals: 2) }
