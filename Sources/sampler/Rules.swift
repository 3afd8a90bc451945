import ArgumentParser
import SamplerRules

/// The options that describe the rules, shared by every `rules` subcommand.
struct RuleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Chance that a new inbound TCP connection is sampled, in (0, 1].", valueName: "p"))
    var probability: Double = RuleParameters().probability

    @Option(help: ArgumentHelp("Conntrack label bit (0-127), or a name from /etc/xtables/connlabel.conf.", valueName: "bit|name"))
    var label: String = RuleParameters().label

    @Option(help: ArgumentHelp("NFLOG group the logging rule sends to (0-65535).", valueName: "group"))
    var group: UInt16 = RuleParameters().group

    @Option(help: ArgumentHelp("Packets logged per sampled connection (client to server).", valueName: "n"))
    var packets: Int = RuleParameters().packets

    @Option(help: ArgumentHelp("The --nflog-prefix of logged packets.", valueName: "text"))
    var prefix: String = RuleParameters().prefix

    @OptionGroup var target: TargetOptions

    var parameters: RuleParameters {
        var p = RuleParameters()
        p.probability = probability
        p.label = label
        p.group = group
        p.packets = packets
        p.prefix = prefix
        return p
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError(error.description) }
    }
}

/// Which rules a command acts on: IP versions and iptables backend.
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("IP versions: 4, 6 or both.", valueName: "4|6|both"))
    var family: Family = .both

    @Option(help: ArgumentHelp("iptables backend: auto (the system's iptables), nft or legacy.", valueName: "backend"))
    var backend: Backend = .auto

    enum Family: String, ExpressibleByArgument, CaseIterable {
        case v4 = "4", v6 = "6", both
        var versions: [IPVersion] { self == .v4 ? [.v4] : self == .v6 ? [.v6] : [.v4, .v6] }
    }

    var manager: RuleManager { RuleManager(backend: backend) }
}

extension Backend: ExpressibleByArgument {}

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
        OutputStream.printError("sampler rules: \(error)")
        return ExitCode(2)
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the rules (or replace sampler's rules that are there).")
        @OptionGroup var options: RuleOptions
        @Flag(help: "Print the rules and commands; change nothing.") var dryRun = false

        func run() throws {
            let manager = options.target.manager
            for version in options.target.family.versions {
                if dryRun {
                    print(RuleSet.restoreFile(options.parameters, version: version), terminator: "")
                    continue
                }
                do { try manager.install(options.parameters, version: version) } catch { throw Rules.fail(error) }
                print("IPv\(version.rawValue): installed (probability \(options.probability), label \(options.label), group \(options.group), first \(options.packets) packets)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove sampler's rules (the jump and the SAMPLER chain), nothing else.")
        @OptionGroup var target: TargetOptions
        @Flag(help: "Say what would be removed; change nothing.") var dryRun = false

        func run() throws {
            let manager = target.manager
            for version in target.family.versions {
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
            let manager = options.target.manager
            var problems: [String] = []
            for version in options.target.family.versions {
                do { problems += try manager.differences(from: options.parameters, version: version) } catch { throw Rules.fail(error) }
            }
            if problems.isEmpty {
                print("OK: sampler's rules are installed as given")
                return
            }
            for problem in problems { print(problem) }
            throw ExitCode(1)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rules for the given options, and what is installed with its counters.")
        @OptionGroup var options: RuleOptions

        func run() throws {
            let manager = options.target.manager
            for version in options.target.family.versions {
                print(RuleSet.restoreFile(options.parameters, version: version))
                guard let state = try? manager.installed(version: version), state.chainExists else {
                    print("# IPv\(version.rawValue): not installed\n")
                    continue
                }
                let counters = (try? manager.counters(version: version)) ?? []
                let names = ["sampling", "logging"]
                print("# IPv\(version.rawValue) installed: \(state.jumps) jump(s) from \(RuleSet.hook)")
                for (i, counter) in counters.enumerated() {
                    print("#   \(i < names.count ? names[i] : "rule \(i + 1)") rule: \(counter.packets) packets, \(counter.bytes) bytes")
                }
                print("")
            }
        }
    }
}
