import SamplerStatus
import SamplerRules
import SamplerRuntime
import SamplerSystem
import SamplerWire
import Synchronization

/// Keeps the daemon's rules in the kernel. A firewall reload removes them: Debian's
/// /etc/nftables.conf begins with `flush ruleset`, `iptables -t mangle -F` empties every
/// mangle chain, a tool that rewrites the mangle table drops the chain it does not know.
/// Every `interval`, and at once when NFLOG goes quiet after traffic, a thread of its own
/// reads the rules back (one `iptables -S` per family or one `nft -j list table`: a few
/// milliseconds) and, when they are missing or incomplete, installs them again, logs it
/// and counts the time without them: a gap in the sample.
///
/// Damage is told apart from intent by what sampler itself leaves behind: it always
/// installs both rules and the way in, complete. Missing or incomplete rules are damage
/// and are repaired; complete rules with other values were installed on purpose (by
/// `sampler rules install` with other options, or another sampler) and are left alone.
public final class RuleKeeper: Sendable {
    public struct Options: Sendable {
        public var manager: RuleManager
        /// The rules the daemon works with (installed or found at the start).
        public var parameters: RuleParameters
        public var versions: [IPVersion]
        public var interval: Microseconds
        /// Reinstall missing rules; off, the keeper only watches (for status and metrics).
        public var repair: Bool
        /// The rules were in the kernel when the daemon started (or it installed them):
        /// missing later, they vanished. Otherwise they were never there, which is said
        /// as such, and they are not the daemon's to put back.
        public var presentAtStart: Bool

        public init(manager: RuleManager, parameters: RuleParameters, versions: [IPVersion], interval: Microseconds, repair: Bool,
                    presentAtStart: Bool = true) {
            (self.manager, self.parameters, self.versions, self.interval, self.repair) = (manager, parameters, versions, interval, repair)
            self.presentAtStart = presentAtStart
        }
    }

    /// What the keeper found, for `status` and the metrics.
    public typealias State = RuleUpkeep

    public let options: Options
    private let log: @Sendable (String) -> Void
    private let shared: Mutex<State>
    private let messages = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let begun = Atomic<Bool>(false)
    private let wakeup: Wakeup

    public init(options: Options, log: @escaping @Sendable (String) -> Void) throws(Errno) {
        self.options = options
        self.log = log
        shared = Mutex(Upkeep.initialState(options))
        wakeup = try Wakeup()
    }

    public var state: State { shared.withLock { $0 } }

    /// The loop's count of NFLOG messages so far (from its thread, cheaply): traffic that
    /// stops is the first sign of rules that went away.
    public func saw(messages total: UInt64) { messages.store(total, ordering: .relaxed) }

    /// Starts the thread; `stop()` then `join()` ends it.
    public func start() throws(Errno) -> JoinableThread {
        try JoinableThread(name: "sampler-rules") { [self] in self.watch() }
    }

    /// Lets the thread make its first check: once the daemon has its NFLOG group, so that
    /// a start refused there (the group taken) logs nothing about the rules.
    public func begin() {
        begun.store(true, ordering: .releasing)
        wakeup.signal()
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    /// NFLOG quiet this long after traffic: check without waiting for the interval.
    static let quietAfter: Microseconds = 1_000_000

    private func watch() {
        var upkeep = Upkeep(options: options, log: log)
        while !begun.load(ordering: .acquiring) {
            if stopping.load(ordering: .relaxed) { return }
            wakeup.wait(timeoutMilliseconds: 250) { begun.load(ordering: .relaxed) || stopping.load(ordering: .relaxed) }
        }
        var lastCheck = wallClock()
        var lastMessages = messages.load(ordering: .relaxed), lastChange = lastCheck, checkedQuiet = true
        // A first look at once, so that status has the daemon's word from the start.
        upkeep.check(now: lastCheck)
        let first = upkeep.state
        shared.withLock { $0 = first }
        while !stopping.load(ordering: .relaxed) {
            wakeup.wait(timeoutMilliseconds: 250) { stopping.load(ordering: .relaxed) }
            if stopping.load(ordering: .relaxed) { break }
            let now = wallClock()
            let seen = messages.load(ordering: .relaxed)
            if seen != lastMessages { (lastMessages, lastChange, checkedQuiet) = (seen, now, false) }
            let quiet = !checkedQuiet && now - lastChange >= Self.quietAfter
            guard quiet || now - lastCheck >= options.interval else { continue }
            if quiet { checkedQuiet = true }
            upkeep.check(now: now)
            lastCheck = now
            let found = upkeep.state
            shared.withLock { $0 = found }
        }
    }

    /// One check and what follows from it; the thread's own, so its memory of what it
    /// logged needs no lock. Tests drive it directly.
    struct Upkeep {
        let options: Options
        let log: @Sendable (String) -> Void
        var state: State
        private var lastGoodAt: Microseconds?
        private var logged: String?
        /// The other backend's sampler rules, looked for at each check while this backend's
        /// have never been found (said in the log and in status instead of "not
        /// installed", and no longer once they are gone too).
        private var otherBackend: String?

        init(options: Options, log: @escaping @Sendable (String) -> Void) {
            self.options = options
            self.log = log
            state = Self.initialState(options)
            lastGoodAt = options.presentAtStart ? wallClock() : nil
        }

        mutating func check(now: Microseconds) {
            state.checks += 1
            state.lastCheckAt = now
            var found: [(IPVersion, RuleManager.Installed)] = []
            do {
                for version in options.versions { found.append((version, try options.manager.installed(version: version))) }
            } catch {
                report("cannot read the rules to check them: \(error)")
                return
            }
            let install = options.manager.installCommand(options.parameters, versions: options.versions)
            let damaged = found.filter { !$0.1.isComplete }
            guard !damaged.isEmpty else {
                if let since = state.missingSince {
                    if state.everPresent {
                        // Somebody else put them back.
                        endGap(since, now)
                        log("the rules are back (put there by something else) after \(seconds(now - since)) s without them")
                    } else {
                        // There for the first time: nothing vanished, so no gap is counted.
                        state.missingSince = nil
                        log("the rules are in the kernel now (installed by something else): sampling")
                    }
                }
                state.present = true
                state.everPresent = true
                lastGoodAt = now
                let changed = found.flatMap { version, installed in
                    options.manager.differences(installed, from: options.parameters, version: version, versions: options.versions)
                }
                state.changed = !changed.isEmpty
                if changed.isEmpty {
                    state.problem = nil
                    logged = nil
                } else {
                    let what = changed.map(\.text).joined(separator: "; ")
                    report(options.presentAtStart ? "the rules were changed on purpose (\(what)): left as they are"
                        : "the rules installed since the start differ from this daemon's configuration (\(what)): "
                            + "restart sampler to work with them, or install them with '\(install)'")
                }
                return
            }
            state.present = false
            state.changed = false
            if !state.everPresent {
                // Never there since the start: nothing vanished, and nobody asked for a repair.
                if state.missingSince == nil { state.missingSince = now }
                // Installed with the other backend, they may feed this daemon all the same;
                // it cannot check or repair them. Read again each time: removed, they no
                // longer stand in (a trial: the text stayed after the table went).
                otherBackend = (try? options.manager.otherBackendRules(versions: options.versions))?.first?.what
                let elsewhere = otherBackend.map {
                    "rules are not where this daemon looks (backend \(options.manager.backend.rawValue)), but \($0); "
                        + "restart sampler with the backend they were installed with (--backend) to have them checked and repaired"
                }
                let problem = elsewhere.map { "the " + $0 } ?? "the rules are not installed: run '\(install)'"
                if state.missingSince == now {
                    log(elsewhere.map { "sampler's " + $0 }
                        ?? "sampler's rules are not in the kernel: nothing is sampled until they are installed "
                            + "(run '\(install)', or start sampler with --install-rules)")
                    logged = problem  // just said, in more words
                }
                report(problem)
                return
            }
            if state.missingSince == nil {
                state.missingSince = lastGoodAt ?? now
                let what = damaged.map { version, installed in
                    "IPv\(version.rawValue): " + (installed.isPresent ? "incomplete (\(installed.ruleCount) of 2 rules, "
                        + (options.manager.backend == .nftables ? "hooked at prerouting: \(installed.jumps == 1 ? "yes" : "no")"
                           : "\(installed.jumps) jump\(installed.jumps == 1 ? "" : "s") from PREROUTING") + ")" : "missing")
                }
                // Only the damaged versions go unsampled: IPv6's rules whole keep IPv6's sample.
                let unsampled = damaged.count == found.count ? "nothing" : "nothing of " + damaged.map { "IPv\($0.0.rawValue)" }.joined(separator: " and ")
                log("sampler's rules vanished from the kernel (\(what.joined(separator: ", ")); a firewall reload, or removed by hand?): \(unsampled) is sampled meanwhile"
                    + (options.repair ? "; reinstalling them" : "; \(Self.noRepair(options)), so they stay missing"))
            }
            guard options.repair else {
                report("the rules are missing and \(Self.noRepair(options)): reinstall them with '\(install)'")
                return
            }
            do {
                try options.manager.install(options.parameters, versions: options.versions)
            } catch {
                report("cannot reinstall the rules: \(error)")
                return
            }
            let since = state.missingSince ?? now
            endGap(since, now)
            state.repairs += 1
            state.present = true
            state.problem = nil
            logged = nil
            lastGoodAt = now
            log("reinstalled the rules in \(options.manager.place) (repair \(state.repairs)): at most \(seconds(now - since)) s without them, "
                + "a gap in this window's sample")
        }

        /// The state before the first check.
        static func initialState(_ options: Options) -> State {
            var state = State(repair: options.repair)
            state.everPresent = options.presentAtStart
            state.repairOff = options.repair ? nil : noRepair(options)
            return state
        }

        /// Why missing rules are not put back: the setting, or rules this daemon never had.
        private static func noRepair(_ options: Options) -> String {
            options.presentAtStart ? "repair_rules is false"
                : "this daemon found no rules at its start, and repairs only rules it started with"
        }

        private mutating func endGap(_ start: Microseconds, _ end: Microseconds) {
            state.missingMicroseconds += end - start
            state.lastGap = (start, end)
            state.missingSince = nil
        }

        /// Keeps the problem and logs it, once while it stays the same.
        private mutating func report(_ problem: String) {
            state.problem = problem
            if logged != problem { log(problem) }
            logged = problem
        }

        private func seconds(_ microseconds: Microseconds) -> String {
            let tenths = (microseconds + 50_000) / 100_000
            return "\(tenths / 10).\(tenths % 10)"
        }
    }
}
