import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `sampler status` and the metrics endpoint against a real daemon reading real traffic
/// in a server namespace, and what they say when the daemon or its rules are gone.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces and iptables: run as root (CI does)"))
struct StatusTests {
    let sampler = samplerBinary().path

    /// A configuration for this lab: probability 1, its own group, socket and files.
    func configure(_ lab: Lab, group: Int) throws -> String {
        let path = lab.file("sampler.conf").path
        try """
            probability = 1
            group = \(group)
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("run/status.sock").path)
            idle_timeout = 1
            metrics = 127.0.0.1:9731
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func status(_ lab: Lab, _ config: String, _ extra: [String] = []) throws -> Subprocess.Result {
        try lab.run([sampler, "status", "--config", config] + extra, in: lab.server, allowFailure: true)
    }

    func sendTraffic(_ lab: Lab) throws {
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        for (address, family, base) in [(lab.serverV4, "4", "41000"), (lab.serverV6, "6", "43000")] {
            for scenario in ["closed", "rest"] {
                try lab.run(["python3", "-c", Traffic.client, address, family, base, scenario], in: lab.client)
            }
        }
    }

    @Test func okAfterRealTrafficWithMetricsThatPromtoolAccepts() throws {
        let lab = try Lab(index: 31)
        defer { lab.close() }
        let config = try configure(lab, group: 5031)
        let run = try lab.spawn([sampler, "run", "--install-rules", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5031") }, "\(lab.read("run.log"))")
        try sendTraffic(lab)
        try #require(lab.wait(seconds: 10) { lab.read("records.jsonl").split(separator: "\n").count >= 12 }, "\(lab.read("records.jsonl"))")
        // The writer publishes its counts a moment after the lines reach the file: wait for
        // the state asserted below, not for a time.
        func published() -> Int? {
            guard let answer = try? status(lab, config, ["--json"]),
                  let object = try? JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any] else { return nil }
            return (object["daemon"] as? [String: Any])?["records"] as? Int
        }
        try #require(lab.wait(seconds: 10) { published() == 12 }, "records in status: \(published().map(String.init) ?? "none")")

        let text = try status(lab, config)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.hasPrefix("SAMPLER OK - group 5031, "), "\(text.stdout)")
        #expect(text.stdout.contains("IPv4 present") && text.stdout.contains("as the daemon expects"), "\(text.stdout)")

        let json = try status(lab, config, ["--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["state"] as? String == "OK" && json.status == 0)
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["records"] as? Int == 12)
        #expect(daemon["lost"] as? Int == 0)
        #expect(daemon["open_connections"] as? Int == 0)
        let stages = try #require((daemon["totals"] as? [String: Any])?["stages"] as? [String: Int])
        #expect(stages.values.reduce(0, +) == 12)
        let families = try #require((object["rules"] as? [String: Any])?["families"] as? [[String: Any]])
        // One SYN per connection: six sampled for each family.
        #expect(families.map { $0["sampled_packets"] as? Int } == [6, 6], "\(families)")

        let scrape = try lab.run(["curl", "-sf", "http://127.0.0.1:9731/metrics"], in: lab.server)
        let check = try Subprocess.run(["promtool", "check", "metrics"], input: scrape.stdout)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let connections = scrape.stdout.split(separator: "\n").filter { $0.hasPrefix("sampler_connections_total{") }
            .compactMap { Int($0.split(separator: " ").last!) }
        #expect(connections.count == 5 && connections.reduce(0, +) == 12, "\(scrape.stdout)")
        #expect(scrape.stdout.contains("\nsampler_records_written_total 12\n"))
        #expect(scrape.stdout.contains("\nsampler_nflog_group 5031\n"))
        // Every metric the shipped alerting rules use is on the page.
        let names = Set(scrape.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { String($0.prefix { $0 != "{" && $0 != " " }) })
        let used = try AlertRulesTests.metricsUsed()
        #expect(used.count >= 10 && used.isSubset(of: names), "missing from the page: \(used.subtracting(names).sorted())")
        #expect(scrape.stdout.contains("\nsampler_rules_present 1\n") && scrape.stdout.contains("\nsampler_rules_changed 0\n"), "\(scrape.stdout)")

        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
        let down = try status(lab, config)
        #expect(down.status == 2)
        #expect(down.stdout.hasPrefix("SAMPLER CRITICAL - sampler is not running"), "\(down.stdout)")
        #expect(down.stdout.contains("no sampler rules are left in the kernel"), "\(down.stdout)")
    }

    @Test func criticalWhenRulesGoMissingOrDifferAndWhenTheyOutliveTheDaemon() throws {
        let lab = try Lab(index: 32)
        defer { lab.close() }
        let config = try configure(lab, group: 5032)
        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        // The daemon must not put back what this test takes away (NftablesRulesTests has the repairs).
        let run = try lab.spawn([sampler, "run", "--config", config, "--metrics", "none", "--repair-rules", "false"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5032") }, "\(lab.read("run.log"))")
        #expect(try status(lab, config).status == 0)

        try lab.run([sampler, "rules", "remove", "--config", config], in: lab.server)
        let missing = try status(lab, config)
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("sampler's rules are missing"), "\(missing.stdout)")

        // Other parameters: sampling works, differently from how the daemon started.
        try lab.run([sampler, "rules", "install", "--config", config, "--probability", "0.5"], in: lab.server)
        let differs = try status(lab, config)
        #expect(differs.status == 1, "\(differs.stdout)")
        #expect(differs.stdout.contains("probability is 0.5, expected 1.0 (the rules changed since the daemon started"), "\(differs.stdout)")
        // Another group: the daemon reads nothing. CRITICAL.
        try lab.run([sampler, "rules", "install", "--config", config, "--group", "5999"], in: lab.server)
        let elsewhere = try status(lab, config)
        #expect(elsewhere.status == 2, "\(elsewhere.stdout)")
        #expect(elsewhere.stdout.contains("NFLOG group is 5999, expected 5032"), "\(elsewhere.stdout)")
        #expect(elsewhere.stdout.contains("run 'sampler rules install --group 5032 --probability 1', or read group 5999 (--group)"), "\(elsewhere.stdout)")
        // A flushed chain (what a firewall tool that empties chains leaves): CRITICAL,
        // with the command that puts the daemon's rules back.
        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        try lab.run(["iptables", "-w", "-t", "mangle", "-F", "SAMPLER"], in: lab.server)
        let flushed = try status(lab, config)
        #expect(flushed.status == 2, "\(flushed.stdout)")
        #expect(flushed.stdout.contains("has no rules: run 'sampler rules install"), "\(flushed.stdout)")
        #expect(flushed.stdout.contains("IPv4 chain present, its rules missing"), "\(flushed.stdout)")
        #expect(flushed.stdout.contains("--group 5032"), "the command puts back the daemon's own rules: \(flushed.stdout)")

        // A user who may not use the socket (0660, root's) cannot judge: UNKNOWN.
        let nobody = try lab.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  sampler, "status", "--config", config, "--skip-rules"], in: lab.server, allowFailure: true)
        #expect(nobody.status == 3, "\(nobody.stdout)\(nobody.stderr)")
        #expect(nobody.stdout.contains("cannot ask the daemon"), "\(nobody.stdout)")

        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        lab.stop(run)
        let left = try status(lab, config)
        #expect(left.status == 2)
        #expect(left.stdout.contains("sampler's rules are still in the kernel (IPv4, IPv6)"), "\(left.stdout)")
    }

    /// Rules for IPv4 only: status checks the families the daemon keeps, and the advice
    /// to put them back, in status and in the daemon's log, installs IPv4 only again.
    @Test func rulesForOneFamilyAreCheckedAndAdvisedForThatFamily() throws {
        let lab = try Lab(index: 72)
        defer { lab.close() }
        let config = try configure(lab, group: 5072)
        try lab.run([sampler, "rules", "install", "--config", config, "--family", "4"], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", config, "--metrics", "none", "--repair-rules", "false",
                                 "--rules-check-interval", "1"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5072") }, "\(lab.read("run.log"))")
        let fine = try status(lab, config)
        #expect(fine.status == 0, "IPv6 has no rules, and the daemon keeps none there: \(fine.stdout)")

        try lab.run(["iptables", "-w", "-t", "mangle", "-F", "SAMPLER"], in: lab.server)
        let advice = "run 'sampler rules install --family 4 --group 5072 --probability 1'"
        let flushed = try status(lab, config)
        #expect(flushed.status == 2, "\(flushed.stdout)")
        #expect(flushed.stdout.contains(advice), "\(flushed.stdout)")
        #expect(!flushed.stdout.contains("IPv6"), "\(flushed.stdout)")
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("reinstall them with 'sampler rules install --family 4 --group 5072 --probability 1'") },
                "\(lab.read("run.log"))")
        lab.stop(run)
    }

    /// A raw-table rule that keeps connections out of conntrack hides them from the
    /// sampling rule, which samples tracked connections only: a connection it matches is
    /// never sampled (shown with real ones), and status says so, WARNING for a rule that
    /// untracks some connections or all of one family's, CRITICAL when none is left.
    @Test func rulesThatKeepConnectionsOutOfConntrackAreSaid() throws {
        let lab = try Lab(index: 74)
        defer { lab.close() }
        let config = try configure(lab, group: 5074)
        let run = try lab.spawn([sampler, "run", "--install-rules", "--config", config, "--metrics", "none"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5074") }, "\(lab.read("run.log"))")
        let fine = try status(lab, config)
        #expect(fine.status == 0, "\(fine.stdout)")

        try lab.run(["iptables", "-w", "-t", "raw", "-A", "PREROUTING", "-p", "tcp", "--dport", "8080", "-j", "CT", "--notrack"], in: lab.server)
        for port in [8080, 8081] {
            // A SYN to a closed port: the server's RST ends the connection at once.
            try lab.run(["python3", "-c", "import socket; s = socket.socket(); s.settimeout(2); s.connect_ex(('\(lab.serverV4)', \(port)))"],
                        in: lab.client)
        }
        try #require(lab.wait(seconds: 10) { lab.read("records.jsonl").contains("\"dport\":8081") }, "\(lab.read("records.jsonl"))")
        #expect(!lab.read("records.jsonl").contains("\"dport\":8080"), "an untracked connection was sampled: \(lab.read("records.jsonl"))")
        let some = try status(lab, config)
        #expect(some.status == 1, "\(some.stdout)")
        #expect(some.stdout.contains("IPv4: a rule keeps some TCP connections out of conntrack, and those are never sampled: '"), "\(some.stdout)")
        #expect(some.stdout.contains("8080"), "\(some.stdout)")
        // Where it is, and how to list it there (nft lists iptables-nft's raw table too).
        #expect(some.stdout.contains("chain PREROUTING (nft -a list chain ip raw PREROUTING)")
                || some.stdout.contains("raw table, chain PREROUTING (iptables -t raw -S PREROUTING)"), "\(some.stdout)")

        try lab.run(["ip6tables", "-w", "-t", "raw", "-A", "PREROUTING", "-j", "NOTRACK"], in: lab.server)
        // (Once, in a first run after boot, nft listed the new table a moment late: the
        // kernel loading its module, maybe. Wait for the state rather than ask once.)
        // Every IPv6 connection untracked: IPv4's are still sampled, a WARNING (a trial: CRITICAL).
        var v6 = try status(lab, config)
        #expect(lab.wait(seconds: 5) { v6 = (try? status(lab, config)) ?? v6; return v6.stdout.contains("IPv6: a rule keeps every") }, "\(v6.stdout)")
        #expect(v6.status == 1, "\(v6.stdout)")
        #expect(v6.stdout.contains("IPv6: a rule keeps every IPv6 TCP connection out of conntrack, so none of them is sampled (IPv4 ones are)"), "\(v6.stdout)")
        // Both families' untracked: nothing is sampled.
        try lab.run(["iptables", "-w", "-t", "raw", "-A", "PREROUTING", "-j", "NOTRACK"], in: lab.server)
        var all = try status(lab, config)
        #expect(lab.wait(seconds: 5) { all = (try? status(lab, config)) ?? all; return all.status == 2 }, "\(all.stdout)")
        #expect(all.stdout.contains("IPv6: a rule keeps every TCP connection out of conntrack, so none is sampled"), "\(all.stdout)")
        #expect(all.stdout.contains("IPv4: a rule keeps every TCP connection out of conntrack, so none is sampled"), "\(all.stdout)")
        var json = try status(lab, config, ["--json"])
        #expect(lab.wait(seconds: 5) {
            json = (try? status(lab, config, ["--json"])) ?? json
            return json.stdout.contains("\"covers_every_connection\" : true")
        }, "\(json.stdout)")
        lab.stop(run)
    }

    /// Monitoring without root, as NRPE or an Icinga agent runs: a member of the status
    /// socket's group (here nogroup, 65534, so that the test creates no group on the host)
    /// gets the status, judged by the daemon's own check of its rules; anyone else is
    /// refused by the socket's mode.
    @Test func aMemberOfTheSocketsGroupGetsTheStatusWithoutRoot() throws {
        let lab = try Lab(index: 70)
        defer { lab.close() }
        let config = try configure(lab, group: 5070)
        try "\nstatus_socket_group = 65534\n".append(to: config)
        let run = try lab.spawn([sampler, "run", "--install-rules", "--config", config, "--metrics", "none"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5070") }, "\(lab.read("run.log"))")
        func asUser(gid: Int) throws -> Subprocess.Result {
            try lab.run(["setpriv", "--reuid=65534", "--regid=\(gid)", "--clear-groups", sampler, "status", "--config", config],
                        in: lab.server, allowFailure: true)
        }
        var member = try asUser(gid: 65534)
        #expect(lab.wait(seconds: 5) { member = (try? asUser(gid: 65534)) ?? member; return member.status == 0 }, "\(member.stdout)\(member.stderr)")
        #expect(member.stdout.hasPrefix("SAMPLER OK - group 5070"), "\(member.stdout)")
        #expect(member.stdout.contains("rules: not checked (not root: the daemon's own check of its rules stands in)"), "\(member.stdout)")
        #expect(member.stdout.contains("rules upkeep: present"), "\(member.stdout)")
        let outsider = try asUser(gid: 65533)
        #expect(outsider.status == 3, "\(outsider.stdout)")
        #expect(outsider.stdout.contains("Permission denied"), "\(outsider.stdout)")
        #expect(outsider.stdout.contains("a member of the socket's group (nogroup)"), "\(outsider.stdout)")
        // Removing the rules of a daemon that repairs them: said, with how to stop sampling.
        let removed = try lab.run([sampler, "rules", "remove", "--config", "/dev/null", "--family", "4",
                                   "--status-socket", lab.file("run/status.sock").path], in: lab.server)
        #expect(removed.stderr.contains("is running and reinstalls its rules when they vanish"), "\(removed.stderr)")
        lab.stop(run)
        #expect(run.wait() == 0)
    }

    /// The README's quick path: rules installed by hand with probability 1, a daemon
    /// started with a configuration that does not set it. The daemon works with the rules
    /// it found, and status judges the kernel against the daemon: OK. A file that says
    /// otherwise than the daemon is a WARNING naming the key; a status asked from another
    /// network namespace says so instead of reading that namespace's rules.
    @Test func theQuickPathIsOKAndADifferentFileOrNamespaceIsSaid() throws {
        let lab = try Lab(index: 37)
        defer { lab.close() }
        // A configuration that sets no rule parameter but the group: its own records file
        // and status socket, named after it.
        func configuration(_ name: String, group: Int) throws -> String {
            let path = lab.file("\(name).conf").path
            try """
                group = \(group)
                output = \(lab.file("\(name).jsonl").path)
                status_socket = \(lab.file("run/\(name).sock").path)
                metrics = none
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let config = try configuration("quick", group: 5037)
        try lab.run([sampler, "rules", "install", "--config", config, "--probability", "1"], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5037") }, "\(lab.read("run.log"))")
        let ok = try status(lab, config)
        #expect(ok.status == 0, "\(ok.stdout)")
        // rules show prints what is in the kernel, and how it differs from the options.
        let shown = try lab.run([sampler, "rules", "show", "--config", config, "--family", "4"], in: lab.server)
        #expect(shown.stdout.contains("--probability 1.0") || shown.stdout.contains("--probability 1 "), "\(shown.stdout)")
        #expect(shown.stdout.contains("differs from the options: IPv4: probability is 1.0, expected 0.0001"), "\(shown.stdout)")

        // conntrack's table, as the daemon reads it in its namespace, follows the
        // connections made there (a new namespace starts with an empty table).
        // (A SYN to a closed port leaves no entry: the RST ends it. So: open connections.)
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        let holder = try lab.spawn(["python3", "-c", """
            import socket, sys, time
            held = [socket.create_connection((sys.argv[1], 8080)) for _ in range(40)]
            print("open", flush=True)
            time.sleep(30)
            """, lab.serverV4], in: lab.client, log: "holder.log")
        try #require(lab.wait(seconds: 10) { lab.read("holder.log").contains("open") })
        let json = try status(lab, config, ["--json"])
        lab.stop(holder)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let conntrack = try #require((object["daemon"] as? [String: Any])?["conntrack"] as? [String: Any], "\(json.stdout)")
        #expect((40...45).contains(conntrack["entries"] as? Int ?? 0), "\(conntrack)")
        #expect((conntrack["maximum"] as? Int ?? 0) > 0 && conntrack["drops"] as? Int == 0, "\(conntrack)")

        let edited = lab.file("edited.conf").path
        try (String(contentsOfFile: config, encoding: .utf8) + "\nprobability = 0.5\n").write(toFile: edited, atomically: true, encoding: .utf8)
        let drift = try status(lab, edited)
        #expect(drift.status == 1, "\(drift.stdout)")
        #expect(drift.stdout.contains("the configuration sets probability = 0.5 but the running daemon uses 1.0: either set probability = 1.0 in the file, to keep what runs, or restart sampler"),
                "\(drift.stdout)")

        // A daemon that reads another group than the kernel's rules log to samples
        // nothing: CRITICAL, and its log says so at the start.
        let other = try configuration("other", group: 5038)
        let elsewhere = try lab.spawn([sampler, "run", "--config", other], in: lab.server, log: "other.log")
        try #require(lab.wait(seconds: 10) { lab.read("other.log").contains("reading NFLOG group 5038") }, "\(lab.read("other.log"))")
        #expect(lab.read("other.log").contains("the kernel's rules (IPv4) log to NFLOG group 5037, but this daemon reads group 5038"),
                "\(lab.read("other.log"))")
        let nothing = try status(lab, other)
        #expect(nothing.status == 2, "\(nothing.stdout)")
        #expect(nothing.stdout.contains("NFLOG group is 5037, expected 5038"), "\(nothing.stdout)")
        lab.stop(elsewhere)

        let away = try lab.run([sampler, "status", "--config", config], in: lab.client, allowFailure: true)
        #expect(away.status == 3, "\(away.stdout)")
        #expect(away.stdout.contains("the daemon runs in another network namespace"), "\(away.stdout)")
        lab.stop(run)
        try lab.run([sampler, "rules", "remove", "--config", config], in: lab.server)
    }
}

extension String {
    /// Appends to a file that exists.
    func append(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
