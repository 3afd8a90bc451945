import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP through the kernel: an edited idle_timeout applies to the connections open
/// now, the log says what changed and what needs a restart; and a rotation by logrotate
/// with the package's own file loses and doubles no record.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces and iptables: run as root (CI does)"))
struct ReloadTests {
    let sampler = samplerBinary().path

    func configure(_ lab: Lab, group: Int, extra: String) throws -> String {
        let path = lab.file("sampler.conf").path
        try """
            probability = 1
            group = \(group)
            family = 4
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("status.sock").path)
            metrics = none
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startRun(_ lab: Lab, config: String) throws -> Subprocess.Child {
        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        return run
    }

    func records(_ lab: Lab, _ names: [String]) throws -> [[String: Any]] {
        try names.flatMap { name in
            try lab.read(name).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
    }

    /// Without --config and without the default file, SIGHUP says so rather than naming a
    /// file it did not read.
    @Test func sighupWithoutAConfigurationFileSaysSo() throws {
        let lab = try Lab(index: 71)
        defer { lab.close() }
        try lab.run([sampler, "rules", "install", "--group", "5071", "--family", "4"], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--group", "5071", "--family", "4", "--output", lab.file("records.jsonl").path,
                                 "--status-socket", lab.file("status.sock").path, "--metrics", "none"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        run.signal(SIGHUP)
        let expected = FileManager.default.fileExists(atPath: "/etc/sampler/sampler.conf")
            ? "SIGHUP: read /etc/sampler/sampler.conf" : "SIGHUP: no configuration file (/etc/sampler/sampler.conf does not exist): nothing changed"
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains(expected) }, "\(lab.read("run.log"))")
        lab.stop(run)  // the rules go with the lab's namespace
    }

    @Test func sighupAppliesAnEditedIdleTimeoutToOpenConnections() throws {
        let lab = try Lab(index: 68)
        defer { lab.close() }
        let config = try configure(lab, group: 5068, extra: "idle_timeout = 600")
        let run = try startRun(lab, config: config)
        // A connection that stays open and quiet after one exchange.
        _ = try lab.spawn(["python3", "-c", """
            import socket, sys, time
            s = socket.create_connection((sys.argv[1], 8080), source_address=("", 46000))
            s.sendall(b"hello\\n"); s.recv(10); print("open", flush=True); time.sleep(60)
            """, lab.serverV4], in: lab.client, log: "holder.log")
        try #require(lab.wait(seconds: 10) { lab.read("holder.log").contains("open") })
        usleep(1_500_000)
        #expect(lab.read("records.jsonl").isEmpty, "idle 600 s: nothing finalized yet")

        try (try String(contentsOfFile: config, encoding: .utf8)).replacingOccurrences(of: "idle_timeout = 600", with: "idle_timeout = 2\nwindow = 60")
            .write(toFile: config, atomically: true, encoding: .utf8)
        run.signal(SIGHUP)
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("SIGHUP: read \(config): applied idle_timeout 600 -> 2; not applied until a restart: window 900 -> 60") },
                "\(lab.read("run.log"))")
        // The open connection times out at its new deadline, 2 s after its last packet.
        #expect(lab.wait(seconds: 5) { lab.read("records.jsonl").contains("\"sport\":46000") }, "\(lab.read("records.jsonl"))")
        let record = try #require(try records(lab, ["records.jsonl"]).first { $0["sport"] as? Int == 46000 })
        #expect(record["close"] as? String == "timeout", "\(record)")

        // A file that cannot be used keeps the running configuration.
        try "idle_timeout = soon\n".write(toFile: config, atomically: true, encoding: .utf8)
        run.signal(SIGHUP)
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("keeping the running one") }, "\(lab.read("run.log"))")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
    }

    @Test func logrotateWithThePackagesFileLosesAndDoublesNoRecord() throws {
        let lab = try Lab(index: 69)
        defer { lab.close() }
        let config = try configure(lab, group: 5069, extra: "idle_timeout = 1")
        let run = try startRun(lab, config: config)
        // The shipped file, pointed at this lab's records and daemon.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try String(contentsOf: root.appendingPathComponent("packaging/deb/logrotate"), encoding: .utf8)
        #expect(try lab.run(["logrotate", "-d", "-s", lab.file("check.state").path, root.appendingPathComponent("packaging/deb/logrotate").path],
                            allowFailure: true).status == 0, "logrotate -d does not accept the shipped file")
        let local = shipped.replacingOccurrences(of: "/var/lib/sampler/records.jsonl", with: lab.file("records.jsonl").path)
            .replacingOccurrences(of: "systemctl reload sampler.service", with: "kill -HUP \(run.pid)")
        #expect(local != shipped && local.contains("kill -HUP"))
        try local.write(to: lab.file("logrotate.conf"), atomically: true, encoding: .utf8)

        let client = ["python3", "-c", Traffic.client]
        try lab.run(client + [lab.serverV4, "4", "41000", "rest"], in: lab.client)
        #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").split(separator: "\n").count >= 5 }, "\(lab.read("records.jsonl"))")
        try lab.run(["logrotate", "-f", "-s", lab.file("logrotate.state").path, lab.file("logrotate.conf").path])
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("reopened") }, "\(lab.read("run.log"))")
        try lab.run(client + [lab.serverV4, "4", "42000", "rest"], in: lab.client)
        #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").split(separator: "\n").count >= 5 }, "\(lab.read("records.jsonl"))")
        lab.stop(run)

        let rotated = try FileManager.default.contentsOfDirectory(atPath: lab.directory.path).filter { $0.hasPrefix("records.jsonl-") }
        #expect(rotated.count == 1, "\(rotated)")
        let ports = try records(lab, rotated + ["records.jsonl"]).compactMap { $0["sport"] as? Int }
        #expect(ports.sorted() == (41001...41005).map { $0 } + (42001...42005).map { $0 }, "each connection once: \(ports)")
        #expect(try records(lab, rotated).allSatisfy { ($0["sport"] as? Int ?? 0) < 42000 }, "the old file has only what came before")
    }
}
