import Foundation
import Testing
import SamplerRules
import SamplerPipeline
@testable import SamplerService

@Suite struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShippedFileHoldsTheDefaults() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("systemd/sampler.conf"), encoding: .utf8)
        let settings = try ConfigurationFile.parse(text, source: "systemd/sampler.conf")
        #expect(settings == Settings())
        // Every key appears in it, so that the file documents them all.
        for key in ConfigurationFile.keys { #expect(text.contains("\n\(key) = "), "\(key) missing") }
    }

    @Test func readsValuesCommentsAndQuotes() throws {
        let settings = try ConfigurationFile.parse("""
            # a comment
            probability = 0.5   # trailing comment
            group=9
            label = "7"
            backend = legacy
            include_multiple_syns = yes

            output = -
            """, source: "test.conf")
        #expect(settings.rules.probability == 0.5)
        #expect(settings.rules.group == 9)
        #expect(settings.rules.label == "7")
        #expect(settings.backend == .legacy)
        #expect(settings.includeMultipleSyns)
        #expect(settings.output == "-")
        #expect(settings.idleTimeout == 120)  // untouched keys keep their defaults
    }

    @Test(arguments: [
        ("probabilty = 0.5", "test.conf:1: probabilty = 0.5: unknown key"),
        ("group = 70000", "test.conf:1: group = 70000 (--group): an NFLOG group, 0 to 65535"),
        ("just words", "test.conf:1: just words = : expected 'key = value'"),
        ("\n\nbackend = iptables", "test.conf:3: backend = iptables (--backend): auto, nft or legacy"),
        ("include_multiple_syns = maybe", "test.conf:1: include_multiple_syns = maybe (--include-multiple-syns): true or false"),
    ])
    func namesTheLineKeyValueAndWhatIsAllowed(text: String, message: String) {
        #expect {
            _ = try ConfigurationFile.parse(text, source: "test.conf")
        } throws: { error in
            "\(error)".hasPrefix(message) || { print("got: \(error)"); return false }()
        }
    }

    @Test func validationNamesTheKey() {
        var settings = Settings()
        settings.rules.probability = 0
        #expect(throws: ConfigurationError.self) { try settings.validate() }
        settings = Settings()
        settings.output = "/nonexistent-dir/records.jsonl"
        #expect { try settings.validate() } throws: { "\($0)".contains("/nonexistent-dir does not exist") }
        settings = Settings()
        settings.maxReceiveBuffer = 1024
        #expect { try settings.validate() } throws: { "\($0)".hasPrefix("max_receive_buffer = 1024") }
    }

    @Test func renderingRoundTrips() throws {
        var settings = Settings()
        settings.rules.group = 77
        settings.window = 60
        settings.family = "6"
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
