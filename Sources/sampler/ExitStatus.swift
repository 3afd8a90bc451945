import ArgumentParser

/// Every exit status sampler's commands use besides 0, in one place: the sysexits(3)
/// values where one fits, so that scripts and systemd can tell the causes apart.
/// (`sampler status` exits with its verdict instead, 0-3 as monitoring plugins do:
/// `HealthState`.) The commands' help texts cite these numbers.
enum ExitStatus: Int32, CaseIterable {
    /// Something failed at run time; or, for report, classify and `rules check`, the input
    /// or the rules were not as they should be.
    case failure = 1
    /// A rules command could not run iptables, or iptables refused.
    case rulesFailed = 2
    /// EX_USAGE: bad arguments (ArgumentParser's own, for a parse error).
    case usage = 64
    /// EX_DATAERR: the input is in no format sampler reads (a capture of an unsupported
    /// link type).
    case dataError = 65
    /// EX_NOINPUT: the input file cannot be read.
    case noInput = 66
    /// EX_UNAVAILABLE: something another process holds (the NFLOG group, a socket, a
    /// port, the spool) or a server that does not answer (ClickHouse).
    case unavailable = 69
    /// EX_CANTCREAT: an output, socket or spool cannot be created.
    case cannotCreate = 73
    /// EX_IOERR: writing the output failed.
    case ioError = 74
    /// EX_TEMPFAIL: the work is kept and will go on later (records left in the spool).
    case temporaryFailure = 75
    /// EX_NOPERM: no CAP_NET_ADMIN.
    case noPermission = 77
    /// EX_CONFIG: a bad setting, in the configuration file or a flag.
    case configuration = 78

    /// The error that makes ArgumentParser exit with this status.
    var exit: ExitCode { ExitCode(rawValue) }

    /// What the status means, in the words of every command's list.
    var meaning: String {
        switch self {
        case .failure: "a failure at run time, or input or rules not as they should be"
        case .rulesFailed: "iptables or nft could not run, or refused"
        case .usage: "bad arguments"
        case .dataError: "input in no format sampler reads"
        case .noInput: "an input file cannot be read"
        case .unavailable: "something another process holds, or a server that does not answer"
        case .cannotCreate: "an output, socket or spool cannot be created"
        case .ioError: "writing the output failed"
        case .temporaryFailure: "work left for later (records in the spool)"
        case .noPermission: "no permission (CAP_NET_ADMIN)"
        case .configuration: "a bad setting, in the configuration file or a flag"
        }
    }

    /// Every status, for the pages of sampler and its command groups (each command's own
    /// page lists those it uses; status exits 0 to 3, as monitoring plugins do).
    static var overview: String {
        "Exit status: 0 success; " + allCases.map { "\($0.rawValue) \($0.meaning)" }.joined(separator: "; ")
            + " (each command's page lists those it uses; status exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."
    }

    /// A command's exit statuses in words, for its --help and, moved to EXIT STATUS by
    /// scripts/package-deb, its man page: "Exit status: 0 done; 1 ...; 64 bad arguments".
    /// The numbers come from the cases, never typed; every command takes `usage`.
    static func help(_ zero: String, _ others: KeyValuePairs<ExitStatus, String>) -> String {
        let all = [(Int32(0), zero)] + others.map { ($0.key.rawValue, $0.value) } + [(usage.rawValue, usage.meaning)]
        return "Exit status: " + all.sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1)" }.joined(separator: "; ") + "."
    }
}
