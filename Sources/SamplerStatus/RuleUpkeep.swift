import SamplerWire

/// How the daemon keeps its rules (`RuleKeeper`, in SamplerService): its checks, what they
/// found, and the gaps it repaired. A value, so that status can show it without the keeper.
public struct RuleUpkeep: Sendable, Equatable {
    public var repair: Bool
    /// Why `repair` is false: the setting, or a daemon that found no rules at its start
    /// (repair_rules on, but it repairs only rules it started with); nil while it repairs.
    public var repairOff: String?
    public var checks: UInt64 = 0
    public var lastCheckAt: Microseconds?
    /// At the last check: sampler's rules complete in the kernel (nil before the first).
    public var present: Bool?
    /// At the last check: complete, but with other values than the daemon's (changed on purpose).
    public var changed = false
    /// Since when they are missing, while they are (from the last check that saw them).
    public var missingSince: Microseconds?
    public var repairs: UInt64 = 0
    /// The rules were in the kernel at some check (or at the start): false while they
    /// have never been there, which is no gap (nothing vanished) but nothing sampled.
    public var everPresent = false
    /// The time without rules, added up over every gap that ended.
    public var missingMicroseconds: Microseconds = 0
    public var lastGap: (start: Microseconds, end: Microseconds)?
    /// Why the last check was not fine: the rules changed on purpose, cannot be read,
    /// cannot be reinstalled; nil when it was.
    public var problem: String?

    public init(repair: Bool) { self.repair = repair }

    /// The time without rules until `now`: the gaps that ended and the one still open, so
    /// that rules missing for an hour do not read as "0 s without them".
    public func missing(at now: Microseconds) -> Microseconds {
        missingMicroseconds + (missingSince.map { max(0, now - $0) } ?? 0)
    }

    public static func == (a: RuleUpkeep, b: RuleUpkeep) -> Bool {
        a.repair == b.repair && a.repairOff == b.repairOff && a.checks == b.checks && a.lastCheckAt == b.lastCheckAt && a.present == b.present && a.changed == b.changed
            && a.missingSince == b.missingSince && a.repairs == b.repairs && a.missingMicroseconds == b.missingMicroseconds
            && a.everPresent == b.everPresent
            && a.lastGap?.start == b.lastGap?.start && a.lastGap?.end == b.lastGap?.end && a.problem == b.problem
    }
}
