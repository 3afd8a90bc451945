import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// Starting other programs (iptables, and in tests tcpdump, hping3, python) with
/// posix_spawn. A child starts with an empty signal mask and default signal handling,
/// whatever the spawning thread had: a thread of a thread pool blocks most signals, and
/// a child that inherited that (hping3 paces its packets with SIGALRM) would hang.
public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The outcome of `run`.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Finds `name` in PATH and the sbin directories (which a non-root PATH may lack).
    public static func find(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs a program to completion, feeding `input` and capturing both outputs (drained
    /// together with poll(2), so that neither pipe can fill and stall the child).
    public static func run(_ arguments: [String], input: String? = nil) throws(Failure) -> Result {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw Failure(description: "cannot create pipes: \(Errno.last)")
        }
        // Our ends must not leak into the child (posix_spawn dup2s the child's ends).
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A child that exits before reading its input must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let pid: pid_t
        do {
            pid = try spawn(arguments, stdin: stdinPipe[0], stdout: stdoutPipe[1], stderr: stderrPipe[1])
        } catch {
            for fd in stdinPipe + stdoutPipe + stderrPipe { close(fd) }
            throw error
        }
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }

        let pending = Array((input ?? "").utf8)
        var written = 0
        var inFD: Int32 = stdinPipe[1]
        if pending.isEmpty { close(inFD); inFD = -1 }
        var outputs: [Int32: [UInt8]] = [stdoutPipe[0]: [], stderrPipe[0]: []]
        var open = [stdoutPipe[0], stderrPipe[0]]
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty || inFD >= 0 {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            guard (try? retryOnInterrupt({ poll(&fds, nfds_t(fds.count), -1) })) != nil else { break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inFD {
                    let n = try? Descriptor(rawValue: inFD).write(pending, from: written)
                    written += n ?? 0
                    if n == nil || written == pending.count { close(inFD); inFD = -1 }
                } else {
                    let n = try? Descriptor(rawValue: entry.fd).read(into: &chunk)
                    if let n, n > 0 { outputs[entry.fd]!.append(contentsOf: chunk[0..<n]) }
                    else { close(entry.fd); open.removeAll { $0 == entry.fd } }
                }
            }
        }
        return Result(status: Child(pid: pid).wait(), stdout: String(decoding: outputs[stdoutPipe[0]]!, as: UTF8.self),
                      stderr: String(decoding: outputs[stderrPipe[0]]!, as: UTF8.self))
    }

    /// Starts a program that keeps running; its output goes to `outputPath` (appended).
    public static func start(_ arguments: [String], outputPath: String) throws(Failure) -> Child {
        let output: Descriptor, input: Descriptor
        do { output = try Descriptor.open(outputPath, O_WRONLY | O_CREAT | O_APPEND) } catch {
            throw Failure(description: "cannot open \(outputPath): \(error)")
        }
        defer { output.close() }
        do { input = try Descriptor.open("/dev/null", O_RDONLY) } catch { throw Failure(description: "cannot open /dev/null: \(error)") }
        defer { input.close() }
        return Child(pid: try spawn(arguments, stdin: input.rawValue, stdout: output.rawValue, stderr: output.rawValue))
    }

    /// A started program.
    public final class Child: @unchecked Sendable {
        public let pid: pid_t
        private var exitStatus: Int32?

        init(pid: pid_t) { self.pid = pid }

        /// Whether it still runs (reaps it if it has ended).
        public var isRunning: Bool {
            if exitStatus != nil { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { exitStatus = Self.decode(status); return false }
            return result == 0
        }

        public func signal(_ signal: Int32) { if exitStatus == nil { kill(pid, signal) } }

        /// Waits for it to end; its exit status, or 128 + the signal that ended it.
        @discardableResult
        public func wait() -> Int32 {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            _ = try? retryOnInterrupt { waitpid(pid, &status, 0) }
            exitStatus = Self.decode(status)
            return exitStatus!
        }

        /// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
        static func decode(_ status: Int32) -> Int32 {
            (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    private static func spawn(_ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws(Failure) -> pid_t {
        guard let executable = find(arguments[0]) else { throw Failure(description: "\(arguments[0]): not found") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        do { try checkReturned { posix_spawn(&pid, executable, &actions, &attributes, &argv, environ) } } catch {
            throw Failure(description: "cannot start \(executable): \(error)")
        }
        return pid
    }
}
