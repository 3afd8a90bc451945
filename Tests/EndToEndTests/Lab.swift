import Foundation
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
    private var processes: [Process] = []

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
    func run(_ command: [String], in namespace: String? = nil, allowFailure: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (namespace.map { ["ip", "netns", "exec", $0] } ?? []) + command
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting, so that a full pipe cannot stall the child.
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 && !allowFailure {
            throw CommandFailed(command: command, status: process.terminationStatus, output: stdout + stderr)
        }
        return (process.terminationStatus, stdout, stderr)
    }

    /// Starts a long-running command; its output goes to a file in the lab's directory.
    func spawn(_ command: [String], in namespace: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", namespace] + command
        let logURL = directory.appendingPathComponent(log)
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append(process)
        return process
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
    func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGINT)
        if !wait(seconds: 3, for: { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
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

/// The built `sampler` binary, next to the test bundle.
func samplerBinary() -> URL {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let url = candidate.appendingPathComponent("sampler")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return URL(fileURLWithPath: ProcessInfo.processInfo.environment["SAMPLER_BIN"] ?? ".build/debug/sampler")
}
