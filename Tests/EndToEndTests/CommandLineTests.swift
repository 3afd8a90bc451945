import Foundation
import SamplerSubprocess
import Testing

/// The built binary's command line, with no root needed: configuration handling, flag
/// overrides, and what it prints on bad input.
@Suite struct CommandLineTests {
    let sampler = samplerBinary().path
    /// The repository, for the fixture and scripts/.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-cli-\(getpid())-\(UUID().uuidString).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func flagsOverrideTheConfigurationFile() throws {
        let file = try write("group = 9\nprobability = 0.5\n")
        defer { unlink(file) }
        let result = try Subprocess.run([sampler, "rules", "install", "--dry-run", "--family", "4", "--config", file, "--probability", "0.25"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("--probability 0.25 "))  // the flag
        #expect(result.stdout.contains("--nflog-group 9 "))  // the file
    }

    /// `sampler report` with no file, typed at a terminal (script(1) gives it one): the
    /// records this host's daemon writes, the configured output, in the configured window;
    /// relative times select from now.
    @Test(.enabled(if: Subprocess.find("script") != nil, "needs script(1), from util-linux"))
    func reportAtATerminalReadsTheConfiguredOutput() throws {
        let records = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-cli-\(getpid())-records.jsonl").path
        defer { unlink(records) }
        var now = Date()
        let stamp = ISO8601DateFormatter().string(from: now.addingTimeInterval(-600)).replacingOccurrences(of: "Z", with: ".000000Z")
        now = now.addingTimeInterval(-3 * 86_400)
        let old = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: "Z", with: ".000000Z")
        try """
            {"first_seen":"\(stamp)","finalized":"\(stamp)","src":"192.0.2.1","dport":443,"stage":"post_syn","close":"timeout","tags":["timeout"]}
            {"first_seen":"\(old)","finalized":"\(old)","src":"192.0.2.2","dport":443,"stage":"none","close":"fin","tags":[]}

            """.write(toFile: records, atomically: true, encoding: .utf8)
        let file = try write("output = \(records)\nwindow = 60\n")
        defer { unlink(file) }
        let typed = try Subprocess.run(["script", "-qec", "\(sampler) report --config \(file) --since -1d", "/dev/null"])
        #expect(typed.status == 0, "\(typed.stdout)")
        #expect(typed.stdout.contains("reading \(records) (the configured output"), "\(typed.stdout)")
        #expect(typed.stdout.contains("1 connection"), "the one of the last day only: \(typed.stdout)")
        #expect(typed.stdout.contains("resets  timeouts"), "\(typed.stdout)")
        let all = try Subprocess.run([sampler, "report", "--config", file, records, "--as", "json"])
        #expect(all.stdout.contains("\"connections\":2"), "\(all.stdout)")
        #expect(all.stdout.contains("\"window_seconds\":60"), "the configured window: \(all.stdout)")
        #expect(all.stdout.contains("\"lines_not_records\":0"), "\(all.stdout)")
        // A line that is not a record: said on standard error, exit status 1, and counted
        // in the JSON a script reads, in both views.
        let broken = records + ".broken"
        defer { unlink(broken) }
        try (String(contentsOfFile: records, encoding: .utf8) + "{\"first_seen\":\n").write(toFile: broken, atomically: true, encoding: .utf8)
        for view in [[], ["--format", "radar"]] {
            let partial = try Subprocess.run([sampler, "report", "--config", file, broken, "--as", "json"] + view)
            #expect(partial.status == 1 && partial.stderr.contains("1 line is not a record"), "\(partial.stderr)")
            #expect(partial.stdout.contains("\"lines_not_records\":1") && partial.stdout.contains("\"connections\":2"), "\(partial.stdout)")
        }
        // Several files (a file and its rotated copy) are read as one; standard input
        // among them too; each file's bad lines are said under its own name.
        let both = try Subprocess.run(["sh", "-c", "cat \(records) | \(sampler) report --config \(file) \(records) - \(broken) --as json"])
        #expect(both.status == 1 && both.stdout.contains("\"connections\":6") && both.stdout.contains("\"lines_not_records\":1"), "\(both.stdout)")
        #expect(both.stderr.contains("\(broken): 1 line is not a record"), "\(both.stderr)")
        // A compressed copy among them, told by its content: refused, and no table for half the input.
        let gz = records + ".2.gz"
        defer { unlink(gz) }
        _ = try Subprocess.run(["sh", "-c", "gzip -c \(records) > \(gz)"])
        let compressed = try Subprocess.run([sampler, "report", "--config", file, records, gz])
        #expect(compressed.status == 66 && compressed.stderr.contains("\(gz) is compressed (gzip): read it through zcat ('zcat \(gz) | sampler report -')"),
                "\(compressed.stderr)")
        #expect(compressed.stdout.isEmpty, "nothing printed for the files before the refusal: \(compressed.stdout)")
        let piped = try Subprocess.run(["sh", "-c", "gzip -c \(records) | \(sampler) report --config \(file) -"])
        #expect(piped.status == 66 && piped.stderr.contains("standard input is compressed (gzip): read it through zcat"), "\(piped.stderr)")
        for (tool, name, reader) in [("xz", "xz", "xzcat"), ("bzip2", "bzip2", "bzcat")] where Subprocess.find(tool) != nil {
            let other = try Subprocess.run(["sh", "-c", "\(tool) -c \(records) | \(sampler) report --config \(file) -"])
            #expect(other.status == 66 && other.stderr.contains("standard input is compressed (\(name)): read it through \(reader)"), "\(other.stderr)")
        }
        let bad = try Subprocess.run([sampler, "report", "--config", file, records, "--since", "last week"])
        #expect(bad.status == 64 && bad.stderr.contains("or an age such as -15m"), "\(bad.stderr)")
        // A window too large for a number says the range, as a small bad one does (a trial).
        for window in ["1e12", "99999999999999999999", "0"] {
            let badWindow = try Subprocess.run([sampler, "report", "--config", file, records, "--window", window])
            #expect(badWindow.status == 64 && badWindow.stderr.contains("--window \(window): seconds, 1 to 31622400 (a year)"), "\(badWindow.stderr)")
        }
        let minute = try Subprocess.run([sampler, "report", "--config", file, records, "--window", "60"])
        #expect(minute.status == 0 && minute.stdout.contains("window (UTC)"), "\(minute.stderr)")
        // The file's values are checked as every command checks them (a trial: window = 0
        // crashed report, which alone did not check them).
        let zero = try write("window = 0\n")
        defer { unlink(zero) }
        let badWindow = try Subprocess.run([sampler, "report", "--config", zero, records])
        #expect(badWindow.status == 78 && badWindow.stderr.contains("\(zero):1: window = 0: seconds, 1 to"), "\(badWindow.stderr)")
        // A report that cannot be written is an error, not exit 0 (a trial).
        let full = try Subprocess.run(["sh", "-c", "\(sampler) report --config \(file) \(records) > /dev/full"])
        #expect(full.status == 74 && full.stderr.contains("cannot write the report to standard output: No space left on device"), "\(full.stderr)")
        // The chart's file cannot be made: the reason, and 73, before the table.
        let chart = try Subprocess.run([sampler, "report", "--config", file, records, "--svg", "/nonexistent/stages.svg"])
        #expect(chart.status == 73 && chart.stderr.contains("cannot write the chart to /nonexistent/stages.svg: No such file or directory"),
                "\(chart.stderr)")
        #expect(chart.stdout.isEmpty, "\(chart.stdout)")
        // An empty interval is a mistake, not an empty report (a trial: it was silent).
        let backwards = try Subprocess.run([sampler, "report", "--config", file, records, "--since", "-1h", "--until", "-2h"])
        #expect(backwards.status == 64 && backwards.stderr.contains("--since '-1h' is not before --until '-2h'"), "\(backwards.stderr)")
        // An offset is another way to write the same moment.
        let utc = try Subprocess.run([sampler, "report", "--config", file, records, "--since", "2026-11-21T20:00:00Z"])
        let offset = try Subprocess.run([sampler, "report", "--config", file, records, "--since", "2026-11-21T21:00:00+01:00"])
        #expect(utc.status == offset.status && utc.stdout == offset.stdout, "\(offset.stderr)")
    }

    @Test func configCheckPrintsTheEffectiveConfiguration() throws {
        let file = try write("window = 60\n")
        defer { unlink(file) }
        let result = try Subprocess.run([sampler, "config", "check", file])
        #expect(result.status == 0)
        #expect(result.stdout.contains("window = 60\n"))
        #expect(result.stdout.contains("group = 5\n"))
    }

    @Test func badConfigurationExits78WithTheReason() throws {
        let file = try write("# ok\nidle_timeout = -3\n")
        defer { unlink(file) }
        for command in [["config", "check", file], ["run", "--config", file, "--output", "-"]] {
            let result = try Subprocess.run([sampler] + command)
            #expect(result.status == 78, "\(command)")
            // Found after reading, but still named by file and line.
            #expect(result.stderr.contains("\(file):2: idle_timeout = -3: seconds, more than 0"), "\(result.stderr)")
        }
        // A label that is neither a bit nor a name conntrack knows fails the check, not
        // the install later.
        let label = try write("label = nosuchname\n")
        defer { unlink(label) }
        let badLabel = try Subprocess.run([sampler, "config", "check", label])
        #expect(badLabel.status == 78)
        #expect(badLabel.stderr.contains("\(label):1: label = nosuchname: not a bit number (0-127) and not a name in /etc/xtables/connlabel.conf"),
                "\(badLabel.stderr)")
        // Not a regular file, but readable: /dev/null is "no settings", the defaults.
        let empty = try Subprocess.run([sampler, "config", "check", "/dev/null"])
        #expect(empty.status == 0 && empty.stdout.contains("probability = 0.0001\n"), "\(empty.stderr)")
        let missing = try Subprocess.run([sampler, "config", "check", "/nonexistent/sampler.conf"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("cannot read the configuration /nonexistent/sampler.conf"))
        // status is a monitoring plugin: the reason on its one line, UNKNOWN.
        let plugin = try Subprocess.run([sampler, "status", "--config", file, "--skip-rules"])
        #expect(plugin.status == 3 && plugin.stdout.hasPrefix("SAMPLER UNKNOWN - configuration: \(file):2: idle_timeout = -3"), "\(plugin.stdout)")
        let inverted = try Subprocess.run([sampler, "status", "--config", "/dev/null", "--skip-rules", "--warning", "post_psh=50%", "--critical", "post_psh=0.1"])
        #expect(inverted.status == 3 && inverted.stdout.hasPrefix("SAMPLER UNKNOWN - --warning post_psh=50% is above --critical post_psh=10%"), "\(inverted.stdout)")
        let relative = try Subprocess.run([sampler, "status", "--config", "/dev/null", "--status-socket", "status.sock", "--skip-rules"])
        #expect(relative.status == 3 && relative.stdout.contains("status_socket = status.sock (--status-socket): an absolute path"), "\(relative.stdout)")
    }

    /// What `run` refuses as it starts, `config check` refuses too, by file and line (a
    /// trial found it passed a password file that did not exist and a group that did not).
    @Test func configCheckRefusesWhatRunRefuses() throws {
        let password = try write("clickhouse_url = http://127.0.0.1:1\nclickhouse_password_file = /nonexistent/clickhouse.password\n")
        let group = try write("# the socket's group\nstatus_socket_group = sampler-no-such-group\n")
        let relative = try write("clickhouse_url = http://127.0.0.1:1\nclickhouse_password_file = clickhouse.password\n")
        defer { for file in [password, group, relative] { unlink(file) } }
        let noPassword = try Subprocess.run([sampler, "config", "check", password])
        #expect(noPassword.status == 78)
        #expect(noPassword.stderr.contains("\(password):2: clickhouse_password_file = /nonexistent/clickhouse.password: a readable file"),
                "\(noPassword.stderr)")
        let noGroup = try Subprocess.run([sampler, "config", "check", group])
        #expect(noGroup.status == 78)
        #expect(noGroup.stderr.contains("\(group):2: status_socket_group = sampler-no-such-group: a group that exists"), "\(noGroup.stderr)")
        // A relative name is systemd's credential: outside the service, a note, not an error.
        let credential = try Subprocess.run(["/usr/bin/env", "-u", "CREDENTIALS_DIRECTORY", sampler, "config", "check", relative])
        #expect(credential.status == 0, "\(credential.stderr)")
        #expect(credential.stderr.contains("clickhouse_password_file = clickhouse.password is relative"), "\(credential.stderr)")
        // Without clickhouse_url too (report --clickhouse-url reads it); a path that is not
        // a credential's name is no credential.
        let unused = try write("clickhouse_password_file = /nonexistent/clickhouse.password\n")
        let dotted = try write("clickhouse_password_file = ../clickhouse.password\n")
        defer { for file in [unused, dotted] { unlink(file) } }
        #expect(try Subprocess.run([sampler, "config", "check", unused]).status == 78)
        let notACredential = try Subprocess.run([sampler, "config", "check", dotted])
        #expect(notACredential.status == 78 && notACredential.stderr.contains("an absolute path, or a name without '/'"), "\(notACredential.stderr)")
        let root = try Subprocess.run(["/usr/bin/env", "CREDENTIALS_DIRECTORY=/nonexistent", sampler, "config", "check", relative])
        #expect(root.status == 78 && root.stderr.contains("/nonexistent/clickhouse.password: No such file"), "\(root.stderr)")
    }

    /// --port and --server select records, they do not change them: the packets they leave
    /// out still move the capture's clock, so a connection times out at the same time and
    /// the end of the input is the capture's (found by a trial: the fixture's port-9 SYNs
    /// were 'timeout' without the filter and 'shutdown' with it).
    @Test func aFilterSelectsRecordsWithoutChangingThem() throws {
        let fixture = root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path
        func records(_ extra: [String]) throws -> [String] {
            let result = try Subprocess.run([sampler, "classify", "--location-database", "none", "--idle-timeout", "1", fixture] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init)
        }
        let all = try records([])
        let port9 = all.filter { $0.contains("\"dport\":9,") }
        #expect(port9.count == 2 && port9.allSatisfy { $0.contains("\"close\":\"timeout\"") }, "\(port9)")
        #expect(try records(["--port", "9"]).sorted() == port9.sorted())
    }

    /// `report` given a capture says to classify it first (it said "192 lines are not a
    /// record"); a file's records are this host's for --by host, named by host_id when set
    /// (it was the machine's name whatever the configuration said). Both found by a trial.
    @Test func reportSaysWhatItWasGiven() throws {
        let fixture = root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path
        let capture = try Subprocess.run([sampler, "report", "--config", "/dev/null", fixture])
        #expect(capture.status == 65 && capture.stderr.contains("is a packet capture, not records: classify it first ('sampler classify \(fixture) | sampler report -')"),
                "\(capture.status) \(capture.stderr)")
        let records = try write(try Subprocess.run([sampler, "classify", "--location-database", "none", fixture]).stdout)
        defer { unlink(records) }
        let config = try write("host_id = web-9\n")
        defer { unlink(config) }
        let byHost = try Subprocess.run([sampler, "report", "--config", config, "--by", "host", records])
        #expect(byHost.status == 0 && byHost.stdout.contains(" web-9 "), "\(byHost.stdout)\(byHost.stderr)")
    }

    /// docs/records.md shows the summary of the committed fixture with the defaults: it
    /// stays what the command prints.
    @Test func theDocumentedSummaryIsWhatClassifyPrints() throws {
        let result = try Subprocess.run([sampler, "classify", root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path])
        #expect(result.status == 0)
        let docs = try String(contentsOf: root.appendingPathComponent("docs/records.md"), encoding: .utf8)
        #expect(!result.stderr.isEmpty && docs.contains(result.stderr.trimmingCharacters(in: .newlines)), "\(result.stderr)")
        // From a pipe, read in pieces: the same records (the fixture is smaller than a
        // piece, so tests/SamplerWireTests cut streams at every byte instead).
        let piped = try Subprocess.run(["sh", "-c", "cat \(root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path) | \(sampler) classify -"])
        let direct = try Subprocess.run([sampler, "classify", root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path])
        #expect(piped.status == 0 && piped.stdout == direct.stdout && piped.stdout.split(separator: "\n").count == 13)
        // An empty file is not a capture, and says so.
        let empty = try write("")
        defer { unlink(empty) }
        let nothing = try Subprocess.run([sampler, "classify", empty])
        #expect(nothing.status == 65 && nothing.stderr.contains(": empty: a capture starts with a header"), "\(nothing.stderr)")
        // An empty stream: what wrote it has ended without writing anything.
        let ended = try Subprocess.run(["sh", "-c", "true | \(sampler) classify -"])
        #expect(ended.status == 65 && ended.stderr.contains("empty: the stream ended before a capture header (the program writing it wrote nothing"),
                "\(ended.stderr)")
        // A header cut short is a damaged file, and the message says it is the header.
        let cut = try write("")
        defer { unlink(cut) }
        try Data([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0]).write(to: URL(fileURLWithPath: cut))
        let header = try Subprocess.run([sampler, "classify", cut])
        #expect(header.status == 1 && header.stderr.contains("its header is incomplete"), "\(header.stderr)")
    }

    /// A reader that goes away (`| head`) is no error: exit 0, and the summary still
    /// comes. SIGPIPE is set back to its default for the pipeline (the test runner
    /// ignores it, and an ignored signal stays ignored across exec), so that a classify
    /// that did not ignore it would die of it, 141, as it does from a shell.
    @Test func aReaderThatGoesAwayIsNoError() throws {
        let synthetic = try SyntheticCapture(connections: 20_000, name: "pipe")
        defer { synthetic.remove() }
        let capture = synthetic.path
        let result = try Subprocess.run(["env", "--default-signal=PIPE", "bash", "-c",
                                         "set -o pipefail; \(sampler) classify --location-database none \(capture) | head -1 > /dev/null"])
        #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("post_syn"), "the summary table: \(result.stderr)")
        // And says how many records the reader never got: some went into the pipe, the rest not.
        let said = try #require(result.stderr.firstMatch(of: /closed by its reader: (\d+) of the (\d+) records were not written/), "\(result.stderr)")
        let (notWritten, records) = (Int(said.1)!, Int(said.2)!)
        #expect(records >= 20_000 && notWritten > 0 && notWritten < records, "\(result.stderr)")
        // A reader that takes nothing: every record is counted as not written.
        let none = try Subprocess.run(["bash", "-c", "\(sampler) classify --location-database none \(capture) | true"])
        #expect(none.status == 0, "exit \(none.status): \(none.stderr)")
        #expect(none.stderr.contains("of the \(records) records were not written"), "\(none.stderr)")
        // With --format table no record goes there: what the reader missed is the table
        // (a trial got "0 of the 13 records were not written").
        let table = try Subprocess.run(["bash", "-c", "\(sampler) classify --location-database none --format table \(capture) | true"])
        #expect(table.status == 0, "exit \(table.status): \(table.stderr)")
        #expect(table.stderr.contains("closed by its reader: the summary table was not written to it") && !table.stderr.contains("records were not written"),
                "\(table.stderr)")
    }

    /// Appended (`>>`) to a file whose last line was torn, the records start a line of
    /// their own, every one readable, and the torn line is left as it was (and said);
    /// appended to a whole file, nothing is said.
    @Test func recordsAppendedToATornFileStartALineOfTheirOwn() throws {
        let fixture = root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path
        let file = try write(#"{"first_seen":"2026"#)
        defer { unlink(file) }
        let torn = try Subprocess.run(["bash", "-c", "\(sampler) classify --location-database none \(fixture) >> \(file)"])
        #expect(torn.status == 0, "\(torn.stderr)")
        #expect(torn.stderr.contains("standard output is a file that ends in the middle of a line"), "\(torn.stderr)")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == #"{"first_seen":"2026"#, "the torn line stays: \(lines.first ?? "")")
        #expect(lines.count > 1 && lines.dropFirst().allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        let whole = try Subprocess.run(["bash", "-c", "\(sampler) classify --location-database none \(fixture) >> \(file)"])
        #expect(!whole.stderr.contains("middle of a line"), "\(whole.stderr)")
        let again = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(again.count == 2 * (lines.count - 1) + 2, "no empty line between the runs: \(again.count)")
    }

    /// Records of a stream come out as its connections end, not when 64 KiB of them have
    /// waited: the fixture's first 8,000 bytes, then a pause in which the connections that
    /// ended in them must be on standard output already.
    @Test func aPausedStreamsEndedConnectionsComeOutDuringThePause() throws {
        let fixture = root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path
        let output = try write("")
        defer { unlink(output) }
        let script = "(head -c 8000 \(fixture); sleep 3; tail -c +8001 \(fixture)) | \(sampler) classify --quiet --grace 0.001 --idle-timeout 0.01 --location-database none - > \(output) & "
            + "sleep 2; wc -l < \(output); wait"
        let result = try Subprocess.run(["bash", "-c", script])
        let lines = result.stdout.split(separator: "\n")
        let duringPause = Int(lines.first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
        #expect(duringPause > 0, "records written during the pause: \(result.stdout) \(result.stderr)")
        let all = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count
        #expect(all == 13 && all > duringPause, "\(all) records in all")
    }

    /// Every subcommand's --help gives each default once (swift-argument-parser adds
    /// "(default: …)" itself; help text must not repeat it).
    @Test func helpGivesEachDefaultOnce() throws {
        for command in [["run"], ["status"], ["report"], ["classify"], ["rules", "install"], ["config", "check"]] {
            let help = try Subprocess.run([sampler] + command + ["--help"])
            let text = help.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            #expect(!text.contains("). (default:"), "\(command): \(help.stdout)")
        }
    }

    @Test func classifyRejectsBadInputClearly() throws {
        let notACapture = try write("hello")
        defer { unlink(notACapture) }
        let result = try Subprocess.run([sampler, "classify", notACapture])
        #expect(result.status == 65, "input in no format sampler reads")
        #expect(result.stderr.contains("not a pcap or pcapng file"))
        let missing = try Subprocess.run([sampler, "classify", "/nonexistent.pcap"])
        #expect(missing.status == 66)
        let badFlag = try Subprocess.run([sampler, "classify", "--server", "300.1.2.3", notACapture])
        #expect(badFlag.status == 64)
        #expect(badFlag.stderr.contains("--server '300.1.2.3' is not an address"))
        let badValue = try Subprocess.run([sampler, "classify", "--idle-timeout", "0", notACapture])
        #expect(badValue.status == 64)
        #expect(badValue.stderr.contains("(--idle-timeout): seconds, more than 0"))
        // A negative number is a value, not an option: the setting's own message.
        let negative = try Subprocess.run([sampler, "classify", "--idle-timeout", "-1", notACapture])
        #expect(negative.status == 64 && negative.stderr.contains("idle_timeout = -1 (--idle-timeout): seconds, more than 0"), "\(negative.stderr)")

        // A real capture header of link type 105 (802.11) with two frames: nothing sampler
        // can read, said with what it reads, and not exit 0.
        var wifi = Data()
        for word: UInt32 in [0xa1b2_c3d4] { withUnsafeBytes(of: word.littleEndian) { wifi.append(contentsOf: $0) } }
        for half: UInt16 in [2, 4] { withUnsafeBytes(of: half.littleEndian) { wifi.append(contentsOf: $0) } }
        for word: UInt32 in [0, 0, 65535, 105] { withUnsafeBytes(of: word.littleEndian) { wifi.append(contentsOf: $0) } }
        for _ in 0..<2 {
            for word: UInt32 in [1, 0, 20, 20] { withUnsafeBytes(of: word.littleEndian) { wifi.append(contentsOf: $0) } }
            wifi.append(Data(count: 20))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-wifi-\(getpid()).pcap").path
        try wifi.write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let unsupported = try Subprocess.run([sampler, "classify", path])
        #expect(unsupported.status == 65, "\(unsupported.stderr)")
        #expect(unsupported.stderr.contains("link type 105 is not one sampler reads; it reads NFLOG (239), Ethernet (1"), "\(unsupported.stderr)")
        // As a table: no table of nothing before the error (a trial).
        for input in [notACapture, path] {
            let table = try Subprocess.run([sampler, "classify", "--format", "table", input])
            #expect(table.status == 65 && table.stdout.isEmpty, "\(input): \(table.stdout)")
        }
    }

    /// Read-only commands run without root say what they lack: the kernel lists rules only
    /// for CAP_NET_ADMIN.
    @Test(.enabled(if: Lab.isRoot, "needs root, to run it as nobody")) func rulesCheckAsAnotherUserSaysWhatItLacks() throws {
        let result = try Subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", sampler,
                                         "rules", "check", "--config", "/dev/null"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("only for root (CAP_NET_ADMIN), so even reading them needs it"), "\(result.stderr)")
        #expect(!result.stderr.contains("changing firewall rules needs root"))
    }
}
