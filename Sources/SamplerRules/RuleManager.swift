import Foundation
import SamplerSubprocess
/// One way the kernel's rules differ from what was expected. A breaking difference means
/// sampling does not work as the daemon reads it (a rule or the jump is missing, another
/// group, labels that do not match); a drift means it works, with other parameters.
public struct RuleDifference: Sendable, Equatable, Codable {
    public var text: String
    public var breaksSampling: Bool

    static func breaking(_ text: String) -> RuleDifference { RuleDifference(text: text, breaksSampling: true) }
    static func drift(_ text: String) -> RuleDifference { RuleDifference(text: text, breaksSampling: false) }
}

/// Installs, checks and removes sampler's rules with one backend's tools: iptables and
/// ip6tables (a chain per family), or nft (one table for both).
public struct RuleManager: Sendable {
    public var backend: Backend
    /// The nftables backend's table (`table inet NAME`).
    public var nftablesTable: String
    /// Label names, for comparing labels by bit and for sending nft a bit.
    public var labels: ConnLabels

    public init(backend: Backend = .auto, nftablesTable: String = NftablesRuleSet.defaultTable, labels: ConnLabels = ConnLabels()) {
        self.backend = backend
        self.nftablesTable = nftablesTable
        self.labels = labels
    }

    /// The rules as they are in the kernel for one IP version, read back from
    /// `iptables -S` or `nft -j list table`.
    public struct Installed: Sendable, Equatable {
        /// The SAMPLER chain, or the table's chain.
        public var chainExists = false
        /// Jumps from PREROUTING to the chain; for nftables 1 when the chain is hooked
        /// at prerouting.
        public var jumps = 0
        public var probability: Double?
        public var label: String?
        /// The label the logging rule matches (it should be the one the sampling rule sets).
        public var loggedLabel: String?
        public var group: UInt16?
        public var packets: Int?
        public var prefix: String?
        public var ruleCount = 0
        /// The sampling rule's and the logging rule's counters (nftables lists them with
        /// the rules; iptables' come from `counters`).
        public var counters = RuleCounters()
        /// nftables: the table is there, but samples only this other version (installed
        /// with --family): nothing for this one, and not missing either.
        public var tableSamplesOnly: IPVersion?

        public init() {}

        /// Both rules, complete, and the way in: what sampler itself leaves behind. Rules
        /// that are there but not like this were damaged (a flush, a rewrite by another
        /// tool); complete ones with other values were put there on purpose.
        public var isComplete: Bool {
            chainExists && jumps == 1 && ruleCount == 2 && probability != nil && label != nil && loggedLabel != nil
                && group != nil && packets != nil && prefix != nil
        }

        public var isPresent: Bool { chainExists || jumps > 0 }
    }

    /// Where the rules live, in words: "chain mangle/SAMPLER" or "table inet sampler".
    public var place: String {
        backend == .nftables ? "table \(NftablesRuleSet.family) \(nftablesTable)" : "chain \(RuleSet.table)/\(RuleSet.chain)"
    }

    /// What `--dry-run` prints: the input install would give the tools.
    public func installText(_ parameters: RuleParameters, versions: [IPVersion]) -> String {
        if backend == .nftables { return NftablesRuleSet.file(parameters, versions: versions, table: nftablesTable, labels: labels) }
        return versions.map { RuleSet.restoreFile(parameters, version: $0) }.joined()
    }

    /// Installs the rules for `parameters` on `versions`, replacing sampler's rules of this
    /// backend that are there. Refuses while the other backend's rules are in the kernel:
    /// both would log every sampled packet twice.
    public func install(_ parameters: RuleParameters, versions: [IPVersion]) throws(RulesError) {
        try parameters.validate()
        if let other = try otherBackendRules(versions: versions).first {
            throw .otherBackendInstalled(other.installRefusal)
        }
        if backend == .nftables {
            guard labels.bit(of: parameters.label) != nil else {
                throw .badParameter("--label \(parameters.label): not in \(ConnLabels.defaultPath) or \(ConnLabels.nftablesPath); add a line "
                    + "'<bit> \(parameters.label)' there, or give a bit number")
            }
            try check(try run(["nft", "-f", "-"], input: installText(parameters, versions: versions)), tool: "nft")
            return
        }
        for version in versions { try installIptables(parameters, version: version) }
    }

    private func installIptables(_ parameters: RuleParameters, version: IPVersion) throws(RulesError) {
        let restore = try run([backend.restoreCommand(for: version), "--noflush"],
                              input: RuleSet.restoreFile(parameters, version: version))
        try check(restore, tool: backend.restoreCommand(for: version), label: parameters.label)
        var jumps = try installed(version: version).jumps
        if jumps == 0 {
            try check(try iptables(version, ["-A"] + RuleSet.jumpArguments), tool: backend.command(for: version))
            jumps = 1
        }
        while jumps > 1 {
            try check(try iptables(version, ["-D"] + RuleSet.jumpArguments), tool: backend.command(for: version))
            jumps -= 1
        }
    }

    /// Removes sampler's rules of this backend and nothing else: the jump and the chain
    /// of each version, or the whole table (it is sampler's; one table serves both
    /// versions). Returns the versions whose rules were there and are gone (all of them
    /// for the table; none if nothing was there).
    @discardableResult
    public func remove(versions: [IPVersion]) throws(RulesError) -> [IPVersion] {
        if backend == .nftables {
            guard let listing = try nftablesListing() else { return [] }
            // One table for both versions: removed whole, or not at all (a trial: --family 4
            // removed an IPv6 table and said IPv4).
            let present = IPVersion.allCases.filter { listing.installed(version: $0).isPresent }
            let asked = present.filter(versions.contains)
            if !present.isEmpty && asked.isEmpty { return [] }  // nothing of these versions
            if let kept = present.first(where: { !versions.contains($0) }) {
                throw .badParameter("\(place) samples IPv\(kept.rawValue) too, in the same table: remove it whole with "
                    + "'sampler rules remove --backend nftables\(nftablesTable != NftablesRuleSet.defaultTable ? " --nftables-table \(nftablesTable)" : "")' "
                    + "(without --family), then install what should stay")
            }
            try check(try run(["nft", "-f", "-"], input: NftablesRuleSet.removeFile(table: nftablesTable)), tool: "nft")
            // The versions it sampled; a table that sampled none is gone all the same.
            return present.isEmpty ? versions : asked
        }
        var removed: [IPVersion] = []
        for version in versions {
            let state = try installed(version: version)
            for _ in 0..<state.jumps {
                try check(try iptables(version, ["-D"] + RuleSet.jumpArguments), tool: backend.command(for: version))
            }
            if state.chainExists {
                try check(try iptables(version, ["-F", RuleSet.chain]), tool: backend.command(for: version))
                try check(try iptables(version, ["-X", RuleSet.chain]), tool: backend.command(for: version))
            }
            if state.isPresent { removed.append(version) }
        }
        return removed
    }

    /// What is installed for one version, read from the kernel.
    public func installed(version: IPVersion) throws(RulesError) -> Installed {
        if backend == .nftables { return try nftablesListing()?.installed(version: version) ?? Installed() }
        return try iptablesInstalled(version: version)
    }

    /// The table as nft lists it; nil when there is none.
    private func nftablesListing() throws(RulesError) -> NftablesListing? {
        let listing = try run(["nft", "-j", "list", "table", NftablesRuleSet.family, nftablesTable])
        // nft says a missing table in the words of ENOENT; without privileges or nf_tables
        // it says otherwise.
        if listing.status != 0 && listing.stderr.contains("No such file or directory") { return nil }
        try check(listing, tool: "nft")
        do { return try NftablesListing(json: listing.stdout) } catch { throw .failed(error.detail) }
    }

    /// The whole mangle table in one `-S`, so that a missing chain is told apart from an
    /// error (iptables-nft 1.8.9 calls a missing chain "incompatible" when asked for it by
    /// name).
    private func iptablesInstalled(version: IPVersion) throws(RulesError) -> Installed {
        var state = Installed()
        let listing = try iptables(version, ["-S"])
        try check(listing, tool: backend.command(for: version))
        for line in listing.stdout.split(separator: "\n") {
            let words = Self.words(String(line))
            if words.starts(with: ["-N", RuleSet.chain]) { state.chainExists = true }
            if words.starts(with: ["-A", RuleSet.hook]) && words.last == RuleSet.chain && words.contains(RuleSet.jumpComment) {
                state.jumps += 1
            }
            guard words.starts(with: ["-A", RuleSet.chain]) else { continue }
            state.ruleCount += 1
            func value(after flag: String) -> String? {
                words.firstIndex(of: flag).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
            }
            if words.contains("--set") {
                state.probability = value(after: "--probability").flatMap(Double.init).map(Self.meantProbability)
                state.label = value(after: "--label")
            } else if words.contains("NFLOG") {
                state.group = value(after: "--nflog-group").flatMap { UInt16($0) } ?? 0
                state.loggedLabel = value(after: "--label")
                state.prefix = value(after: "--nflog-prefix")
                // "! --connbytes 11" logs packets 1 to 10 (older tools print "11:").
                state.packets = value(after: "--connbytes").flatMap { Int($0.split(separator: ":").first ?? "") }.map { $0 - 1 }
            }
        }
        return state
    }

    /// sampler's rules of the other kind that are in the kernel, each with how to remove
    /// it: for the iptables backends the nftables table, for
    /// nftables the SAMPLER chains of iptables-nft and of iptables-legacy. Each is looked
    /// for without creating anything: nft lists what exists, and the legacy tables are
    /// asked only when /proc says they are loaded.
    public func otherBackendRules(versions: [IPVersion]) throws(RulesError) -> [OtherBackendRules] {
        guard Subprocess.find("nft") != nil else {
            // No nft: no nftables table of sampler's (its backend needs nft), and nothing
            // to install one with.
            return []
        }
        if backend != .nftables {
            let other = RuleManager(backend: .nftables, nftablesTable: nftablesTable, labels: labels)
            // The table may hold one IP version only (--family): rules for the other one
            // log nothing twice here (a trial: its IPv4 rules were said to double IPv6's).
            guard let listing = try other.nftablesListing(), versions.contains(where: { listing.installed(version: $0).isPresent }) else {
                return []
            }
            return [OtherBackendRules(what: "sampler's nftables table (\(other.place)) is installed", removal: "sampler rules remove --backend nftables",
                                      installInstead: "--backend nftables", backend: .nftables, plural: false)]
        }
        var found: [(version: IPVersion, flavor: Backend)] = []
        for version in versions {
            let family = version == .v4 ? "ip" : "ip6"
            let listed = try run(["nft", "list", "chain", family, RuleSet.table, RuleSet.chain])
            if listed.status == 0 {
                found.append((version, .nft))
                continue
            }
            let names = version == .v4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names"
            let loaded = (try? String(contentsOfFile: names, encoding: .utf8))?.split(separator: "\n").contains("mangle") ?? false
            let legacy = RuleManager(backend: .legacy, nftablesTable: nftablesTable, labels: labels)
            if loaded, Subprocess.find(Backend.legacy.command(for: version)) != nil,
               (try? legacy.iptablesInstalled(version: version))?.isPresent == true {
                found.append((version, .legacy))
            }
        }
        // One entry per set of tools, with every version it holds: one command removes
        // them all (a trial: install named IPv4's, then refused again for IPv6's).
        return [Backend.nft, .legacy].compactMap { flavor in
            let held = found.filter { $0.flavor == flavor }.map(\.version)
            guard !held.isEmpty else { return nil }
            let names = held.map { "IPv\($0.rawValue)" }.joined(separator: " and ")
            let family = Set(held) == Set(IPVersion.allCases) || held.count > 1 ? "" : " --family \(held[0].rawValue)"
            return OtherBackendRules(what: "sampler's iptables rules for \(names) (chain \(RuleSet.table)/\(RuleSet.chain), iptables-\(flavor.rawValue)) are installed",
                                     removal: "sampler rules remove --backend \(flavor.rawValue)\(family)", backend: flavor, plural: true)
        }
    }

    /// The rules that keep inbound TCP connections out of conntrack before sampler's rules
    /// (`UntrackingRule`), for `versions`: from `nft list ruleset` where nft is (it lists
    /// iptables-nft's raw table too), else from iptables' raw table; and from
    /// iptables-legacy's where that table is loaded. Nothing is created or loaded to look.
    public func untrackingRules(versions: [IPVersion]) throws(RulesError) -> [UntrackingRule] {
        var found: [UntrackingRule] = []
        if Subprocess.find("nft") != nil {
            let listed = try run(["nft", "list", "ruleset"])
            try check(listed, tool: "nft")
            found += UntrackingRule.inNftables(listed.stdout, versions: versions)
        } else if backend != .nftables && backend != .legacy {
            for version in versions {
                let listed = try run([backend.command(for: version), "-w", "-t", "raw", "-S"])
                if listed.status == 0 { found += UntrackingRule.inIptables(listed.stdout, family: version) }
            }
        }
        for version in versions {
            let names = version == .v4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names"
            let tool = Backend.legacy.command(for: version)
            guard (try? String(contentsOfFile: names, encoding: .utf8))?.split(separator: "\n").contains("raw") == true,
                  Subprocess.find(tool) != nil else { continue }
            let listed = try run([tool, "-w", "-t", "raw", "-S"])
            if listed.status == 0 { found += UntrackingRule.inIptables(listed.stdout, family: version) }
        }
        // `iptables` may be iptables-legacy itself: each rule once.
        return found.enumerated().filter { found.firstIndex(of: $0.element) == $0.offset }.map(\.element)
    }

    /// The statistic match keeps a probability as a 31-bit fraction (steps of 4.7e-10), so
    /// 0.0001 reads back as 9.99998301e-05: rounded to nine decimal places, it is what was
    /// meant.
    static func meantProbability(_ value: Double) -> Double {
        (value * 1e9).rounded() / 1e9
    }

    /// What differs between the kernel and `parameters`; empty when they match. Labels
    /// compare by bit. The other backend's rules beside these are a breaking difference:
    /// every sampled packet would be logged twice.
    public func differences(from parameters: RuleParameters, version: IPVersion,
                            versions: [IPVersion] = IPVersion.allCases) throws(RulesError) -> [RuleDifference] {
        differences(try installed(version: version), others: try otherBackendRules(versions: [version]), from: parameters,
                    version: version, versions: versions)
    }

    /// The same from what was read already (`installed`, `otherBackendRules`), so that a
    /// caller that also wants the state and the counters reads the kernel once. `versions`
    /// are the families the caller installs: the advice to reinstall names them.
    public func differences(_ state: Installed, others: [OtherBackendRules], from parameters: RuleParameters, version: IPVersion,
                            versions: [IPVersion] = IPVersion.allCases) -> [RuleDifference] {
        let family = "IPv\(version.rawValue)"
        if !state.isPresent, let other = others.first {
            // Not missing: in the other backend's tools. Say which flag finds them.
            return [.breaking("\(family): no rules in \(place), but \(other.what.lowercasedFirst)"
                + " (to check those: --backend \(backend == .nftables ? "auto" : "nftables"), or backend in the configuration)")]
        }
        return differences(state, from: parameters, version: version, versions: versions)
            + others.map { .breaking("\(family): \($0.what); with both, every sampled packet is logged twice: \($0.removeThem)") }
    }

    /// The `sampler rules install` that puts back these rules with these tools on these
    /// families: a flag for every value that is not the default, so that running it does
    /// not install group 5 at 1/10,000, or IPv6 beside IPv4, instead of what was there.
    public func installCommand(_ parameters: RuleParameters, versions: [IPVersion] = IPVersion.allCases) -> String {
        var words = ["sampler rules install"]
        if backend != .auto { words.append("--backend \(backend.rawValue)") }
        if backend == .nftables, nftablesTable != NftablesRuleSet.defaultTable { words.append("--nftables-table \(nftablesTable)") }
        if Set(versions) != Set(IPVersion.allCases), let only = versions.first { words.append("--family \(only.rawValue)") }
        return (words + parameters.installFlags).joined(separator: " ")
    }

    /// What differs between one family's rules, as read, and `parameters`.
    public func differences(_ state: Installed, from parameters: RuleParameters, version: IPVersion,
                            versions: [IPVersion] = IPVersion.allCases) -> [RuleDifference] {
        let family = "IPv\(version.rawValue)"
        let install = installCommand(parameters, versions: versions)
        if let only = state.tableSamplesOnly {
            // Installing for this version alone would replace the other's rules: both at once.
            let both = installCommand(parameters, versions: IPVersion.allCases)
            return [.breaking("\(family): \(place) samples IPv\(only.rawValue) only (installed with --family \(only.rawValue)): "
                + "to sample both, run '\(both)'")]
        }
        guard state.chainExists else {
            return [.breaking("\(family): \(place) is missing: run '\(install)'")]
                + (state.jumps > 0 ? [.breaking("\(family): \(RuleSet.hook) jumps to a missing chain")] : [])
        }
        var problems: [RuleDifference] = []
        if backend == .nftables {
            if state.jumps == 0 { problems.append(.breaking("\(family): chain \(NftablesRuleSet.chain) of \(place) is not on the prerouting hook")) }
        } else {
            if state.jumps == 0 { problems.append(.breaking("\(family): \(RuleSet.hook) does not jump to \(RuleSet.chain)")) }
            // Two jumps log every packet twice: retransmitted SYNs that never were.
            if state.jumps > 1 { problems.append(.breaking("\(family): \(RuleSet.hook) jumps to \(RuleSet.chain) \(state.jumps) times")) }
        }
        // A flushed or half-rewritten chain: installing again replaces what is there. An
        // empty one is one problem, not a list of every rule it lacks.
        if state.ruleCount == 0 { return problems + [.breaking("\(family): \(place) has no rules: run '\(install)'")] }
        // A rule short: one problem that names it, not the count and the rule apart (a trial
        // read both on the plugin's one line).
        let missing = [state.probability == nil ? "sampling" : nil, state.group == nil ? "logging" : nil].compactMap { $0 }
        let counted = state.ruleCount != 2
        if counted {
            let which = missing.isEmpty ? "" : " (the \(missing.joined(separator: " and ")) rule\(missing.count > 1 ? "s" : "") missing)"
            problems.append(.breaking("\(family): \(place) has \(state.ruleCount) \(state.ruleCount == 1 ? "rule" : "rules"), expected 2\(which): run '\(install)'"))
        }
        if let installed = state.probability {
            if abs(installed - parameters.probability) > 1e-9 {
                problems.append(.drift("\(family): probability is \(installed), expected \(parameters.probability)"))
            }
        } else if !counted {
            problems.append(.breaking("\(family): the sampling rule is missing"))
        }
        if let installed = state.label, !labels.same(installed, parameters.label) {
            problems.append(.drift("\(family): label is \(installed), expected \(parameters.label)"))
        }
        if let set = state.label, let logged = state.loggedLabel, !labels.same(set, logged) {
            problems.append(.breaking("\(family): the sampling rule sets label \(set) but the logging rule matches \(logged)"))
        }
        if let installed = state.group {
            if installed != parameters.group {
                problems.append(.breaking("\(family): NFLOG group is \(installed), expected \(parameters.group): nothing reaches this group; "
                    + "run '\(install)', or read group \(installed) (--group)"))
            }
        } else if !counted {
            problems.append(.breaking("\(family): the logging rule is missing"))
        }
        if let installed = state.packets, installed != parameters.packets {
            problems.append(.drift("\(family): logs the first \(installed) packets, expected \(parameters.packets)"))
        }
        if let installed = state.prefix, installed != parameters.prefix {
            problems.append(.drift("\(family): prefix is \(installed), expected \(parameters.prefix)"))
        }
        return problems
    }

    /// The parameters of rules found in the kernel (what a daemon that did not install
    /// them works with); nil when the chain or a rule is missing.
    public func parameters(version: IPVersion) throws(RulesError) -> RuleParameters? {
        Self.parameters(of: try installed(version: version))
    }

    public static func parameters(of state: Installed) -> RuleParameters? {
        guard let probability = state.probability, let label = state.label, let group = state.group,
              let packets = state.packets, let prefix = state.prefix else { return nil }
        var parameters = RuleParameters()
        (parameters.probability, parameters.label, parameters.group, parameters.packets, parameters.prefix) =
            (probability, label, group, packets, prefix)
        return parameters
    }

    /// The sampling rule's and the logging rule's counters: nft lists them with the rules,
    /// iptables with `-L -v`.
    public func counters(version: IPVersion) throws(RulesError) -> RuleCounters {
        try counters(of: installed(version: version), version: version)
    }

    /// The counters of a state already read: nftables lists them with it, iptables needs a `-L -v`.
    public func counters(of state: Installed, version: IPVersion) throws(RulesError) -> RuleCounters {
        if backend == .nftables { return state.counters }
        let listing = try iptables(version, ["-L", RuleSet.chain, "-v", "-x", "-n"])
        guard listing.status == 0 else { return RuleCounters() }
        return Self.counters(listing: listing.stdout)
    }

    /// Reads `iptables -L SAMPLER -v -x -n`: the logging rule is the one whose target is
    /// NFLOG, the sampling rule the one with the statistic match.
    static func counters(listing: String) -> RuleCounters {
        var counters = RuleCounters()
        for line in listing.split(separator: "\n").dropFirst(2) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let packets = UInt64(fields[0]), let bytes = UInt64(fields[1]) else { continue }
            let counter = RuleCounter(packets: packets, bytes: bytes)
            if fields[2] == "NFLOG" { counters.logging = counters.logging ?? counter }
            else if fields.contains("statistic") { counters.sampling = counters.sampling ?? counter }
        }
        return counters
    }

    /// What `remove` says when this backend has nothing but the other has sampler's rules.
    public func otherBackendHint(versions: [IPVersion]) -> String? {
        (try? otherBackendRules(versions: versions))?.first.map { "nothing of this backend's, but \($0.removalAdvice.lowercasedFirst)" }
    }

    /// The table as nft prints it, in nftables' own syntax with its counters (`rules show`);
    /// nil when there is none.
    public func nftablesText() throws(RulesError) -> String? {
        guard try nftablesListing() != nil else { return nil }
        let listing = try run(["nft", "list", "table", NftablesRuleSet.family, nftablesTable])
        try check(listing, tool: "nft")
        return listing.stdout
    }

    // MARK: running the tools

    private func iptables(_ version: IPVersion, _ arguments: [String]) throws(RulesError) -> Subprocess.Result {
        try run([backend.command(for: version), "-w", "-t", RuleSet.table] + arguments)
    }

    private func run(_ arguments: [String], input: String? = nil) throws(RulesError) -> Subprocess.Result {
        guard Subprocess.find(arguments[0]) != nil else {
            throw arguments[0] != "nft" && Subprocess.find("nft") != nil ? .iptablesMissing(arguments[0]) : .toolMissing(arguments[0])
        }
        do { return try Subprocess.run(arguments, input: input) } catch { throw .failed(error.description) }
    }

    /// Turns a failed run into an error that says what to do.
    private func check(_ result: Subprocess.Result, tool: String, label: String? = nil) throws(RulesError) {
        guard result.status != 0 else { return }
        // The tools' own words, without the blank lines and connlabel.conf warnings.
        let text = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("Warning: cannot open") }.joined(separator: "\n")
        let lower = text.lowercased()
        if lower.contains("permission denied") || lower.contains("must be root") || lower.contains("operation not permitted") {
            throw .notPermitted(tool)
        }
        if let label, Int(label) == nil, lower.contains("label") {
            throw .badParameter("--label \(label): not in /etc/xtables/connlabel.conf; add a line '<bit> \(label)' there, or give a bit number")
        }
        if lower.contains("couldn't load") || lower.contains("no such file or directory") || lower.contains("not supported")
            || lower.contains("unknown option") || lower.contains("extension") || lower.contains("protocol not available") {
            throw .kernelSupport(text)
        }
        throw .failed("\(tool) failed (exit \(result.status)): \(text)")
    }

    /// Splits an `iptables -S` line into words, keeping quoted strings whole.
    static func words(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false
        for character in line {
            if character == "\"" { quoted.toggle(); continue }
            if character == " " && !quoted {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}


extension String {
    /// "Sampler's ..." as the middle of a sentence: the first letter in lower case.
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}

extension Backend {
    /// `auto` as what it is here: the iptables that the system's alternative names
    /// (`iptables -V` says "nf_tables" or "legacy"); `auto` still when that cannot be told.
    public var resolved: Backend {
        guard self == .auto, let version = try? Subprocess.run(["iptables", "-V"]), version.status == 0 else { return self }
        return version.stdout.contains("legacy") ? .legacy : version.stdout.contains("nf_tables") ? .nft : .auto
    }

    /// Whether the two may name the same rules: the same tools once `auto` is resolved,
    /// or an `auto` that cannot be told on one side of two iptables.
    public func mayShareRules(with other: Backend) -> Bool {
        let (a, b) = (resolved, other.resolved)
        return a == b || (a != .nftables && b != .nftables && (a == .auto || b == .auto))
    }
}
