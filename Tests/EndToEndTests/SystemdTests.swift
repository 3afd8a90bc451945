import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemdUnitTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let sampler = samplerBinary().path

    func unit() throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent("systemd/sampler.service"), encoding: .utf8)
    }

    @Test(.enabled(if: Subprocess.find("systemd-analyze") != nil, "needs systemd-analyze (Debian's systemd package)"))
    func theUnitVerifies() throws {
        // Verify the unit as installed, with the binary where the installer puts it.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-\(getpid()).service").path
        try unit().replacingOccurrences(of: "/usr/bin/sampler", with: sampler).write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        // --man=no: the unit's Documentation= names sampler's own man pages, which come
        // with the package (scripts/test-deb checks them there), not with this checkout.
        let result = try Subprocess.run(["systemd-analyze", "verify", "--man=no", path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains(path), "warnings about the unit: \(result.stderr)")
    }

    @Test func everyCommandLineInTheUnitParses() throws {
        // A configuration that fails validation: a command whose arguments parse goes on
        // to read it and exits 78; one that does not parse exits 64 before.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-unit-\(getpid()).conf").path
        try "idle_timeout = -1\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        let lines = try unit().split(separator: "\n").filter { $0.hasPrefix("Exec") && $0.contains("/sampler ") }
        #expect(lines.count == 3)
        for line in lines {
            let command = line.split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: CharacterSet(charactersIn: "+-@!"))
            var words = command.split(separator: " ").map(String.init)
            #expect(words[0] == "/usr/bin/sampler")
            words[0] = sampler
            words = words.map { $0 == "/etc/sampler/sampler.conf" ? config : $0 }
            let result = try Subprocess.run(words)
            #expect(result.status == 78, "\(line): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("idle_timeout = -1:"), "\(line): \(result.stderr)")
        }
    }
}

@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces: run as root (CI does)"))
struct SystemdNotifyTests {
    @Test func tellsSystemdReadyWatchdogAndStopping() throws {
        let lab = try Lab(index: 21)
        defer { lab.close() }
        // systemd's side: a datagram socket that prints what it receives.
        let socketPath = lab.file("notify.sock").path
        _ = try lab.spawn(["python3", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
            print("listening", flush=True)
            while True: print(s.recv(4096).decode().replace("\\n", " | "), flush=True)
            """, socketPath], in: lab.server, log: "notify.log")
        try #require(lab.wait(seconds: 10) { lab.read("notify.log").contains("listening") })
        let run = try lab.spawn(["env", "NOTIFY_SOCKET=\(socketPath)", "WATCHDOG_USEC=400000",
                                 samplerBinary().path, "run", "--config", "/dev/null", "--group", "5021", "--output", lab.file("records.jsonl").path,
                                 "--status-socket", lab.file("status.sock").path],
                                in: lab.server, log: "run.log")
        #expect(lab.wait(seconds: 10) { lab.read("notify.log").contains("READY=1 | STATUS=reading NFLOG group 5021") },
                "\(lab.read("notify.log")) \(lab.read("run.log"))")
        #expect(lab.wait(seconds: 5) { lab.read("notify.log").components(separatedBy: "WATCHDOG=1").count > 2 },
                "no watchdog pings: \(lab.read("notify.log"))")
        run.signal(SIGTERM)
        #expect(run.wait() == 0)
        #expect(lab.wait(seconds: 5) { lab.read("notify.log").contains("STOPPING=1") })
    }
}
