import SamplerClassifier
import SamplerCapture
import Foundation
import Testing
import SamplerRules
import SamplerPipeline
import SamplerClickHouse
import SamplerSystem
@testable import SamplerConfiguration
@testable import SamplerService
@testable import SamplerStatus

@Suite struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped file is generated from `Setting.all`, so its comments cannot go stale,
    /// and sets nothing: every key is there, commented out at its default.
    @Test func theShippedFileIsTheTemplateAndSetsNothing() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("systemd/sampler.conf"), encoding: .utf8)
        #expect(text == ConfigurationFile.template(), "regenerate it: sampler config template > systemd/sampler.conf")
        let settings = try ConfigurationFile.parse(text, source: "systemd/sampler.conf")
        #expect(settings == Settings())
        #expect(settings.explicitKeys.locations.isEmpty, "a key the file sets would be compared with the daemon")
        for setting in Setting.all {
            let line = "#\(setting.key) = \(ConfigurationFile.quotedIfNeeded(setting.defaultValue))"
            #expect(text.contains("\n" + line.trimmingCharacters(in: .whitespaces) + "\n"), "\(setting.key) missing")
        }
        // Uncommented, every line reads back as the defaults.
        let uncommented = text.split(separator: "\n").map { $0.hasPrefix("#") && $0.contains(" = ") && !$0.hasPrefix("# ") ? $0.dropFirst() : $0 }
        #expect(try ConfigurationFile.parse(uncommented.joined(separator: "\n"), source: "uncommented") == Settings())
    }

    @Test func readsValuesCommentsAndQuotes() throws {
        let settings = try ConfigurationFile.parse("""
            # a comment
            probability = 0.5   # trailing comment
            group=9
            label = "7"
            backend = legacy
            include_multiple_syns = true
            host_id = 'web-1'

            output = -
            """, source: "test.conf")
        #expect(settings.rules.probability == 0.5)
        #expect(settings.rules.group == 9)
        #expect(settings.rules.label == "7")
        #expect(settings.backend == .legacy)
        #expect(settings.includeMultipleSyns)
        #expect(settings.output == "-")
        #expect(settings.hostID == "web-1", "single quotes, as a shell user writes them (a trial: they were kept)")
        #expect(settings.idleTimeout == 120)  // untouched keys keep their defaults
    }

    @Test(arguments: [
        ("probabilty = 0.5", "test.conf:1: probabilty = 0.5: unknown key"),
        ("group = 9\nprobability = 1\ngroup = 10", "test.conf:3: group = 10: set twice, on lines 1 and 3: keep one"),
        ("\u{7f}ELF\u{02}\u{01} = x", "test.conf:1: \\x7fELF\\x02\\x01 = x: unknown key"),
        ("group = 70000", "test.conf:1: group = 70000: an NFLOG group, 0 to 65535"),
        ("just words", "test.conf:1: 'just words': expected 'key = value'"),
        ("\n\nbackend = iptables", "test.conf:3: backend = iptables: auto, nft, legacy or nftables"),
        ("include_multiple_syns = maybe", "test.conf:1: include_multiple_syns = maybe: true or false"),
        ("include_multiple_syns = yes", "test.conf:1: include_multiple_syns = yes: true or false"),
        ("include_multiple_syns = True", "test.conf:1: include_multiple_syns = True: true or false"),
        // Invisible characters are shown: a zero-width space in a key, a BOM not at the start.
        ("gro\u{200B}up = 5", "test.conf:1: gro\\u{200b}up = 5: unknown key"),
        ("group = 5\n\u{FEFF}probability = 1", "test.conf:2: \\u{feff}probability = 1: unknown key"),
        ("probability = 1\r\ngroup = 5\rlabel = 3", "test.conf:2: group = 5\\x0dlabel = 3: a value cannot hold control characters"),
        // Found by the configuration fuzzer: a value no file could hold (a NUL, a CR, a space
        // at its start once unquoted) is refused, rather than written back as another value.
        ("#ma\noutput = \" \u{0}x\"\r\u{FFFD}ut = \"x\"", "test.conf:2: output = "),
        ("output = \" /x\"", "test.conf:1: output =  /x: a value cannot start or end with a space"),
        ("host_id =# \"-", "test.conf:1: host_id = # \"-: a value cannot start with #"),
        ("# a comment\n" + String(repeating: "x", count: 5000), "test.conf:2: the line is longer than 4096 bytes"),
        ("clickhouse_client_addresses = hash", "test.conf:1: clickhouse_client_addresses = hash: truncate (to /24 and /48), drop or keep"),
        ("clickhouse_batch_size = many", "test.conf:1: clickhouse_batch_size = many: records, 1 to 1000000"),
        // Found by a trial: no key named the value as the key; an open quote was kept.
        (" = 5", "test.conf:1: '= 5': expected 'key = value': there is no key before '='"),
        ("output = \"/srv/records.jsonl", "test.conf:1: output = \"/srv/records.jsonl: the value starts with a quote (\") but does not end with one: "
            + "quote the whole value, or leave the quotes out"),
        ("host_id = 'web-1", "test.conf:1: host_id = 'web-1: the value starts with a quote (') but does not end with one"),
        ("host_id = \"", "test.conf:1: host_id = \": the value starts with a quote"),
        ("prefix = \"ab\"c", "test.conf:1: prefix = \"ab\"c: the value starts with a quote (\") but does not end with one: quote"),
        ("prefix = 'a # b'", "test.conf:1: prefix = 'a: the value starts with a quote (') but does not end with one (' #' starts a comment, inside quotes too)"),
    ])
    func namesTheLineKeyValueAndWhatIsAllowed(text: String, message: String) {
        #expect {
            _ = try ConfigurationFile.parse(text, source: "test.conf")
        } throws: { error in
            "\(error)".hasPrefix(message) || { print("got: \(error)"); return false }()
        }
    }

    /// What any file or flag sets renders to a file that reads back the same (the
    /// configuration fuzzer checks this on random input): a `#` inside a value is kept, a
    /// value that reading would unquote is written quoted.
    @Test func renderedSettingsReadBackTheSame() throws {
        let settings = try ConfigurationFile.parse("output = /srv/records#1.jsonl  # a comment\nhost_id = \"\"web-1\"\"\n", source: "t.conf")
        #expect(settings.output == "/srv/records#1.jsonl")
        #expect(settings.hostID == "\"web-1\"")
        let again = try ConfigurationFile.parse(ConfigurationFile.render(settings), source: "rendered")
        #expect(again == settings)
        #expect(ConfigurationFile.render(settings).contains("output = /srv/records#1.jsonl\n"))
        for value in ["'web-1'", "'web-1", "\"web-1", "'"] {
            var quoted = Settings()
            quoted.hostID = value
            #expect(try ConfigurationFile.parse(ConfigurationFile.render(quoted), source: "rendered").hostID == value, "\(value)")
        }
    }

    /// A file written on Windows (CRLF) or with a byte-order mark reads as the same file
    /// with LF: every line, every comment, no "\r" in any value.
    @Test func crlfLinesAndAByteOrderMarkReadAsPlainLines() throws {
        let plain = "probability = 1\n# c\ngroup = 6\noutput = /x\nlabel = 7\n"
        let expected = try ConfigurationFile.parse(plain, source: "plain.conf")
        #expect(expected.rules.group == 6 && expected.output == "/x")
        let windows = plain.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try ConfigurationFile.parse(windows, source: "crlf.conf") == expected)
        #expect(try ConfigurationFile.parse("\u{FEFF}" + windows, source: "bom.conf") == expected)
    }

    /// No input makes reading the configuration hang or grow: /dev/zero and a huge file are
    /// refused at 1 MiB, a FIFO without a writer after 5 s.
    @Test func readingIsBoundedInSizeAndTime() throws {
        #expect(throws: TextFile.ReadError.tooLarge(limit: TextFile.maximumBytes)) { try TextFile.read("/dev/zero") }
        #expect(try TextFile.read("/dev/null") == "")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-textfile-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let big = directory.appendingPathComponent("big.conf").path
        try Data(repeating: UInt8(ascii: "#"), count: TextFile.maximumBytes + 1).write(to: URL(fileURLWithPath: big))
        #expect(throws: TextFile.ReadError.tooLarge(limit: TextFile.maximumBytes)) { try TextFile.read(big) }
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        #expect(throws: TextFile.ReadError.silent(seconds: TextFile.maximumWaitSeconds)) { try TextFile.read(fifo) }
        #expect(Date().timeIntervalSince(started) < 30, "it gave up instead of waiting for ever")
    }

    @Test func validationNamesTheKey() {
        var settings = Settings()
        settings.rules.probability = 0
        #expect { try settings.validate() } throws: { error in
            let error = error as? ConfigurationError
            return error?.key == "probability" && error?.value == "0.0" && error?.allowed == RuleParameters.Allowed.probability
        }
        settings = Settings()
        settings.output = "/nonexistent-dir/records.jsonl"
        #expect { try settings.validate() } throws: { "\($0)".contains("/nonexistent-dir does not exist") }
        settings = Settings()
        settings.maxReceiveBuffer = 1024
        #expect { try settings.validate() } throws: { "\($0)".hasPrefix("max_receive_buffer = 1024") }
    }

    @Test(arguments: [
        ("https://db:8443", "https is not supported"),
        ("ftp://db", "expected http://HOST[:PORT][/PATH]"),
        ("http://user:pw@db", "put the user in clickhouse_user"),
        ("http://db:0", "port must be 1 to 65535"),
        ("http://[::1", "unclosed ["),
    ])
    func clickhouseURLsThatAreRefusedSayWhy(url: String, reason: String) {
        var settings = Settings()
        settings.clickhouseURL = url
        #expect { try settings.validate(checkOutputDirectory: false) } throws: { "\($0)".hasPrefix("clickhouse_url = \(url)") && "\($0)".contains(reason) }
    }

    @Test func clickhouseSettingsBecomeTheSinksOptions() throws {
        var settings = try ConfigurationFile.parse("""
            clickhouse_url = http://[2001:db8::5]:8124/ch
            clickhouse_user = writer
            clickhouse_password_file = password
            clickhouse_batch_size = 500
            clickhouse_flush_interval = 2.5
            host_id =
            """, source: "test.conf")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-credentials-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "pa55word\n".write(to: directory.appendingPathComponent("password"), atomically: true, encoding: .utf8)
        // A relative password file is systemd's credential (LoadCredential=).
        let options = try #require(try settings.clickhouseSink(hostName: "web-1", environment: ["CREDENTIALS_DIRECTORY": directory.path]))
        #expect(options.target.host == "2001:db8::5" && options.target.port == 8124 && options.target.path == "/ch")
        #expect(options.target.user == "writer" && options.target.password == "pa55word")
        #expect(options.target.display == "http://[2001:db8::5]:8124/ch sampler.connections")
        #expect(options.row.host == "web-1" && options.row.clientAddresses == .truncate)
        #expect(options.batchRecords == 500 && options.flushInterval == 2_500_000)
        settings.clickhousePasswordFile = "/nonexistent/password"
        #expect { _ = try settings.clickhouseSink(hostName: "web-1", environment: [:]) } throws: {
            // By the file's line: the key was set there.
            "\($0)".hasPrefix("test.conf:3: clickhouse_password_file = /nonexistent/password") && "\($0)".contains("No such file")
        }
        settings.clickhouseURL = ""
        #expect(try settings.clickhouseSink(hostName: "web-1", environment: [:]) == nil)
    }

    /// docs/operations.md's table of keys says what the declarations say: each key once,
    /// in order, with its default and what is allowed.
    @Test func theDocumentedKeysAreTheDeclaredOnes() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| `") && Setting.named(String($0.dropFirst(3).prefix { $0 != "`" })) != nil }
        #expect(rows.map(String.init) == Setting.all.map(\.documentationRow), "expected:\n\(Setting.all.map(\.documentationRow).joined(separator: "\n"))")
    }

    @Test func renderingRoundTrips() throws {
        var settings = Settings()
        settings.rules.group = 77
        settings.window = 60
        settings.family = .v6
        #expect(try ConfigurationFile.parse(ConfigurationFile.render(settings), source: "rendered") == settings)
    }

    @Test func settingsFeedTheLiveLoop() {
        var settings = Settings()
        settings.idleTimeout = 3
        settings.rules.group = 12
        settings.receiveBuffer = 8192
        settings.shards = 3
        var live = settings.live
        #expect(live.nflog.group == 12)
        #expect(live.pipeline.classifier.idleTimeout == 3_000_000)
        #expect(live.pipeline.shards == 3)
        settings.shards = 0
        live = settings.live
        #expect(live.pipeline.shards == Pipeline.defaultShards)
        #expect(live.nflog.receiveBufferBytes == 8192)
        #expect(settings.versions == [.v4, .v6])
    }
}
