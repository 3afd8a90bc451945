import ArgumentParser
import SamplerRules
import SamplerService

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

/// Which rules a command acts on: IP versions and iptables backend.
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp(setting: "family")) var family: String?
    @Option(help: ArgumentHelp(setting: "backend")) var backend: String?

    func apply(to settings: inout Settings) throws { try applyKeys([("family", family), ("backend", backend)], to: &settings) }
}


struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install, check, show or remove the kernel rules that sample connections.",
        discussion: """
            Two rules in the mangle table (docs/rules.md): one labels a random sample of new \
            inbound TCP connections in conntrack, the other sends the first packets of each \
            labelled connection to an NFLOG group, where `sampler run` reads them. They live \
            in a chain of their own, SAMPLER, reached from PREROUTING by one jump, so that \
            installing again replaces them and removing leaves every other rule as it was.
            """,
        subcommands: [Install.self, Remove.self, Check.self, Show.self]
    )

    static func fail(_ error: RulesError) -> ExitCode {
        printError("sampler rules: \(error)")
        return ExitStatus.rulesFailed.exit
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the rules (or replace sampler's rules that are there).")
        @OptionGroup var options: RuleOptions
        @Flag(help: "Print the rules and commands; change nothing.") var dryRun = false

        func run() throws {
            let settings = try options.settings()
            let manager = RuleManager(backend: settings.backend), p = settings.rules
            for version in settings.versions {
                if dryRun {
                    print(RuleSet.restoreFile(p, version: version), terminator: "")
                    continue
                }
                do { try manager.install(p, version: version) } catch { throw Rules.fail(error) }
                print("IPv\(version.rawValue): installed (probability \(p.probability), label \(p.label), group \(p.group), first \(p.packets) packets)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove sampler's rules (the jump and the SAMPLER chain), nothing else.")
        @OptionGroup var target: TargetOptions
        @OptionGroup var configuration: ConfigOption
        @Flag(help: "Say what would be removed; change nothing.") var dryRun = false

        func run() throws {
            var settings = try configuration.load()
            try target.apply(to: &settings)
            try configurationStep { () throws(ConfigurationError) in try settings.validate(checkOutputDirectory: false) }
            let manager = RuleManager(backend: settings.backend)
            for version in settings.versions {
                if dryRun {
                    print("IPv\(version.rawValue): would delete '-t mangle -D \(RuleSet.jumpArguments.joined(separator: " "))' and chain \(RuleSet.chain)")
                    continue
                }
                do {
                    let removed = try manager.remove(version: version)
                    print("IPv\(version.rawValue): \(removed ? "removed" : "nothing to remove")")
                } catch { throw Rules.fail(error) }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the rules are installed as given; exit 1 and say what differs if not.")
        @OptionGroup var options: RuleOptions

        func run() throws {
            let settings = try options.settings()
            let manager = RuleManager(backend: settings.backend)
            var problems: [String] = []
            for version in settings.versions {
                do { problems += try manager.differences(from: settings.rules, version: version).map(\.text) } catch { throw Rules.fail(error) }
            }
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
            abstract: "Print the rules in the kernel, with their counters and how they differ from the options (or, when none are installed, the rules the options would install).")
        @OptionGroup var options: RuleOptions

        func run() throws {
            let settings = try options.settings()
            let manager = RuleManager(backend: settings.backend)
            for version in settings.versions {
                let found: RuleManager.Installed
                // No privileges (or no tool) is an error, not "not installed".
                do { found = try manager.installed(version: version) } catch { throw Rules.fail(error) }
                guard found.chainExists else {
                    print("# IPv\(version.rawValue): not installed; 'sampler rules install' with these options would install:")
                    print(RuleSet.restoreFile(settings.rules, version: version))
                    continue
                }
                let state = found
                // What is in the kernel, not what the options say.
                print("# IPv\(version.rawValue) installed: \(state.jumps) jump(s) from \(RuleSet.hook)")
                if let installed = try? manager.parameters(version: version) {
                    print(RuleSet.restoreFile(installed, version: version), terminator: "")
                }
                let counters = (try? manager.counters(version: version)) ?? []
                let names = ["sampling", "logging"]
                for (i, counter) in counters.enumerated() {
                    print("#   \(i < names.count ? names[i] : "rule \(i + 1)") rule: \(counter.packets) packets, \(counter.bytes) bytes")
                }
                for difference in (try? manager.differences(from: settings.rules, version: version)) ?? [] {
                    print("#   differs from the options: \(difference.text)")
                }
                print("")
            }
        }
    }
}
