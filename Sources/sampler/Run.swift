import ArgumentParser
import Foundation
import SamplerConfiguration
import SamplerCapture
import SamplerClassifier
import SamplerPipeline
import SamplerRules
import SamplerRuntime
import SamplerService
import SamplerStatus
import SamplerSinks
import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the sampled packets from NFLOG, classify them live and write records.",
        discussion: """
            Binds the NFLOG group that `sampler rules install` logs to, classifies connections \
            as their packets arrive, and appends one JSON line per finalized connection to \
            --output (docs/records.md). A summary of each aggregation window goes to the log \
            (standard error).

            Signals: SIGHUP re-reads the configuration file and applies idle_timeout, grace \
            and ttl_margin at once (the log says what changed and which changed keys need a \
            restart), and reopens the output file (for logrotate) and the location \
            database (after `location update`); SIGINT or SIGTERM stop \
            reading, write every open connection (close "shutdown", or reset/fin when it has \
            one), log a last line of totals (everything turned away on the way), and exit 0, \
            or 74 if records were dropped because the output could not be written (a reader \
            of standard output that went away, `--output - | head`, is not a failure: the \
            stop line counts what it never got).

            Needs CAP_NET_ADMIN (root). The rules are separate: install them first with \
            `sampler rules install` (same --group), or pass --install-rules to have run \
            install them before reading and remove them when it stops (for running without \
            systemd, whose unit does this with ExecStartPre/ExecStopPost); a family's rules \
            already in the kernel as asked are left as they are, and stay. Every \
            --rules-check-interval seconds, and at once when NFLOG goes quiet, run reads its \
            rules back; when a firewall reload removed them (flush ruleset, iptables -F) it \
            reinstalls them, logs it and counts the time without them (--repair-rules \
            false turns that off). It repairs only the rules it started with (installed, or \
            found in the kernel at its start): rules installed later are watched, not repaired. \
            Complete rules with other values were changed on purpose and are left alone.

            While it runs, `sampler status` asks it how it is over --status-socket, and \
            Prometheus can scrape GET /metrics on --metrics (docs/operations.md).

            With --clickhouse-url (or clickhouse_url in the configuration) the records also \
            go to ClickHouse, in batches, through a bounded spool on disk that survives \
            ClickHouse being down and sampler restarting; client addresses are truncated \
            to /24 and /48 first unless --clickhouse-client-addresses says otherwise \
            (docs/clickhouse.md).

            \(ExitStatus.help("stopped by a signal", [
                .failure: "a runtime failure",
                .rulesFailed: "--install-rules could not install the rules: \(Rules.toolsFailed); or the other backend's rules are installed",
                .unavailable: "the group, the status socket, the metrics port or the spool is taken by another process",
                .cannotCreate: "the output, the status socket or the spool cannot be created",
                .ioError: "records were dropped because the output could not be written (a full disk, say)",
                .noPermission: "no permission (CAP_NET_ADMIN)",
                .configuration: "a bad setting, in the configuration file or a flag",
            ]))
            """
    )

    @Option(help: ArgumentHelp(setting: "group")) var group: String?
    @Option(help: ArgumentHelp(setting: "output")) var output: String?
    @OptionGroup var classification: ClassifierOptions
    @Option(help: ArgumentHelp(setting: "max_connections")) var maxConnections: String?
    @Option(help: ArgumentHelp(setting: "receive_buffer")) var receiveBuffer: String?
    @Option(help: ArgumentHelp(setting: "max_receive_buffer")) var maxReceiveBuffer: String?
    @Option(help: ArgumentHelp(setting: "shards")) var shards: String?
    @Option(help: ArgumentHelp(setting: "ring_size")) var ringSize: String?
    @Option(help: ArgumentHelp(setting: "location_database")) var locationDatabase: String?
    @Option(help: ArgumentHelp(setting: "status_socket")) var statusSocket: String?
    @Option(help: ArgumentHelp(setting: "status_socket_group")) var statusSocketGroup: String?
    @Option(help: ArgumentHelp(setting: "status_socket_mode")) var statusSocketMode: String?
    @Option(help: ArgumentHelp(setting: "metrics")) var metrics: String?

    @OptionGroup(title: "ClickHouse") var clickhouse: ClickHouseOptions

    @Flag(help: "Install the rules before reading and remove them on exit (without systemd); rules already there as asked stay.")
    var installRules = false
    @Option(help: ArgumentHelp(setting: "probability")) var probability: String?
    @Option(help: ArgumentHelp(setting: "label")) var label: String?
    @Option(help: ArgumentHelp(setting: "prefix")) var prefix: String?
    @OptionGroup(title: "Rules") var target: TargetOptions
    @Option(help: ArgumentHelp(setting: "repair_rules")) var repairRules: String?
    @Option(help: ArgumentHelp(setting: "rules_check_interval")) var rulesCheckInterval: String?

    @OptionGroup var configuration: ConfigOption

    /// The configuration file's settings with these flags over them, validated.
    func settings() throws -> Settings {
        var settings = try configuration.load()
        try applyKeys([("group", group), ("output", output)] + classification.given + [
            ("max_connections", maxConnections), ("receive_buffer", receiveBuffer), ("max_receive_buffer", maxReceiveBuffer),
            ("shards", shards), ("ring_size", ringSize), ("location_database", locationDatabase), ("status_socket", statusSocket),
            ("status_socket_group", statusSocketGroup), ("status_socket_mode", statusSocketMode), ("metrics", metrics),
        ], to: &settings)
        try clickhouse.apply(to: &settings)
        try target.apply(to: &settings)
        try applyKeys([("repair_rules", repairRules), ("rules_check_interval", rulesCheckInterval),
                       ("probability", probability), ("label", label), ("prefix", prefix)], to: &settings)
        try configurationStep { () throws(ConfigurationError) in try settings.validate() }
        return settings
    }

    /// Says why the daemon could not start or stopped on an error, and its exit status.
    private static func failure(_ error: LiveSampler.RunError) -> ExitCode {
        printError("sampler run: \(error)")
        switch error {
        case .capture(.notPermitted): return ExitStatus.noPermission.exit
        case .capture(.groupInUse): return ExitStatus.unavailable.exit
        case .output: return ExitStatus.cannotCreate.exit
        default: return ExitStatus.failure.exit
        }
    }

    func run() throws {
        let settings = try settings()
        if settings.output == Settings().output {
            // The default's directory is sampler's own: make it if it is not there.
            mkdir(Settings.stateDirectory, 0o750)
        }
        // Say the most useful thing first: without the capability nothing else matters.
        guard hasNetAdminCapability() else {
            printError("sampler run: \(CaptureError.notPermitted)")
            throw ExitStatus.noPermission.exit
        }
        let rules = settings.ruleManager
        let conntrack = ConntrackWatch(windowLength: settings.windowLength, now: wallClock())
        let conntrackAtStart = Conntrack.read()
        let (working, kept) = effectiveRules(rules, settings)
        // The rules this daemon works with are kept in the kernel: read back every few
        // seconds and reinstalled when a firewall reload removed them. Rules that were
        // not there at the start are nobody's to repair; they are only watched.
        let presentAtStart = working.source != "configured"
        let keeper: RuleKeeper
        do {
            keeper = try RuleKeeper(options: RuleKeeper.Options(
                manager: rules, parameters: working.parameters, versions: kept,
                interval: Microseconds(settings.rulesCheckInterval * 1_000_000),
                repair: settings.repairRules && presentAtStart, presentAtStart: presentAtStart)) { printError("sampler: \($0)") }
        } catch {
            printError("sampler run: cannot start watching the rules: \(error)")
            throw ExitStatus.failure.exit
        }
        let endpoints = try openEndpoints(settings, rules: working, conntrack: conntrack, keeper: keeper)
        let options = settings.live
        let sink = try openClickHouseSink(settings, command: "run", environment: ProcessInfo.processInfo.environment)
        let sampler = LiveSampler(options: options, sink: sink) { printError("sampler: \($0)") }
        // The group before the rules: a start refused there (another daemon reads it)
        // must not install rules, and then remove them from under that daemon on its way out.
        do { try sampler.bind() } catch { throw Self.failure(error) }
        // What --install-rules installs, and so removes on exit: not the families whose
        // rules are in the kernel already as asked (somebody installed them; they stay).
        // nftables' one table serves every family: it is all of them or none.
        var installing: [IPVersion] = []
        if installRules {
            let asked = settings.versions.filter { version in
                (try? rules.differences(from: settings.rules, version: version, versions: settings.versions))?.isEmpty == true
            }
            let missing = settings.versions.filter { !asked.contains($0) }
            installing = rules.backend == .nftables && !missing.isEmpty ? settings.versions : missing
            func families(_ versions: [IPVersion]) -> String { versions.map { "IPv\($0.rawValue)" }.joined(separator: ", ") }
            // Rules there with other values are replaced, as asked: said, with what they were.
            let replaced = installing.flatMap { version in
                (try? rules.installed(version: version)).map { $0.isPresent } == true
                    ? ((try? rules.differences(from: settings.rules, version: version, versions: settings.versions)) ?? []).map(\.text) : []
            }
            if !installing.isEmpty {
                do { try rules.install(settings.rules, versions: installing) } catch {
                    printError("sampler run: cannot install the rules: \(error)")
                    throw ExitStatus.rulesFailed.exit  // as `rules install` exits
                }
                printError("sampler: installed the rules in \(rules.place) (\(families(installing))); they are removed on exit"
                    + (replaced.isEmpty ? "" : "; they replaced rules with other values (\(replaced.joined(separator: "; ")))"))
            }
            let kept = settings.versions.filter { !installing.contains($0) }
            if !kept.isEmpty {
                printError("sampler: the rules of \(families(kept)) were in \(rules.place) already as asked; they stay there on exit")
            }
        }
        let keeping: JoinableThread
        do { keeping = try keeper.start() } catch {
            printError("sampler run: cannot start watching the rules: \(error)")
            throw ExitStatus.failure.exit
        }
        defer {
            // Stop the upkeep first: it must not put back what the next lines remove.
            keeper.stop()
            keeping.join()
            if !installing.isEmpty {
                do { try rules.remove(versions: installing) } catch { printError("sampler: cannot remove the rules: \(error)") }
            }
        }
        // Under systemd (Type=notify): ready once the group is bound, a watchdog ping from
        // the loop, and word when stopping. Outside systemd these do nothing.
        let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        var lastPing: Microseconds = 0, lastTold: Microseconds = 0
        var running = settings
        let events = LiveSampler.Events(
            ready: {
                keeper.begin()
                systemd?.notify("READY=1\nSTATUS=reading NFLOG group \(options.nflog.group)")
            },
            tick: { now in
                // Traffic that stops is the first sign of rules that went away.
                if now - lastTold >= 250_000 {
                    lastTold = now
                    keeper.saw(messages: sampler.counters[.messages])
                }
                guard let interval = systemd?.watchdogInterval, now - lastPing >= interval else { return }
                lastPing = now
                systemd?.notify("WATCHDOG=1")
            },
            stopping: { systemd?.notify("STOPPING=1") },
            reload: {
                // The file again, with the same flags over it: a key given as a flag keeps it.
                guard let fresh = try? self.settings() else {
                    printError("sampler: SIGHUP: the configuration cannot be used (said above); keeping the running one")
                    return nil
                }
                let (applied, needRestart) = running.changes(to: fresh)
                running = running.reloaded(from: fresh)
                // No --config and no default file: the built-in defaults and the flags.
                let source = configuration.config
                    ?? (FileManager.default.fileExists(atPath: Settings.defaultPath) ? Settings.defaultPath : nil)
                printError("sampler: SIGHUP: " + (source.map { "read \($0)" } ?? "no configuration file (\(Settings.defaultPath) does not exist)") + ": "
                    + (applied.isEmpty && needRestart.isEmpty ? "nothing changed" : "")
                    + (applied.isEmpty ? "" : "applied " + applied.joined(separator: ", "))
                    + (needRestart.isEmpty ? "" : (applied.isEmpty ? "" : "; ") + "not applied until a restart: " + needRestart.joined(separator: ", ")))
                return applied.isEmpty ? nil : running.classifier
            })
        do { try sampler.run(events: events, attachments: endpoints) } catch { throw Self.failure(error) }
        let c = sampler.counters
        // Everything turned away anywhere on the way, so that the last line of the log
        // says whether the sample is whole.
        let counted = Counter.allCases.filter { $0.publisher != .clickhouse || sink != nil }.compactMap { counter in
            counter.stopLine.map { "\(c[counter]) \($0)" }
        }
        let upkeep = keeper.state
        let missing = upkeep.missing(at: wallClock())
        let repairs = !upkeep.everPresent ? ", sampler's rules were never in the kernel while it ran (nothing was sampled)"
            : missing > 0 || upkeep.repairs > 0
            ? ", rules missing for \(Double(missing / 100_000) / 10) s in all (reinstalled \(upkeep.repairs) time\(upkeep.repairs == 1 ? "" : "s")"
                + (upkeep.missingSince != nil ? ", missing at the stop" : "") + ")"
            : ""
        // A reader that went away (`--output - | head`) is the user's choice, as with
        // classify; any other loss of records is a failure of the run, for systemd too.
        // Said before the stop line, which stays the log's last.
        let readerLeft = (options.output ?? "-") == "-" && c.writeFailure == .brokenPipe
        let recordsLost = c[.recordsDropped] > 0 && !readerLeft
        if recordsLost {
            printError("sampler run: \(c[.recordsDropped]) records were dropped because \(options.output ?? "standard output") could not be written"
                + (c.writeFailure.map { " (\($0))" } ?? "") + ": the sample is not whole; free space there, or choose another 'output'")
        }
        printError("sampler: stopped; " + counted.joined(separator: ", ") + repairs
            + (Conntrack.read().flatMap { now in conntrackAtStart.map { (now.lost(since: $0), now.evicted(since: $0)) } }.map {
                ", \($0.0) new connections conntrack dropped or could not track (never sampled), "
                    + "\($0.1) conntrack evicted to make room (sampled ones among them end early)" } ?? ""))
        if recordsLost { throw ExitStatus.ioError.exit }
    }

    /// The rules this daemon works with, for `status` to judge the kernel by: the ones
    /// it installs, else those in the kernel now (a `sampler rules install` with other
    /// options than the configuration's is what the operator meant), else the
    /// configuration's. The group is always the one this daemon reads: rules that log
    /// elsewhere feed it nothing, which status must call CRITICAL, and the log says at once.
    ///
    /// Also the IP versions whose rules the daemon keeps (`RuleKeeper`): those it installs,
    /// or those it found (rules installed for IPv4 only are not "missing" for IPv6).
    private func effectiveRules(_ manager: RuleManager, _ settings: Settings) -> (StatusReport.Rules, versions: [IPVersion]) {
        func working(_ parameters: RuleParameters, _ source: String, _ versions: [IPVersion]) -> (StatusReport.Rules, versions: [IPVersion]) {
            (StatusReport.Rules(parameters, source: source, manager: manager, versions: versions), versions)
        }
        if installRules { return working(settings.rules, "installed", settings.versions) }
        let present = settings.versions.filter { (try? manager.installed(version: $0))?.isComplete == true }
        for version in settings.versions {
            guard var found = try? manager.parameters(version: version) else { continue }
            if found.group != settings.rules.group {
                printError("sampler: warning: the kernel's rules (IPv\(version.rawValue)) log to NFLOG group \(found.group), but this daemon "
                    + "reads group \(settings.rules.group): nothing will be sampled; install the rules for this group "
                    + "('sampler rules install --group \(settings.rules.group)', or run with --install-rules), or run with --group \(found.group)")
                found.group = settings.rules.group
            }
            return working(found, "found", present.isEmpty ? [version] : present)
        }
        return working(settings.rules, "configured", settings.versions)
    }

    /// The status socket and, unless it is off, the metrics endpoint.
    private func openEndpoints(_ settings: Settings, rules: StatusReport.Rules, conntrack: ConntrackWatch,
                               keeper: RuleKeeper) throws -> [RequestServer] {
        let access = try configurationStep { () throws(ConfigurationError) in try settings.statusSocketAccess() }
        do throws(RequestServer.OpenError) {
            var servers = [try Endpoints.statusServer(path: settings.statusSocket, access: access, version: samplerVersion, rules: rules,
                                                      conntrack: conntrack, keeper: keeper)]
            if let address = settings.metricsAddress {
                servers.append(try Endpoints.metricsServer(address, version: samplerVersion, conntrack: conntrack, keeper: keeper))
                printError("sampler: metrics on http://\(address)/metrics"
                    + (address.isLoopback ? "" : " (reachable from the network, without authentication: firewall it, or use a loopback address)"))
            }
            return servers
        } catch {
            printError("sampler run: \(error)")
            throw (error.inUse ? ExitStatus.unavailable : .cannotCreate).exit
        }
    }
}
