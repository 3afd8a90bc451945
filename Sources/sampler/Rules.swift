import Foundation
import ArgumentParser
import SamplerConfiguration
import SamplerRules
import SamplerStatus

/// The options that describe the rules, shared by every `rules` subcommand. Unset, they
/// keep the configuration's values.
struct RuleOptions: ParsableArguments {
    @Option(help: ArgumentHelp(setting: "probability")) var probability: String?
    @Option(help: ArgumentHelp(setting: "label")) var label: String?
    @Option(help: ArgumentHelp(setting: "group")) var group: String?
    @Option(help: ArgumentHelp(setting: "packets")) var packets: String?
    @Option(help: ArgumentHelp(setting: "prefix")) var prefix: String?

    @OptionGroup var target: TargetOptions
    @OptionGroup var configuration: ConfigOption

    /// The configuration file's settings with these flags over them, validated.
    func settings() throws -> Settings {
        var settings = try configuration.load()
        try applyKeys([("probability", probability), ("label", label), ("group", group), ("packets", packets), ("prefix", prefix)],
                      to: &settings)
        try target.apply(to: &settings)
        try configurationStep { () throws(ConfigurationError) in try settings.validate(checkOutputDirectory: false) }
        return settings
    }
}

/// Which rules a command acts on: IP versions and the tools (iptables or nftables).
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp(setting: "family")) var family: String?
    @Option(help: ArgumentHelp(setting: "backend")) var backend: String?
    @Option(help: ArgumentHelp(setting: "nftables_table")) var nftablesTable: String?

    var given: [(String, String?)] { [("family", family), ("backend", backend), ("nftables_table", nftablesTable)] }

    func apply(to settings: inout Settings) throws {
        try applyKeys(given, to: &settings)
    }
}


struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install, check, show or remove the kernel rules that sample connections.",
        discussion: """
            Two rules (docs/rules.md): one labels a random sample of new inbound TCP \
            connections in conntrack, the other sends the first packets of each labelled \
            connection to an NFLOG group, where `sampler run` reads them. With iptables \
            (the default) they live in a chain of their own in the mangle table, SAMPLER, \
            reached from PREROUTING by one jump; with --backend nftables in a table of their \
            own, `table inet sampler`. Either way installing again replaces them and removing \
            leaves every other rule as it was. sampler refuses to install one backend's rules \
            while the other's for the same IP version are there (every packet would be logged \
            twice).

            \(ExitStatus.overview)
            """,
        subcommands: [Install.self, Remove.self, Check.self, Show.self]
    )

    /// Why a rules command exits 2.
    static let toolsFailed = "iptables or nft could not run, or refused (no privileges, a missing tool or kernel module)"

    static func exitStatuses(_ zero: String, refusal: Bool = false) -> String {
        ExitStatus.help(zero, [.rulesFailed: toolsFailed + (refusal ? "; or the other backend's rules are installed" : ""),
                               .configuration: "a bad value, in the configuration file or a flag"])
    }

    static func fail(_ error: RulesError) -> ExitCode {
        printError("sampler rules: \(error)")
        return ExitStatus.rulesFailed.exit
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the rules (or replace sampler's rules that are there).",
            discussion: Rules.exitStatuses("installed (or printed, with --dry-run)", refusal: true))
        @OptionGroup var options: RuleOptions
        @Flag(help: "Print the rules and commands; change nothing.") var dryRun = false

        func run() throws {
            let settings = try options.settings()
            let manager = settings.ruleManager, p = settings.rules
            if dryRun {
                print(manager.installText(p, versions: settings.versions), terminator: "")
                // The file stays whole on standard output; that installing it is refused as
                // things stand goes beside it (a trial: the dry run looked fine).
                if let other = (try? manager.otherBackendRules(versions: settings.versions))?.first {
                    printError("sampler rules: note: installing these now is refused: \(other.installRefusal)")
                }
                return
            }
            // One nftables table for both versions: installing one replaces the other's rules,
            // said rather than done silently (a trial found IPv6 no longer sampled).
            let replaced = settings.backend == .nftables
                ? IPVersion.allCases.filter { !settings.versions.contains($0) && (try? manager.installed(version: $0))?.isPresent == true } : []
            do { try manager.install(p, versions: settings.versions) } catch { throw Rules.fail(error) }
            let families = settings.versions.map { "IPv\($0.rawValue)" }.joined(separator: ", ")
            print("\(families): installed in \(manager.place) (probability \(p.probability), label \(p.label), group \(p.group), first \(p.packets) packets)")
            for version in replaced {
                print("IPv\(version.rawValue): no longer sampled: \(manager.place) held its rules, and holds only IPv\(settings.versions[0].rawValue)'s now "
                    + "(install without --family to sample both)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove sampler's rules (the jump and the SAMPLER chain, or the nftables table), nothing else.",
            discussion: Rules.exitStatuses("removed, or nothing to remove"))
        @OptionGroup var target: TargetOptions
        @Option(help: ArgumentHelp("The running daemon's status socket, asked whether it would put the rules back (default: status_socket).", valueName: "path"))
        var statusSocket: String?
        @OptionGroup var configuration: ConfigOption
        @Flag(help: "Say what would be removed; change nothing.") var dryRun = false

        func run() throws {
            var settings = try configuration.load()
            try target.apply(to: &settings)
            try applyKeys([("status_socket", statusSocket)], to: &settings)
            try configurationStep { () throws(ConfigurationError) in try settings.validate(checkOutputDirectory: false) }
            let manager = settings.ruleManager
            // Each version as it is (or was): an IPv6 chain that was never installed is not
            // "removed" beside the IPv4 one that was.
            func named(_ versions: [IPVersion]) -> String { versions.map { "IPv\($0.rawValue)" }.joined(separator: ", ") }
            do {
                if dryRun {
                    var present: [IPVersion] = []
                    for version in settings.versions where try manager.installed(version: version).isPresent { present.append(version) }
                    if settings.backend == .nftables {
                        if !present.isEmpty { print("\(named(present)): would delete \(manager.place), the whole table") }
                    } else {
                        for version in present {
                            print("IPv\(version.rawValue): would run \(settings.backend.command(for: version)) -t mangle -D "
                                + RuleSet.jumpArguments.map(RuleSet.shellQuoted).joined(separator: " ") + ", then delete chain \(RuleSet.chain)")
                        }
                    }
                    let absent = settings.versions.filter { !present.contains($0) }
                    // As remove itself says it: the other backend's rules, where this one has none.
                    let hint = present.isEmpty ? manager.otherBackendHint(versions: settings.versions) : nil
                    if !absent.isEmpty { print("\(named(absent)): \(hint ?? "nothing to remove")") }
                    return
                }
                let removed = try manager.remove(versions: settings.versions)
                let untouched = settings.versions.filter { !removed.contains($0) }
                if !removed.isEmpty { print("\(named(removed)): removed \(manager.place)") }
                if !untouched.isEmpty {
                    // Nothing of this backend's at all: perhaps the other backend's rules are there.
                    let hint = removed.isEmpty ? manager.otherBackendHint(versions: settings.versions) : nil
                    print("\(named(untouched)): \(hint ?? "nothing to remove")")
                }
                if !removed.isEmpty { warnIfADaemonRepairs(settings) }
            } catch { throw Rules.fail(error) }
        }

        /// A daemon that keeps its rules would put them back: say so, and how to stop sampling.
        private func warnIfADaemonRepairs(_ settings: Settings) {
            guard let answer = try? UnixClient.exchange(settings.statusSocket, request: StatusReport.request),
                  let report = try? StatusReport.decode(Data(answer)), report.rulesUpkeep?.repair == true else { return }
            printError("sampler rules: note: sampler run (pid \(report.pid)) is running and reinstalls its rules when they vanish "
                + "(repair_rules): to stop sampling, stop it (systemctl stop sampler)")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the rules are installed as given; exit 1 and say what differs if not.",
            discussion: ExitStatus.help("installed as given", [
                .failure: "they differ, or are missing (each difference is printed)",
                .rulesFailed: Rules.toolsFailed,
                .configuration: "a bad value, in the configuration file or a flag",
            ]))
        @OptionGroup var options: RuleOptions

        func run() throws {
            let settings = try options.settings()
            let manager = settings.ruleManager
            var problems: [String] = []
            do {
                // Each version's rules and the other backend's, read once: the advice to
                // install names only the versions that the other backend's rules leave
                // free, as an install of the others would be refused (a trial).
                let found = try settings.versions.map { version throws(RulesError) in
                    (version, try manager.installed(version: version), try manager.otherBackendRules(versions: [version]))
                }
                let free = found.filter { $0.2.isEmpty }.map(\.0)
                for (version, installed, others) in found {
                    problems += manager.differences(installed, others: others, from: settings.rules, version: version,
                                                    versions: free.isEmpty ? settings.versions : free).map(\.text)
                }
            } catch { throw Rules.fail(error) }
            if problems.isEmpty {
                print("OK: sampler's rules are installed as given")
                return
            }
            for problem in problems { print(problem) }
            throw ExitStatus.failure.exit
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rules in the kernel, with their counters and how they differ from the options (or, when none are installed, the rules the options would install).",
            discussion: Rules.exitStatuses("printed"))
        @OptionGroup var options: RuleOptions

        func run() throws {
            let settings = try options.settings()
            let manager = settings.ruleManager
            // The other backend's rules, where this one has none: where they are and the flag
            // that shows them, once, and no "would install" (install would refuse).
            func otherBackendShown(_ versions: [IPVersion]) -> Bool {
                guard let other = (try? manager.otherBackendRules(versions: versions))?.first else { return false }
                print("# nothing of this backend's, but \(other.what): to show those, --backend \(other.backend)")
                return true
            }
            if settings.backend == .nftables {
                // nft's own listing: the rules in nftables' syntax, counters inline.
                let text: String?
                do { text = try manager.nftablesText() } catch { throw Rules.fail(error) }
                guard let text else {
                    if otherBackendShown(settings.versions) { return }
                    print("# not installed; 'sampler rules install' with these options would install:")
                    print(manager.installText(settings.rules, versions: settings.versions))
                    return
                }
                print("# installed, as nft lists it:")
                print(text, terminator: "")
                printDifferences(manager, settings)
                return
            }
            var states: [(IPVersion, RuleManager.Installed)] = []
            // No privileges (or no tool) is an error, not "not installed".
            do { for version in settings.versions { states.append((version, try manager.installed(version: version))) } } catch { throw Rules.fail(error) }
            if !states.contains(where: { $0.1.chainExists }), otherBackendShown(settings.versions) { return }
            for (version, found) in states {
                guard found.chainExists else {
                    print("# IPv\(version.rawValue): not installed; 'sampler rules install' with these options would install:")
                    print(RuleSet.restoreFile(settings.rules, version: version))
                    continue
                }
                // What is in the kernel, not what the options say.
                print("# IPv\(version.rawValue) installed: \(found.jumps) jump(s) from \(RuleSet.hook)")
                if let installed = RuleManager.parameters(of: found) {
                    print(RuleSet.restoreFile(installed, version: version), terminator: "")
                }
                let counters = (try? manager.counters(version: version)) ?? RuleCounters()
                for (name, counter) in [("sampling", counters.sampling), ("logging", counters.logging)] {
                    print("#   \(name) rule: " + (counter.map { "\($0.packets) packets, \($0.bytes) bytes" } ?? "missing"))
                }
                printDifferences(manager, settings, versions: [version])
                print("")
            }
        }

        private func printDifferences(_ manager: RuleManager, _ settings: Settings, versions: [IPVersion]? = nil) {
            for version in versions ?? settings.versions {
                for difference in (try? manager.differences(from: settings.rules, version: version, versions: settings.versions)) ?? [] {
                    print("#   differs from the options: \(difference.text)")
                }
            }
        }
    }
}
