import ArgumentParser
import Foundation
import SamplerConfiguration
import SamplerRules
import SamplerStatus
#if canImport(Glibc)
import Glibc
#endif

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running sampler how it is; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: """
            Asks the daemon over its status socket (status_socket in the configuration) and \
            reads sampler's rules from the kernel, then prints one summary line in the \
            monitoring-plugin format (with performance data after "|"), followed by the \
            details: uptime, rules and their counters, NFLOG traffic and losses, parse \
            errors, connections, and the stage shares of the current and last window.

            CRITICAL: the daemon does not answer; it cannot write its records (a full disk, \
            say); sampler's rules are missing, or no longer feed the daemon (another group, a \
            rule or the jump missing, the logging rule matching another label than the \
            sampling rule sets); a rule keeps every TCP connection out of conntrack \
            (NOTRACK in the raw table, nftables' notrack) in every family the daemon \
            samples, where none can be sampled. The \
            kernel's rules are judged \
            against the daemon's own (installed with --install-rules, or found at its start). \
            WARNING: more than --warn-loss of the NFLOG messages lost in the current and \
            last window; conntrack's table is 90% full or dropped new connections; the \
            connection table was full and connections were evicted; the \
            rules changed since the daemon started; a rule keeps some TCP connections out of \
            conntrack, or all of one family's (those are never sampled); the configuration sets a rule key to \
            another value than the daemon uses; \
            records were dropped while the output could not be written; ClickHouse inserts \
            fail or its spool overflowed; no packet for --warn-idle seconds; a stage's share \
            of the current window above a --warning limit (--critical: CRITICAL). The \
            performance data has each stage's share of the current window in percent. \
            UNKNOWN: the daemon runs in another network namespace, whose rules status \
            cannot read from here (run it there, or pass --skip-rules to judge the daemon \
            alone); the socket may not be used (run as root), the rules cannot be read \
            (run as root, or pass --skip-rules), or a bad option (a --backend other than the \
            daemon's, whose rules status then would not see).

            When the daemon is not running, status still answers (CRITICAL) and says \
            whether sampler's rules are left in the kernel.

            Exit status, as monitoring plugins have it: \(HealthState.allCases.map { "\($0.rawValue) \($0.name)" }.joined(separator: "; ")).
            """
    )

    @Flag(help: "Print one JSON object (state, problems, rules, and the daemon's report) instead of text.")
    var json = false

    @Option(help: ArgumentHelp("The daemon's status socket (default: status_socket, \(Settings().statusSocket)).", valueName: "path"))
    var statusSocket: String?

    @Option(help: ArgumentHelp("WARNING when more than this share of NFLOG messages was lost in the current and last window.", valueName: "ratio"))
    var warnLoss: Double = HealthThresholds().lossRatio

    @Option(help: ArgumentHelp("WARNING when no packet came for this many seconds.", valueName: "seconds"))
    var warnIdle: Double = HealthThresholds().idleSeconds

    @Option(name: .customLong("warning"), help: ArgumentHelp("WARNING when a stage's share of the current window is above a limit: post_psh=5% (repeat for several stages; for one stage the last given counts).", valueName: "stage=share"))
    var stageWarning: [String] = []

    @Option(name: .customLong("critical"), help: ArgumentHelp("CRITICAL when a stage's share of the current window is above a limit, as --warning.", valueName: "stage=share"))
    var stageCritical: [String] = []

    @Flag(help: "Do not read the kernel's rules (for an unprivileged monitoring user).")
    var skipRules = false

    @OptionGroup var target: TargetOptions
    @OptionGroup var configuration: ConfigOption

    func run() throws {
        var settings: Settings
        do throws(ConfigurationProblem) {
            settings = try configuration.read()
            do throws(ConfigurationError) {
                try setKeys(target.given, on: &settings)
                if let statusSocket { settings.statusSocket = statusSocket }
                try settings.validate(checkOutputDirectory: false)
            } catch {
                throw ConfigurationProblem(error)
            }
        } catch {
            // On the plugin's one line, where a monitoring system shows it.
            print("SAMPLER UNKNOWN - \(error)")
            throw ExitCode(HealthState.unknown.rawValue)
        }
        guard warnLoss >= 0, warnLoss <= 1, warnIdle > 0 else {
            print("SAMPLER UNKNOWN - --warn-loss is a ratio from 0 to 1 and --warn-idle a number of seconds above 0")
            throw ExitCode(HealthState.unknown.rawValue)
        }
        var thresholds = HealthThresholds()
        thresholds.lossRatio = warnLoss
        thresholds.idleSeconds = warnIdle
        for (flag, texts) in [("--warning", stageWarning), ("--critical", stageCritical)] {
            for text in texts {
                guard let limit = StageLimit(text) else {
                    print("SAMPLER UNKNOWN - \(flag) '\(text)' is not \(StageLimit.allowed)")
                    throw ExitCode(HealthState.unknown.rawValue)
                }
                thresholds.set(limit, critical: flag == "--critical")
            }
        }
        if let (warning, critical) = thresholds.inverted {
            print("SAMPLER UNKNOWN - --warning \(warning.stage)=\(percent(warning.share)) is above --critical \(critical.stage)=\(percent(critical.share)): "
                + "the warning would never show; give a warning limit at or below the critical one")
            throw ExitCode(HealthState.unknown.rawValue)
        }

        let daemon = ask(settings.statusSocket)
        // The daemon is judged against itself: the kernel's rules against the ones it
        // works with, in its own network namespace.
        let report = try? daemon.get()
        let here = StatusReport.currentNetworkNamespace()
        // The daemon's tools and families, unless the command line names others: rules it
        // keeps for IPv4 only lack nothing for IPv6.
        var reading = settings
        // With --skip-rules no rule is read, so the flag's tools are not used either.
        if target.backend != nil, !skipRules, let theirs = report?.rules?.backend.flatMap(Backend.init(rawValue:)), !theirs.mayShareRules(with: settings.backend) {
            // Read with other tools than the daemon's, its rules would look missing, and the
            // daemon be blamed for a flag (a trial: a warning to restart it with its backend).
            let here = theirs == .auto && theirs.resolved != .auto ? " (iptables-\(theirs.resolved.rawValue) here)" : ""
            print("SAMPLER UNKNOWN - --backend \(settings.backend.rawValue): the daemon works with backend \(theirs.rawValue)\(here), "
                + "whose rules status judges it by: leave out --backend (to read the others: "
                + "'sampler rules check --backend \(settings.backend.rawValue)')")
            throw ExitCode(HealthState.unknown.rawValue)
        }
        if let theirs = report?.rules, target.backend == nil {
            reading.backend = theirs.backend.flatMap(Backend.init(rawValue:)) ?? reading.backend
            reading.nftablesTable = theirs.nftablesTable ?? reading.nftablesTable
        }
        if let versions = report?.rules?.versions, target.family == nil { reading.family = Families(versions) }
        var rules: RulesCheck
        if skipRules {
            rules = RulesCheck(checked: false, note: "--skip-rules: the kernel's rules were not read")
        } else if let theirs = report?.networkNamespace, let here, theirs != here {
            rules = .skipped("the daemon runs in another network namespace (\(theirs); this is \(here)), whose rules are not "
                + "visible here: run status there (e.g. 'ip netns exec NAME sampler status'), or pass --skip-rules")
        } else if geteuid() == 0 {
            rules = RulesCheck.read(reading, expected: report?.rules?.parameters)
        } else if report?.rulesUpkeep?.present != nil {
            // Without root the kernel does not list its rules; the daemon, which may,
            // checks them every few seconds: its last look stands in (judged in Health).
            rules = RulesCheck(checked: false, note: "not root: the daemon's own check of its rules stands in")
        } else {
            rules = .skipped("reading the rules needs root (CAP_NET_ADMIN); pass --skip-rules not to check them")
        }
        if !rules.checked {
            // The command that installs the daemon's rules (its group, its probability),
            // not the defaults', for a script that reads it from --json.
            rules.install = reading.ruleManager.installCommand(report?.rules?.parameters ?? settings.rules, versions: reading.versions)
        }
        let health = Health.evaluate(daemon: daemon, rules: rules, settings: settings, thresholds: thresholds)
        if json {
            print(StatusOutput(health: health, socket: settings.statusSocket, rules: rules, daemon: daemon).json())
        } else {
            print(StatusText.render(health: health, rules: rules, daemon: daemon, thresholds: thresholds))
        }
        throw ExitCode(health.state.rawValue)
    }

    /// A share as a limit is written: 0.05 as 5%.
    private func percent(_ share: Double) -> String {
        let value = share * 100
        return (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }

    private func ask(_ path: String) -> Result<StatusReport, UnixClient.Failure> {
        do {
            let answer = try UnixClient.exchange(path, request: StatusReport.request)
            do { return .success(try StatusReport.decode(Data(answer))) } catch {
                return .failure(.failed("\(path): the answer is not a status report (is the daemon another version?)"))
            }
        } catch {
            return .failure(error)
        }
    }
}
