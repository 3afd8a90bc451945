#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with optional standard input, capturing its output.
/// posix_spawn with three pipes, drained with poll(2) so that no pipe can fill and stall
/// the child; no Foundation run loop is involved.
struct Command {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Finds `name` in PATH and the sbin directories (which a non-root PATH may lack).
    static func find(_ name: String) -> String? {
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func run(_ arguments: [String], input: String? = nil) throws(RulesError) -> Command {
        guard let executable = find(arguments[0]) else { throw .toolMissing(arguments[0]) }
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw .failed("cannot create pipes: \(String(cString: strerror(errno)))")
        }
        // Our ends must not leak into the child (posix_spawn dup2s the child's ends).
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A child that exits before reading its input must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }
        guard spawned == 0 else {
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
            throw .failed("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }

        // Feed standard input and drain both outputs together.
        var pending = Array((input ?? "").utf8)
        var written = 0
        var inFD: Int32 = stdinPipe[1]
        if pending.isEmpty { close(inFD); inFD = -1 }
        var outputs: [Int32: [UInt8]] = [stdoutPipe[0]: [], stderrPipe[0]: []]
        var open = [stdoutPipe[0], stderrPipe[0]]
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty || inFD >= 0 {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inFD {
                    let n = pending.withUnsafeBytes { write(inFD, $0.baseAddress! + written, pending.count - written) }
                    if n > 0 { written += n }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 || written == pending.count { close(inFD); inFD = -1 }
                } else {
                    let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress!, $0.count) }
                    if n > 0 { outputs[entry.fd]!.append(contentsOf: chunk[0..<n]) }
                    else if n == 0 || errno != EINTR { close(entry.fd); open.removeAll { $0 == entry.fd } }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Command(status: exitCode, stdout: String(decoding: outputs[stdoutPipe[0]]!, as: UTF8.self),
                       stderr: String(decoding: outputs[stderrPipe[0]]!, as: UTF8.self))
    }
}
