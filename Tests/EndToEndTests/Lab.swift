import Foundation
import SamplerSubprocess
#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces, client and server, joined by a veth pair, with IPv4 and IPv6
/// addresses that exist only inside them. Everything it starts or creates is removed by
/// `close()`, which tests call in a `defer`. Names carry the process id and a per-test
/// index, so that tests can run in parallel.
final class Lab {
    let name: String
    let client: String
    let server: String
    let clientV4: String, serverV4: String
    let clientV6: String, serverV6: String
    let directory: URL
    private var processes: [Subprocess.Child] = []

    static var isRoot: Bool { geteuid() == 0 }

    init(index: Int) throws {
        name = "sp\(getpid() % 100_000)x\(index)"
        client = name + "c"
        server = name + "s"
        clientV4 = "10.250.\(index).1"
        serverV4 = "10.250.\(index).2"
        clientV6 = "fd5a:\(index)::1"
        serverV6 = "fd5a:\(index)::2"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try run(["ip", "netns", "add", client])
            try run(["ip", "netns", "add", server])
            try run(["ip", "link", "add", client, "type", "veth", "peer", "name", server])
            try run(["ip", "link", "set", client, "netns", client])
            try run(["ip", "link", "set", server, "netns", server])
            for (ns, v4, v6) in [(client, clientV4, clientV6), (server, serverV4, serverV6)] {
                try run(["ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ns])
                // nodad: usable at once, no duplicate-address wait.
                try run(["ip", "-n", ns, "addr", "add", v6 + "/64", "dev", ns, "nodad"])
                try run(["ip", "-n", ns, "link", "set", ns, "up"])
                try run(["ip", "-n", ns, "link", "set", "lo", "up"])
            }
        } catch {
            close()
            throw error
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a command to completion; throws with its output if it fails.
    @discardableResult
    func run(_ command: [String], in namespace: String? = nil, input: String? = nil, allowFailure: Bool = false) throws -> Subprocess.Result {
        let arguments = (namespace.map { ["ip", "netns", "exec", $0] } ?? []) + command
        let result = try Subprocess.run(arguments, input: input)
        if result.status != 0 && !allowFailure {
            throw CommandFailed(command: command, status: result.status, output: result.stdout + result.stderr)
        }
        return result
    }

    /// Starts a long-running command; its output goes to a file in the lab's directory.
    /// `ip netns exec` execs the command, so the child's pid is the command's.
    func spawn(_ command: [String], in namespace: String, log: String) throws -> Subprocess.Child {
        let child = try Subprocess.start(["ip", "netns", "exec", namespace] + command, outputPath: file(log).path)
        processes.append(child)
        return child
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func read(_ name: String) -> String { (try? String(contentsOf: file(name), encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds, up to `seconds`.
    func wait(seconds: Double, for condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Stops a spawned process with SIGINT (tcpdump flushes its file on it), then SIGKILL.
    func stop(_ process: Subprocess.Child) {
        guard process.isRunning else { return }
        process.signal(SIGINT)
        if !wait(seconds: 5, for: { !process.isRunning }) { process.signal(SIGKILL) }
        process.wait()
    }

    func close() {
        for process in processes { stop(process) }
        processes.removeAll()
        // Deleting the namespaces removes the veth pair and every rule inside them.
        _ = try? run(["ip", "netns", "del", client], allowFailure: true)
        _ = try? run(["ip", "netns", "del", server], allowFailure: true)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The built `sampler` binary, next to the test bundle. Tests that rely on the defaults
/// pass `--config /dev/null`, so that a host's /etc/sampler/sampler.conf never changes them.
func samplerBinary() -> URL {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let url = candidate.appendingPathComponent("sampler")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return URL(fileURLWithPath: ProcessInfo.processInfo.environment["SAMPLER_BIN"] ?? ".build/debug/sampler")
}

/// The release build of `sampler`, for tests that measure it at full speed: $SAMPLER_RELEASE_BIN,
/// or .build/release/sampler beside the debug build's directory (scripts/test builds it).
func releaseBinary() -> URL {
    if let path = ProcessInfo.processInfo.environment["SAMPLER_RELEASE_BIN"] { return URL(fileURLWithPath: path) }
    let debug = samplerBinary().resolvingSymlinksInPath()
    // .build/<triple>/debug/sampler -> .build/<triple>/release/sampler
    return debug.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("release/sampler")
}
