import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// install.sh into a temporary root (DESTDIR), the foreground command it prints run for
/// real in a server namespace, `sampler status` OK after traffic, then the uninstall.
/// This machine has no systemd as PID 1, so the installer takes its container path; the
/// unit itself is checked by SystemdTests.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces and iptables: run as root (CI does)"))
struct InstallerTests {
    static let installer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("install.sh").path

    func install(_ lab: Lab, _ root: String, _ extra: [String] = [], in namespace: String? = nil) throws -> Subprocess.Result {
        try lab.run([Self.installer, "--destdir", root] + extra, in: namespace, allowFailure: true)
    }

    @Test func installsRunsAndUninstallsInATemporaryRoot() throws {
        let lab = try Lab(index: 33)
        defer { lab.close() }
        let root = lab.file("root").path
        let first = try install(lab, root, ["--binary", samplerBinary().path, "--no-packages"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let binary = root + "/usr/local/bin/sampler", unit = root + "/etc/systemd/system/sampler.service"
        let config = root + "/etc/sampler/sampler.conf"
        for path in [binary, unit, config, root + "/usr/local/share/sampler/iptables/sampler-ipv4.rules",
                     root + "/usr/local/share/doc/sampler/operations.md"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) missing:\n\(first.stdout)")
        }
        // The unit runs the binary from the real prefix, not the staging root.
        #expect(try String(contentsOfFile: unit, encoding: .utf8).contains("ExecStart=/usr/local/bin/sampler run --config /etc/sampler/sampler.conf"))
        #expect(first.stdout.contains("staged under \(root): nothing was started"))
        let command = try #require(first.stdout.split(separator: "\n").last { $0.hasPrefix("  ") })
            .split(separator: " ").map(String.init)
        #expect(command == [binary, "run", "--install-rules", "--config", config])

        // The operator's edits survive a second run (an upgrade).
        let records = root + "/var/lib/sampler/records.jsonl"
        try FileManager.default.createDirectory(atPath: root + "/var/lib/sampler", withIntermediateDirectories: true)
        let edits = """

            # this lab's settings
            probability = 1
            group = 5033
            output = \(records)
            status_socket = \(lab.file("run/status.sock").path)
            idle_timeout = 1
            metrics = none

            """
        let handle = try #require(FileHandle(forWritingAtPath: config))
        handle.seekToEndOfFile()
        handle.write(Data(edits.utf8))
        handle.closeFile()
        let again = try install(lab, root, ["--binary", samplerBinary().path, "--no-packages"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("kept \(config)"))
        #expect(try String(contentsOfFile: config, encoding: .utf8).hasSuffix(edits))
        #expect(FileManager.default.fileExists(atPath: config + ".dist"))

        // The printed foreground command works: real traffic, then status says OK.
        let run = try lab.spawn(command, in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5033") }, "\(lab.read("run.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        try lab.run(["python3", "-c", Traffic.client, lab.serverV4, "4", "41000", "rest"], in: lab.client)
        #expect(lab.wait(seconds: 10) { ((try? String(contentsOfFile: records, encoding: .utf8)) ?? "").split(separator: "\n").count >= 5 })
        let status = try lab.run([binary, "status", "--config", config], in: lab.server, allowFailure: true)
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.hasPrefix("SAMPLER OK - group 5033"), "\(status.stdout)")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
        #expect(!(try lab.run(["iptables", "-t", "mangle", "-S"], in: lab.server).stdout.contains("SAMPLER")))

        // Uninstall (in the namespace, whose rules it removes): no rule, unit or binary
        // left; the configuration and the records stay until --purge.
        try lab.run([binary, "rules", "install", "--config", config], in: lab.server)
        let removed = try install(lab, root, ["--uninstall"], in: lab.server)
        #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
        for tool in ["iptables", "ip6tables"] {
            #expect(!(try lab.run([tool, "-t", "mangle", "-S"], in: lab.server).stdout.contains("SAMPLER")), "\(tool)")
        }
        for path in [binary, unit, root + "/usr/local/share/sampler", root + "/usr/local/share/doc/sampler"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind")
        }
        #expect(FileManager.default.fileExists(atPath: config) && FileManager.default.fileExists(atPath: records))
        #expect(try install(lab, root, ["--uninstall"], in: lab.server).status == 0, "uninstalling twice is safe")
        let purged = try install(lab, root, ["--uninstall", "--purge"], in: lab.server)
        #expect(purged.status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/sampler") && !FileManager.default.fileExists(atPath: root + "/var/lib/sampler"))
    }

    @Test func refusesBadOptionsAndExplainsItself() throws {
        let help = try Subprocess.run([Self.installer, "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--uninstall") && help.stdout.contains("--destdir"))
        let bad = try Subprocess.run([Self.installer, "--frobnicate"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown option '--frobnicate'"))
        let purge = try Subprocess.run([Self.installer, "--purge"])
        #expect(purge.status == 2 && purge.stderr.contains("--purge goes with --uninstall"))
        let relative = try Subprocess.run([Self.installer, "--prefix", "usr"])
        #expect(relative.status == 2)
    }
}
