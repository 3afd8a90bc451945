import ArgumentParser

/// Every exit status sampler's commands use besides 0, in one place: the sysexits(3)
/// values where one fits, so that scripts and systemd can tell the causes apart.
/// (`sampler status` exits with its verdict instead, 0-3 as monitoring plugins do:
/// `HealthState`.) The commands' help texts cite these numbers.
enum ExitStatus: Int32 {
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
}
