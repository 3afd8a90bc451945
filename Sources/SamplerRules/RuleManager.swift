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

/// Installs, checks and removes sampler's rules with the iptables tools of one backend.
public struct RuleManager: Sendable {
    public var backend: Backend

    public init(backend: Backend = .auto) { self.backend = backend }

    /// The rules as they are in the kernel, read back from `iptables -S`.
    public struct Installed: Sendable, Equatable {
        public var chainExists = false
        public var jumps = 0
        public var probability: Double?
        public var label: String?
        /// The label the logging rule matches (it should be the one the sampling rule sets).
        public var loggedLabel: String?
        public var group: UInt16?
        public var packets: Int?
        public var prefix: String?
        public var ruleCount = 0
    }

    /// Replaces sampler's chain with the rules for `parameters` and makes sure that
    /// PREROUTING jumps to it exactly once.
    public func install(_ parameters: RuleParameters, version: IPVersion) throws(RulesError) {
        try parameters.validate()
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

    /// Removes the jump and the chain; nothing else. Returns false if nothing was there.
    @discardableResult
    public func remove(version: IPVersion) throws(RulesError) -> Bool {
        let state = try installed(version: version)
        for _ in 0..<state.jumps {
            try check(try iptables(version, ["-D"] + RuleSet.jumpArguments), tool: backend.command(for: version))
        }
        if state.chainExists {
            try check(try iptables(version, ["-F", RuleSet.chain]), tool: backend.command(for: version))
            try check(try iptables(version, ["-X", RuleSet.chain]), tool: backend.command(for: version))
        }
        return state.chainExists || state.jumps > 0
    }

    /// What is installed, read from the kernel: the whole mangle table in one `-S`, so
    /// that a missing chain is told apart from an error (iptables-nft 1.8.9 calls a
    /// missing chain "incompatible" when asked for it by name).
    public func installed(version: IPVersion) throws(RulesError) -> Installed {
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

    /// The statistic match keeps a probability as a 31-bit fraction (steps of 4.7e-10), so
    /// 0.0001 reads back as 9.99998301e-05: rounded to nine decimal places, it is what was
    /// meant.
    static func meantProbability(_ value: Double) -> Double {
        (value * 1e9).rounded() / 1e9
    }

    /// What differs between the kernel and `parameters`; empty when they match. Labels
    /// compare by bit (`labels` names them).
    public func differences(from parameters: RuleParameters, version: IPVersion,
                            labels: ConnLabels = ConnLabels()) throws(RulesError) -> [RuleDifference] {
        Self.differences(try installed(version: version), from: parameters, family: "IPv\(version.rawValue)", labels: labels)
    }

    static func differences(_ state: Installed, from parameters: RuleParameters, family: String, labels: ConnLabels) -> [RuleDifference] {
        guard state.chainExists else {
            return [.breaking("\(family): chain \(RuleSet.table)/\(RuleSet.chain) is missing: run 'sampler rules install'")]
                + (state.jumps > 0 ? [.breaking("\(family): \(RuleSet.hook) jumps to a missing chain")] : [])
        }
        var problems: [RuleDifference] = []
        if state.jumps == 0 { problems.append(.breaking("\(family): \(RuleSet.hook) does not jump to \(RuleSet.chain)")) }
        // Two jumps log every packet twice: retransmitted SYNs that never were.
        if state.jumps > 1 { problems.append(.breaking("\(family): \(RuleSet.hook) jumps to \(RuleSet.chain) \(state.jumps) times")) }
        if state.ruleCount != 2 { problems.append(.breaking("\(family): \(RuleSet.chain) has \(state.ruleCount) rules, expected 2")) }
        if let installed = state.probability {
            if abs(installed - parameters.probability) > 1e-9 {
                problems.append(.drift("\(family): probability is \(installed), expected \(parameters.probability)"))
            }
        } else {
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
                problems.append(.breaking("\(family): NFLOG group is \(installed), expected \(parameters.group)"))
            }
        } else {
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
        let state = try installed(version: version)
        guard let probability = state.probability, let label = state.label, let group = state.group,
              let packets = state.packets, let prefix = state.prefix else { return nil }
        var parameters = RuleParameters()
        (parameters.probability, parameters.label, parameters.group, parameters.packets, parameters.prefix) =
            (probability, label, group, packets, prefix)
        return parameters
    }

    /// `iptables -L -v` counters of the chain's rules: (packets, bytes) per rule.
    public func counters(version: IPVersion) throws(RulesError) -> [(packets: UInt64, bytes: UInt64)] {
        let listing = try iptables(version, ["-L", RuleSet.chain, "-v", "-x", "-n"])
        guard listing.status == 0 else { return [] }
        return listing.stdout.split(separator: "\n").dropFirst(2).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let packets = UInt64(fields[0]), let bytes = UInt64(fields[1]) else { return nil }
            return (packets, bytes)
        }
    }

    // MARK: running the tools

    private func iptables(_ version: IPVersion, _ arguments: [String]) throws(RulesError) -> Subprocess.Result {
        try run([backend.command(for: version), "-w", "-t", RuleSet.table] + arguments)
    }

    private func run(_ arguments: [String], input: String? = nil) throws(RulesError) -> Subprocess.Result {
        guard Subprocess.find(arguments[0]) != nil else { throw .toolMissing(arguments[0]) }
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

