import SamplerTestSupport
import Testing
import SamplerClassifier
import SamplerWire

@Suite struct FinalizationTests {
    let flow = Flow()
    let other = Flow().with(sourcePort: 50001)

    @Test func packetsWithoutAnOpenConnectionAreOrphans() {
        let (records, counters) = classify(flow.script("A PA RA"))
        #expect(records.isEmpty)
        #expect(counters.orphans == 3)
        #expect(counters.opened == 0)
    }

    @Test func aLaterPacketsTimeFinalizesExpiredConnectionsFirst() {
        var classifier = Classifier()
        var records: [ConnectionRecord] = []
        classifier.ingest(flow.packet("S")) { records.append($0) }
        classifier.ingest(other.packet("S", ms: 119_000)) { records.append($0) }
        #expect(records.isEmpty)  // 119 s idle: not yet
        classifier.ingest(other.packet("A", ms: 120_001)) { records.append($0) }
        #expect(records.count == 1)
        #expect(records.first?.key == flow.key)
        #expect(records.first?.close == .timeout)
        #expect(classifier.openConnections == 1)
    }

    @Test func theConnectionsOwnLatePacketIsAnOrphanAfterItsTimeout() {
        let (records, counters) = classify([flow.packet("S"), flow.packet("A", ms: 121_000)])
        #expect(records.map(\.close) == [.timeout])
        #expect(records.first?.packetCount == 1)
        #expect(counters.orphans == 1)
    }

    @Test func aSYNAfterFinalizationStartsANewConnection() {
        let packets = [flow.packet("S"), flow.packet("R", ms: 5, ack: 0), flow.packet("S", ms: 3000, seq: 9)]
        let (records, _) = classify(packets)
        #expect(records.map(\.close) == [.reset, .timeout])
        #expect(records.map(\.packetCount) == [2, 1])
        #expect(records.map { $0.tags.contains(.multipleSyns) } == [false, false])
    }

    @Test func rstsWithinTheGracePeriodBelongToTheConnection() {
        let within = [flow.packet("S"), flow.packet("R", ms: 100, ack: 0), flow.packet("R", ms: 900, ack: 0)]
        #expect(classify(within).records.first?.tags.contains(.multipleRsts) == true)
        let after = [flow.packet("S"), flow.packet("R", ms: 100, ack: 0), flow.packet("R", ms: 1200, ack: 0)]
        let (records, counters) = classify(after)
        #expect(records.first?.tags.contains(.singleRst) == true)
        #expect(counters.orphans == 1)
    }

    @Test func theGracePeriodIsConfigurable() {
        var configuration = ClassifierConfiguration()
        configuration.gracePeriod = 3_000_000
        let packets = [flow.packet("S"), flow.packet("R", ms: 100, ack: 0), flow.packet("R", ms: 2500, ack: 0)]
        #expect(classify(packets, configuration: configuration).records.first?.tags.contains(.multipleRsts) == true)
    }

    @Test func theEndOfInputSortsOpenConnectionsByRule() {
        // Finishing at the last packet: reset and fin stay so, idle for the timeout is a
        // timeout, the rest are shutdown.
        let packets = [
            flow.packet("S"),
            flow.with(sourcePort: 2).packet("S", ms: 1), flow.with(sourcePort: 2).packet("RA", ms: 2),
            flow.with(sourcePort: 3).packet("S", ms: 3), flow.with(sourcePort: 3).packet("FA", ms: 4),
            other.packet("S", ms: 120_000),
        ]
        let (records, _) = classify(packets, drain: false)
        let byPort = Dictionary(uniqueKeysWithValues: records.map { ($0.key.sourcePort, $0) })
        #expect(byPort[50000]?.close == .timeout)
        #expect(byPort[2]?.close == .reset)
        #expect(byPort[3]?.close == .fin)
        #expect(byPort[50001]?.close == .shutdown)
        #expect(byPort[50001]?.stage == Stage.none)
        #expect(records.count == 4)
    }

    @Test func theCapFinalizesAtOnce() {
        var classifier = Classifier()
        var records: [ConnectionRecord] = []
        for packet in flow.script("S A PA A A A A A A A") { classifier.ingest(packet) { records.append($0) } }
        #expect(records.map(\.close) == [.cap])
        #expect(classifier.openConnections == 0)
        var capped = ClassifierConfiguration()
        capped.packetCap = 3
        #expect(classify(flow.script("S A PA A"), configuration: capped).records.map(\.close) == [.cap])
        // `packets = 1`: the kernel logs only the SYN, which completes the set; a normal
        // connection is no timeout at post_syn.
        capped.packetCap = 1
        let single = classify(flow.script("S"), configuration: capped).records
        #expect(single.map(\.close) == [.cap])
        #expect(single.map(\.stage) == [Stage.none])
        #expect(single.map(\.tags) == [[]])
    }

    @Test func aFullTableEvictsTheConnectionIdleLongest() {
        var configuration = ClassifierConfiguration()
        configuration.maxConnections = 2
        var classifier = Classifier(configuration: configuration)
        var records: [ConnectionRecord] = []
        let a = flow.with(sourcePort: 1), b = flow.with(sourcePort: 2), c = flow.with(sourcePort: 3), d = flow.with(sourcePort: 4)
        // a opens first but stays busy; b is the one idle longest when c arrives.
        for packet in [a.packet("S"), b.packet("S", ms: 1), a.packet("A", ms: 2), a.packet("PA", ms: 3)] {
            classifier.ingest(packet) { records.append($0) }
        }
        #expect(records.isEmpty)
        classifier.ingest(c.packet("S", ms: 4)) { records.append($0) }
        #expect(records.map(\.key.sourcePort) == [2])
        #expect(records.first?.close == .timeout)
        #expect(records.first?.stage == .postSYN)
        #expect(records.first?.tags == [.timeout, .evicted])
        #expect(records.first?.finalizedAt == flow.start + 4_000)
        // Idleness is the time since the last packet: a connection in its grace period
        // after a fresh RST is not the idlest; c, quiet since its SYN, is.
        classifier.ingest(a.packet("R", ms: 5)) { records.append($0) }
        classifier.ingest(d.packet("S", ms: 6)) { records.append($0) }
        #expect(records.map(\.key.sourcePort) == [2, 3])
        #expect(classifier.counters.evicted == 2)
        #expect(classifier.counters.opened == 4)
        #expect(classifier.openConnections == 2)
        // An evicted connection closes as it would have at its deadline: a reset when it
        // has a RST.
        let e = flow.with(sourcePort: 5)
        classifier.ingest(d.packet("A", ms: 7)) { records.append($0) }
        classifier.ingest(e.packet("S", ms: 8)) { records.append($0) }
        #expect(records.map(\.key.sourcePort) == [2, 3, 1])
        #expect(records.last?.close == .reset)
        #expect(records.last?.tags.isSuperset(of: [.reset, .evicted, .singleRst]) == true)
        // Every connection gets its record: none was turned away.
        classifier.finishAll { records.append($0) }
        #expect(Set(records.map(\.key.sourcePort)) == [1, 2, 3, 4, 5])
        #expect(records.suffix(2).allSatisfy { $0.close == .shutdown && !$0.tags.contains(.evicted) })
    }

    @Test func recordsCarryTheSYNAndTheFlagsInArrivalOrder() throws {
        let packets = [flow.packet("S", ttl: 61, ipID: 7, window: 29200), flow.packet("A", ms: 30),
                       flow.packet("PA", ms: 40, payload: 517), flow.packet("RA", ms: 70)]
        let record = try #require(classify(packets).records.first)
        #expect(record.syn.ttl == 61)
        #expect(record.syn.ipID == 7)
        #expect(record.syn.window == 29200)
        #expect(record.syn.options.kinds == [2, 4, 8, 1, 3])
        #expect((0..<record.packetCount).map { record.flags(at: $0).letters } == ["S", "A", "PA", "RA"])
        #expect(record.payloadBytes == 517)
        #expect(record.firstSeen == flow.start)
        #expect(record.lastSeen == flow.start + 70_000)
    }

    @Test func connectionStateIsSmallAndFixed() {
        // Ten packets' fields and the SYN: at most 256 bytes, whatever the traffic
        // (docs/benchmarks.md, "Connection state").
        #expect(MemoryLayout<ConnectionKey>.stride == 40)
        #expect(MemoryLayout<Connection>.stride == 256)
    }
}

@Suite struct OrderInsensitivityTests {
    /// Random connections: a SYN, then up to 9 packets drawn from the client's vocabulary,
    /// all within 0.9 s (inside the grace period). Shuffling the packets after the opening
    /// SYN must not change the classification.
    @Test func shufflingPacketsDoesNotChangeTheVerdict() {
        var rng = SplitMix64(state: 2024)
        let vocabulary = ["S", "A", "PA", "FA", "R", "RA", "A", "PA"]
        for _ in 0..<500 {
            let flow = Flow()
            var packets = [flow.packet("S", ipID: 10)]
            for i in 0..<Int.random(in: 0...9, using: &rng) {
                let letters = vocabulary.randomElement(using: &rng)!
                packets.append(flow.packet(letters, ms: Int64.random(in: 0..<900, using: &rng),
                                           ack: [0, 7, 9].randomElement(using: &rng)!,
                                           ttl: UInt8.random(in: 55...60, using: &rng), ipID: UInt16(11 + i)))
            }
            let reference = classify(packets).records
            for _ in 0..<3 {
                let shuffled = [packets[0]] + packets.dropFirst().shuffled(using: &rng)
                let result = classify(shuffled).records
                #expect(result.count == reference.count)
                for (a, b) in zip(reference, result) {
                    #expect(a.close == b.close)
                    #expect(a.stage == b.stage)
                    #expect(a.tags == b.tags)
                    #expect(a.packetCount == b.packetCount)
                    #expect(a.firstSeen == b.firstSeen && a.lastSeen == b.lastSeen)
                    #expect(a.payloadBytes == b.payloadBytes)
                }
            }
        }
    }
}


/// SIGHUP's live change of the timeouts: open connections take the new idle timeout from
/// their last packet, as new ones do.
@Suite struct ReconfigurationTests {
    let flow = Flow()
    let other = Flow().with(sourcePort: 50001)
    let third = Flow().with(sourcePort: 50002)

    @Test func aShorterIdleTimeoutAppliesToTheConnectionsOpenNow() {
        var classifier = Classifier()
        var records: [ConnectionRecord] = []
        classifier.ingest(flow.packet("S")) { records.append($0) }
        classifier.ingest(other.packet("S", ms: 500)) { records.append($0) }
        classifier.ingest(other.packet("A", ms: 900)) { records.append($0) }  // its heap entry now lags
        var shorter = ClassifierConfiguration()
        shorter.idleTimeout = 1_000_000
        classifier.reconfigure(shorter)
        classifier.ingest(third.packet("S", ms: 3_000)) { records.append($0) }
        #expect(records.map(\.close) == [.timeout, .timeout])
        #expect(records.map(\.key) == [flow.key, other.key], "in deadline order")
        #expect(records.map { $0.finalizedAt - flow.packet("S").time } == [1_000_000, 1_900_000], "at the new deadlines, from each last packet")
        #expect(classifier.configuration.idleTimeout == 1_000_000)
        #expect(classifier.configuration.maxConnections == ClassifierConfiguration().maxConnections)
    }

    @Test func aLongerOneKeepsThemOpen() {
        var classifier = Classifier()
        var records: [ConnectionRecord] = []
        classifier.ingest(flow.packet("S")) { records.append($0) }
        var longer = ClassifierConfiguration()
        longer.idleTimeout = 600_000_000
        classifier.reconfigure(longer)
        classifier.ingest(other.packet("S", ms: 300_000)) { records.append($0) }
        #expect(records.isEmpty)
        classifier.ingest(other.packet("A", ms: 600_001)) { records.append($0) }
        #expect(records.map(\.key) == [flow.key])
    }
}
