import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The nftables backend and the daemon's upkeep of its rules, through the kernel in
/// namespaces: sampler's own table beside other tables, the refusal to install both
/// backends' rules, and a firewall reload during `run` repaired within seconds.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces and nftables: run as root (CI does)"))
struct NftablesRulesTests {
    let sampler = samplerBinary().path

    func ruleset(_ lab: Lab) throws -> String { try lab.run(["nft", "list", "ruleset"], in: lab.server).stdout }

    @Test func installTwiceAndRemoveLeaveTheRulesetAsItWas() throws {
        let lab = try Lab(index: 63)
        defer { lab.close() }
        // Somebody else's table, and somebody else's iptables-nft rule in mangle.
        try lab.run(["nft", "-f", "-"], in: lab.server, input: """
            table inet filter {
                chain input { type filter hook input priority 0; policy accept; tcp dport 22 counter accept; }
            }
            """)
        try lab.run(["iptables-nft", "-t", "mangle", "-A", "PREROUTING", "-p", "udp", "--dport", "53", "-j", "MARK", "--set-mark", "7"], in: lab.server)
        let before = try ruleset(lab)
        let rules = [sampler, "rules"], options = ["--config", "/dev/null", "--backend", "nftables"]

        let missing = try lab.run(rules + ["check"] + options, in: lab.server, allowFailure: true)
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("IPv4: table inet sampler is missing: run 'sampler rules install --backend nftables'"), "\(missing.stdout)")
        // No iptables where nft is (iptables hidden in a mount namespace of its own): the
        // iptables backends point at nftables, which is there.
        let noIptables = try lab.run(["unshare", "-m", "sh", "-c", "mount --bind /dev/null \"$(readlink -f /usr/sbin/iptables)\" && exec \"$0\" rules check --config /dev/null",
                                      sampler], in: lab.server, allowFailure: true)
        #expect(noIptables.status == 2 && noIptables.stderr.contains("iptables not found: use nftables, which is here (--backend nftables"),
                "\(noIptables.stderr)")

        try lab.run(rules + ["install"] + options, in: lab.server)
        try lab.run(rules + ["install"] + options, in: lab.server)  // twice: still one table
        let table = try lab.run(["nft", "list", "table", "inet", "sampler"], in: lab.server).stdout
        #expect(table.components(separatedBy: "ct label set 42 counter").count - 1 == 1, "\(table)")
        // nftables' own syntax, with the probability at xt_statistic's resolution.
        #expect(table.contains("meta random & 2147483647 < 214748 ct label set 42 counter packets 0 bytes 0"), "\(table)")
        #expect(table.contains("ct label 42 ct original packets < 11 counter packets 0 bytes 0 log prefix \"sampler\" group 5"), "\(table)")
        #expect(try lab.run(rules + ["check"] + options, in: lab.server).stdout.contains("OK"))
        #expect(try ruleset(lab).hasPrefix(before), "the other tables come first, untouched")

        // Other values replace the rules in one transaction; check names what differs.
        try lab.run(rules + ["install", "--probability", "0.123456789", "--group", "9"] + options, in: lab.server)
        let differs = try lab.run(rules + ["check"] + options, in: lab.server, allowFailure: true)
        #expect(differs.status == 1)
        #expect(differs.stdout.contains("probability is 0.123456789, expected 0.0001"), "not rounded to 1/10,000: \(differs.stdout)")
        #expect(differs.stdout.contains("NFLOG group is 9, expected 5"), "\(differs.stdout)")
        let show = try lab.run(rules + ["show", "--group", "9", "--probability", "0.123456789"] + options, in: lab.server)
        #expect(show.stdout.contains("table inet sampler {") && show.stdout.contains("counter packets"), "\(show.stdout)")

        #expect(try lab.run(rules + ["remove"] + options, in: lab.server).stdout.contains("removed table inet sampler"))
        #expect(try ruleset(lab) == before)
        #expect(try lab.run(rules + ["remove"] + options, in: lab.server).stdout.contains("nothing to remove"))
        // A table that samples IPv4 only: remove names IPv4 alone, and so does its dry run.
        try lab.run(rules + ["install", "--family", "4"] + options, in: lab.server)
        let dry = try lab.run(rules + ["remove", "--dry-run"] + options, in: lab.server).stdout
        #expect(dry.contains("IPv4: would delete table inet sampler") && dry.contains("IPv6: nothing to remove"), "\(dry)")
        let onlyV4 = try lab.run(rules + ["remove"] + options, in: lab.server).stdout
        #expect(onlyV4.contains("IPv4: removed table inet sampler") && onlyV4.contains("IPv6: nothing to remove"), "\(onlyV4)")
        #expect(try ruleset(lab) == before)

        // The daemon's own install at start and removal at stop.
        let run = try lab.spawn([sampler, "run", "--install-rules", "--group", "5063", "--output", lab.file("r.jsonl").path,
                                 "--status-socket", lab.file("status.sock").path, "--metrics", "none"] + options,
                                in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        #expect(lab.read("run.log").contains("installed the rules in table inet sampler"), "\(lab.read("run.log"))")
        #expect(try lab.run(["nft", "list", "table", "inet", "sampler"], in: lab.server).stdout.contains("group 5063"))
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
        #expect(try ruleset(lab) == before)
    }

    @Test func refusesToInstallBesideTheOtherBackendsRulesAndNamesThem() throws {
        let lab = try Lab(index: 64)
        defer { lab.close() }
        let rules = [sampler, "rules"]
        try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "nft"], in: lab.server)
        let refused = try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "nftables"], in: lab.server, allowFailure: true)
        #expect(refused.status == 2)
        // Both versions, with the one command that removes them (a trial: it named IPv4's only).
        #expect(refused.stderr.contains("sampler's iptables rules for IPv4 and IPv6 (chain mangle/SAMPLER, iptables-nft) are installed"), "\(refused.stderr)")
        #expect(refused.stderr.contains("'sampler rules remove --backend nft'"), "\(refused.stderr)")
        #expect(try lab.run(["nft", "list", "tables"], in: lab.server).stdout.contains("inet sampler") == false)

        try lab.run(rules + ["remove", "--config", "/dev/null", "--backend", "nft"], in: lab.server)
        try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "legacy", "--family", "4"], in: lab.server)
        let legacy = try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "nftables"], in: lab.server, allowFailure: true)
        #expect(legacy.status == 2)
        #expect(legacy.stderr.contains("(chain mangle/SAMPLER, iptables-legacy) are installed"), "\(legacy.stderr)")
        // Each command's word for that, not only install's (a trial): check advises the
        // install that would be taken, the dry runs say what the real ones would.
        let checkFree = try lab.run(rules + ["check", "--config", "/dev/null", "--backend", "nftables"], in: lab.server, allowFailure: true)
        #expect(checkFree.status == 1 && checkFree.stdout.contains("IPv6: table inet sampler is missing: run 'sampler rules install --backend nftables --family 6'"),
                "\(checkFree.stdout)")
        let dryInstall = try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "nftables", "--dry-run"], in: lab.server)
        #expect(dryInstall.stdout.hasPrefix("# sampler's sampling rules") && dryInstall.stderr.contains("installing these now is refused: "
            + "sampler's iptables rules for IPv4 (chain mangle/SAMPLER, iptables-legacy) are installed: remove them first with"), "\(dryInstall.stderr)")
        let dryRemove = try lab.run(rules + ["remove", "--config", "/dev/null", "--backend", "nftables", "--dry-run"], in: lab.server)
        #expect(dryRemove.stdout == "IPv4, IPv6: nothing of this backend's, but sampler's iptables rules for IPv4 (chain mangle/SAMPLER, iptables-legacy) "
            + "are installed: remove them with 'sampler rules remove --backend legacy --family 4'\n", "\(dryRemove.stdout)")
        try lab.run(rules + ["remove", "--config", "/dev/null", "--backend", "legacy", "--family", "4"], in: lab.server)

        // The other way round, and check calls the pair breaking.
        try lab.run(rules + ["install", "--config", "/dev/null", "--backend", "nftables"], in: lab.server)
        let iptables = try lab.run(rules + ["install", "--config", "/dev/null"], in: lab.server, allowFailure: true)
        #expect(iptables.status == 2)
        #expect(iptables.stderr.contains("sampler's nftables table (table inet sampler) is installed"), "\(iptables.stderr)")
        #expect(!(try lab.run(["iptables-nft", "-t", "mangle", "-S"], in: lab.server).stdout.contains("SAMPLER")))
        // run --install-rules is refused the same way, with the same status (a trial: 1).
        let daemon = try lab.run(["timeout", "20", sampler, "run", "--install-rules", "--config", "/dev/null", "--group", "5064", "--output", "-",
                                  "--status-socket", lab.file("run.sock").path, "--metrics", "none"], in: lab.server, allowFailure: true)
        #expect(daemon.status == 2 && daemon.stderr.contains("cannot install the rules: sampler's nftables table (table inet sampler) is installed"),
                "\(daemon.status): \(daemon.stderr)")
        let check = try lab.run(rules + ["check", "--config", "/dev/null"], in: lab.server, allowFailure: true)
        #expect(check.status == 1)
        #expect(check.stdout.contains("IPv4: no rules in chain mangle/SAMPLER, but sampler's nftables table (table inet sampler) is installed"), "\(check.stdout)")
        #expect(check.stdout.contains("(to check those: --backend nftables"), "\(check.stdout)")
        // The other tools say where the rules are, rather than that there are none.
        let remove = try lab.run(rules + ["remove", "--config", "/dev/null"], in: lab.server)
        #expect(remove.stdout.contains("nothing of this backend's, but sampler's nftables table (table inet sampler) is installed: "
            + "remove it with 'sampler rules remove --backend nftables'\n"), "\(remove.stdout)")
        // Each command's own advice (a trial: remove and check were told to 'remove it first, or install').
        #expect(!check.stdout.contains("first") && !remove.stdout.contains("install with"), "\(check.stdout)\(remove.stdout)")
        let show = try lab.run(rules + ["show", "--config", "/dev/null"], in: lab.server)
        #expect(show.stdout == "# nothing of this backend's, but sampler's nftables table (table inet sampler) is installed: to show those, --backend nftables\n",
                "once, with the flag that shows them, and no 'would install' (install refuses): \(show.stdout)")
        let down = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", lab.file("none.sock").path], in: lab.server, allowFailure: true)
        #expect(down.status == 2 && down.stdout.contains("sampler's nftables table (table inet sampler) is installed"), "\(down.stdout)")
        #expect(!down.stdout.contains("no sampler rules are left"), "\(down.stdout)")

        // With both sets in the kernel (put there by hand), check calls the pair breaking.
        try lab.run(["iptables-nft-restore", "--noflush"], in: lab.server, input: "*mangle\n:SAMPLER - [0:0]\n-A SAMPLER -j RETURN\nCOMMIT\n")
        try lab.run(["iptables-nft", "-t", "mangle", "-A", "PREROUTING", "-m", "comment", "--comment", "sampler: sample new inbound TCP connections", "-j", "SAMPLER"], in: lab.server)
        let both = try lab.run(rules + ["check", "--config", "/dev/null"], in: lab.server, allowFailure: true)
        #expect(both.status == 1)
        #expect(both.stdout.contains("every sampled packet is logged twice"), "\(both.stdout)")
    }

    /// One table holds both versions' rules: `--family` removes it whole only when it
    /// samples nothing else, and check says what a one-version table samples (a trial:
    /// `remove --family 4` removed an IPv6 table and said "IPv4: removed").
    @Test func oneVersionOfTheTableIsNotRemovedAlone() throws {
        let lab = try Lab(index: 78)
        defer { lab.close() }
        let rules = [sampler, "rules"], options = ["--config", "/dev/null", "--backend", "nftables"]
        try lab.run(rules + ["install"] + options + ["--family", "6"], in: lab.server)
        // The other backend's rules for the other version log nothing twice: iptables may
        // sample IPv4 beside it, and neither check calls the pair breaking (a trial); for
        // the same version, install is refused.
        let iptables = ["--config", "/dev/null", "--backend", "nft"]
        let beside = try lab.run(rules + ["install"] + iptables + ["--family", "4"], in: lab.server, allowFailure: true)
        #expect(beside.status == 0, "\(beside.stderr)")
        let checkBeside = try lab.run(rules + ["check"] + iptables + ["--family", "4"], in: lab.server, allowFailure: true)
        #expect(checkBeside.status == 0 && !checkBeside.stdout.contains("twice"), "\(checkBeside.stdout)")
        let checkTable = try lab.run(rules + ["check"] + options + ["--family", "6"], in: lab.server, allowFailure: true)
        #expect(checkTable.status == 0 && !checkTable.stdout.contains("twice"), "\(checkTable.stdout)")
        let same = try lab.run(rules + ["install"] + iptables + ["--family", "6"], in: lab.server, allowFailure: true)
        #expect(same.status == 2 && same.stderr.contains("sampler's nftables table (table inet sampler) is installed"), "\(same.stderr)")
        try lab.run(rules + ["remove"] + iptables + ["--family", "4"], in: lab.server)
        let other = try lab.run(rules + ["remove"] + options + ["--family", "4"], in: lab.server)
        #expect(other.stdout == "IPv4: nothing to remove\n", "\(other.stdout)")
        #expect(try lab.run(["nft", "list", "tables"], in: lab.server).stdout.contains("table inet sampler"), "the IPv6 table stays")
        let check = try lab.run(rules + ["check"] + options + ["--family", "4"], in: lab.server, allowFailure: true)
        #expect(check.status == 1 && check.stdout.contains("IPv4: table inet sampler samples IPv6 only (installed with --family 6): "
            + "to sample both, run 'sampler rules install --backend nftables'"), "\(check.stdout)")
        // Installing one version replaces the other's rules in the one table: said.
        let replacing = try lab.run(rules + ["install"] + options + ["--family", "4"], in: lab.server)
        #expect(replacing.stdout.contains("IPv6: no longer sampled: table inet sampler held its rules, and holds only IPv4's now"), "\(replacing.stdout)")
        try lab.run(rules + ["install"] + options, in: lab.server)
        let partial = try lab.run(rules + ["remove"] + options + ["--family", "4"], in: lab.server, allowFailure: true)
        #expect(partial.status == 2 && partial.stderr.contains("table inet sampler samples IPv6 too, in the same table: remove it whole"), "\(partial.stderr)")
        #expect(try lab.run(["nft", "list", "tables"], in: lab.server).stdout.contains("table inet sampler"), "refused: nothing removed")
        let whole = try lab.run(rules + ["remove"] + options, in: lab.server)
        #expect(whole.stdout == "IPv4, IPv6: removed table inet sampler\n", "\(whole.stdout)")
    }

    /// Rules installed with --backend nftables and a daemon started without it (backend
    /// auto, iptables): the table feeds the daemon, so status is not CRITICAL "missing"
    /// (whose advice, installing them again, would log every packet twice); the log and
    /// status say where the rules are and to restart with their backend (found by a trial).
    @Test func rulesOfTheOtherBackendAreSaidNotMissing() throws {
        let lab = try Lab(index: 76)
        defer { lab.close() }
        let group = 5076
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--backend", "nftables", "--probability", "1", "--group", String(group)],
                    in: lab.server)
        let socket = lab.file("status.sock").path
        let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", String(group), "--output", lab.file("records.jsonl").path,
                                 "--status-socket", socket, "--metrics", "none", "--idle-timeout", "1"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("sampler's rules are not where this daemon looks (backend auto), but sampler's nftables table") },
                "\(lab.read("run.log"))")
        #expect(!lab.read("run.log").contains("nothing is sampled until they are installed"), "\(lab.read("run.log"))")
        // The table feeds the daemon: a SYN arrives.
        try lab.run(["timeout", "20", "hping3", "-S", "-p", "8080", "-c", "1", "-q", lab.serverV4], in: lab.client, allowFailure: true)
        func status() throws -> Subprocess.Result {
            try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket], in: lab.server, allowFailure: true)
        }
        #expect(lab.wait(seconds: 5) { (try? status())?.stdout.contains("nflog: group \(group), 0 messages") == false }, "\((try? status())?.stdout ?? "")")
        let verdict = try status()
        #expect(verdict.status == 1, "\(verdict.stdout)")
        #expect(verdict.stdout.contains("sampler's rules are not where the daemon looks (backend auto), but sampler's nftables table"), "\(verdict.stdout)")
        #expect(!verdict.stdout.contains("sampler's rules are missing"), "\(verdict.stdout)")
        // status reads the daemon's backend: another one given would judge it by rules it
        // does not keep (a trial: the warning blamed the daemon's backend for the flag's).
        let otherTools = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket, "--backend", "nftables"],
                                     in: lab.server, allowFailure: true)
        #expect(otherTools.status == 3 && otherTools.stdout.hasPrefix("SAMPLER UNKNOWN - --backend nftables: the daemon works with backend auto (iptables-nft here)"),
                "\(otherTools.stdout)")
        // auto is iptables-nft here (Debian's alternative): legacy is other tools too.
        let legacy = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket, "--backend", "legacy"],
                                 in: lab.server, allowFailure: true)
        #expect(legacy.status == 3 && legacy.stdout.hasPrefix("SAMPLER UNKNOWN - --backend legacy: the daemon works with backend auto (iptables-nft here)"),
                "\(legacy.stdout)")
        // Rules not read, tools not used: the daemon is judged, not the flag (a trial: UNKNOWN).
        let skipped = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket, "--backend", "nftables", "--skip-rules"],
                                  in: lab.server, allowFailure: true)
        #expect(skipped.status != 3 && !skipped.stdout.contains("the daemon works with backend"), "\(skipped.stdout)")
        let sameTools = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket, "--backend", "nft"],
                                    in: lab.server, allowFailure: true)
        #expect(sameTools.status == 1 && sameTools.stdout.contains("sampler's rules are not where the daemon looks"), "\(sameTools.stdout)")
        // The table removed, the daemon says its rules are not installed, no longer that
        // they are elsewhere (a trial: the old text stayed).
        try lab.run([sampler, "rules", "remove", "--config", "/dev/null", "--backend", "nftables"], in: lab.server)
        #expect(lab.wait(seconds: 15) { lab.read("run.log").contains("the rules are not installed: run '") }, "\(lab.read("run.log"))")
        let gone = try status()
        #expect(gone.status == 2 && !gone.stdout.contains("not where the daemon looks"), "\(gone.stdout)")
        lab.stop(run)
    }

    /// `nft flush ruleset` (what reloading Debian's /etc/nftables.conf does) and
    /// `iptables -t mangle -F` while `run` samples: repaired within seconds, counted, said by
    /// status as a WARNING for the window, and the records after it are whole. Rules changed
    /// on purpose are left alone.
    @Test(arguments: ["nftables", "auto"])
    func aFirewallReloadCostsSecondsOfSample(backend: String) throws {
        let lab = try Lab(index: backend == "nftables" ? 65 : 66)
        defer { lab.close() }
        let group = backend == "nftables" ? 5065 : 5066
        let config = lab.file("sampler.conf").path
        try """
            probability = 1
            group = \(group)
            backend = \(backend)
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("status.sock").path)
            metrics = 127.0.0.1:9731
            idle_timeout = 1
            rules_check_interval = 1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func status() throws -> Subprocess.Result { try lab.run([sampler, "status", "--config", config], in: lab.server, allowFailure: true) }

        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        #expect(lab.wait(seconds: 5) { (try? status())?.status == 0 }, "\((try? status())?.stdout ?? "")")

        let resets = backend == "nftables" ? ["nft", "flush", "ruleset"] : ["iptables", "-t", "mangle", "-F"]
        try lab.run(resets, in: lab.server)
        // Within a check interval or two the rules are back, in one log line.
        #expect(lab.wait(seconds: 6) { lab.read("run.log").contains("reinstalled the rules") }, "\(lab.read("run.log"))")
        #expect(lab.read("run.log").contains("sampler's rules vanished from the kernel"), "\(lab.read("run.log"))")
        #expect(try lab.run([sampler, "rules", "check", "--config", config], in: lab.server).stdout.contains("OK"))
        let after = try status()
        #expect(after.status == 1, "\(after.stdout)")
        #expect(after.stdout.contains("sampler's rules went missing after"), "\(after.stdout)")
        #expect(after.stdout.contains("this window's sample has a gap"), "\(after.stdout)")
        let metrics = try lab.run(["curl", "-s", "http://127.0.0.1:9731/metrics"], in: lab.server).stdout
        #expect(metrics.contains("sampler_rules_repairs_total 1\n"), "\(metrics)")
        #expect(metrics.contains("sampler_rules_present 1\n"), "\(metrics)")

        // The records after the repair are right: every scenario, both families.
        let client = ["python3", "-c", Traffic.client]
        try lab.run(client + [lab.serverV4, "4", "41000", "rest"], in: lab.client)
        try lab.run(client + [lab.serverV6, "6", "43000", "rest"], in: lab.client)
        #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").split(separator: "\n").count >= 10 }, "\(lab.read("records.jsonl"))")

        // Changed on purpose: complete rules with another probability stay as they are.
        try lab.run([sampler, "rules", "install", "--config", config, "--probability", "0.5"], in: lab.server)
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("the rules were changed on purpose") }, "\(lab.read("run.log"))")
        #expect(try lab.run([sampler, "rules", "check", "--config", config, "--probability", "0.5"], in: lab.server).stdout.contains("OK"))

        lab.stop(run)
        #expect(run.wait() == 0)
        let stopLine = lab.read("run.log").split(separator: "\n").last { $0.contains("sampler: stopped;") } ?? ""
        #expect(stopLine.contains("s in all (reinstalled 1 time)"), "\(stopLine)")

        var byPort: [Int: [String: Any]] = [:]
        for line in lab.read("records.jsonl").split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            byPort[record["sport"] as! Int] = record
        }
        for (family, base) in [(4, 41000), (6, 43000)] {
            for (offset, want) in RealCaptureTests.expected where offset != 0 {
                let record = try #require(byPort[base + offset], "no record for IPv\(family) scenario \(offset) after the repair")
                #expect(record["stage"] as? String == want.stage, "IPv\(family) scenario \(offset): \(record)")
                #expect(record["close"] as? String == want.close, "IPv\(family) scenario \(offset): \(record)")
                #expect(record["tags"] as? [String] == want.tags, "IPv\(family) scenario \(offset): \(record)")
            }
        }
    }

    /// With repair off the daemon only watches: the rules stay missing, and status is
    /// CRITICAL however it is asked (with root, reading them; without, from the daemon).
    @Test func withRepairOffMissingRulesStayMissingAndStatusIsCritical() throws {
        let lab = try Lab(index: 67)
        defer { lab.close() }
        let socket = lab.file("status.sock").path
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--backend", "nftables", "--probability", "1", "--group", "5067"], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--backend", "nftables", "--group", "5067", "--output", lab.file("r.jsonl").path,
                                 "--status-socket", socket, "--metrics", "none", "--repair-rules", "false", "--rules-check-interval", "1"],
                                in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        try lab.run(["nft", "delete", "table", "inet", "sampler"], in: lab.server)
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("repair_rules is false, so they stay missing") }, "\(lab.read("run.log"))")
        usleep(1_500_000)
        #expect(!(try lab.run(["nft", "list", "tables"], in: lab.server).stdout.contains("sampler")))
        let asRoot = try lab.run([sampler, "status", "--config", "/dev/null", "--backend", "nftables", "--status-socket", socket], in: lab.server, allowFailure: true)
        #expect(asRoot.status == 2, "\(asRoot.stdout)")
        #expect(asRoot.stdout.contains("table inet sampler is missing"), "\(asRoot.stdout)")
        let skipped = try lab.run([sampler, "status", "--config", "/dev/null", "--status-socket", socket, "--skip-rules"], in: lab.server, allowFailure: true)
        #expect(skipped.status == 2, "\(skipped.stdout)")
        #expect(skipped.stdout.contains("the daemon's last check found its rules missing"), "\(skipped.stdout)")
        #expect(skipped.stdout.contains("; repair off (repair_rules is false)"), "\(skipped.stdout)")
        // The advice puts back the daemon's own rules, not the defaults.
        let json = try lab.run([sampler, "status", "--json", "--config", "/dev/null", "--status-socket", socket, "--skip-rules"], in: lab.server, allowFailure: true)
        #expect(json.stdout.contains("sampler rules install --backend nftables --group 5067 --probability 1"), "\(json.stdout)")
        lab.stop(run)
    }
}
