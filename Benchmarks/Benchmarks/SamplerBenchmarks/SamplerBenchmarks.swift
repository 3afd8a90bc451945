import Benchmark
import SamplerClassifier
import SamplerClickHouse
import SamplerLocation
import SamplerPipeline
import SamplerReport
import SamplerSinks
import SamplerTestSupport
import SamplerWire

/// One benchmark iteration is one packet (or one record), so that the throughput column
/// reads directly as packets per second and the malloc column as allocations per packet
/// (per 1,000 packets with the kilo scaling factor; see docs/benchmarks.md). The input is
/// the real NFLOG fixture, copied into distinct connections (NflogReplay).
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident]
    let configuration = Benchmark.Configuration(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(3))

    // Parse: walk netlink datagrams in place down to PacketSummary values. The
    // datagrams sit back to back in one buffer, as successive recv() calls would fill it.
    let frames = NflogReplay.distinctFrames(copies: 1024)  // 65,536 messages
    let datagrams = NflogReplay.datagrams(of: frames)
    let buffer = datagrams.flatMap { $0 }
    var ranges: [Range<Int>] = []
    for datagram in datagrams { ranges.append((ranges.last?.upperBound ?? 0)..<((ranges.last?.upperBound ?? 0) + datagram.count)) }
    Benchmark("parse: netlink NFLOG message to PacketSummary", configuration: configuration) { benchmark in
        let bytes = buffer.span.bytes
        var remaining = benchmark.scaledIterations.count, datagram = 0, checksum = 0
        while remaining > 0 {
            var messages = NetlinkMessages(bytes.extracting(ranges[datagram]))
            while remaining > 0, let message = try! messages.next() {
                let summary = try! NflogPacketMessage(checking: message).summary(fallbackTime: 0)
                checksum &+= Int(summary.key.sourcePort) &+ summary.payloadLength
                remaining -= 1
            }
            datagram = (datagram + 1) % ranges.count
        }
        blackHole(checksum)
    }

    // Classify: PacketSummary values into a long-lived classifier, whose table holds a
    // few hundred open connections in steady state.
    let packets = NflogReplay.packets(of: NflogReplay.distinctFrames(copies: 4096))
    let round = (packets.last!.time - packets.first!.time) + 300_000_000
    Benchmark("classify: PacketSummary into the connection table", configuration: configuration) { benchmark in
        var classifier = Classifier()
        var finalized = 0, index = 0, shift: Int64 = 0
        for _ in benchmark.scaledIterations {
            var packet = packets[index]
            packet.time += shift
            classifier.ingest(packet) { _ in finalized += 1 }
            index += 1
            if index == packets.count { index = 0; shift += round }
        }
        blackHole(finalized)
    }

    // Classify at scale: the table holds 10^4, 10^5 or 10^6 open connections in steady
    // state (SyntheticFlows: ten packets each, interleaved, a new connection for each that
    // ends), so that the table and its deadlines are far larger than the caches. The
    // table is filled before the measurement; time per packet should stay nearly flat.
    for open in [10_000, 100_000, 1_000_000] {
        Benchmark("classify: \(open) open connections", configuration: configuration) { (benchmark: Benchmark, state: ClassifierAtScale) in
            var finalized = 0
            for _ in benchmark.scaledIterations {
                state.classifier.ingest(state.flows.next()) { _ in finalized += 1 }
            }
            precondition(abs(state.classifier.openConnections - open) < open / 50, "\(state.classifier.openConnections) open")
            blackHole(finalized)
        } setup: {
            let state = ClassifierAtScale(open: open)
            for _ in 0..<(open * 10) { state.classifier.ingest(state.flows.next()) { _ in } }
            return state
        }
    }

    // Format: one JSON line per finalized connection into a reused buffer.
    var records: [ConnectionRecord] = []
    var classifier = Classifier()
    for packet in NflogReplay.packets(of: NflogReplay.distinctFrames(copies: 64)) { classifier.ingest(packet) { records.append($0) } }
    classifier.finishAll { records.append($0) }
    Benchmark("format: ConnectionRecord to a JSON line", configuration: configuration) { benchmark in
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        var bytes = 0
        for i in benchmark.scaledIterations {
            JSONLines.append(records[i % records.count], to: &buffer)
            if buffer.count > 60_000 { bytes += buffer.count; buffer.removeAll(keepingCapacity: true) }
        }
        blackHole(bytes)
    }

    // Report: read one JSON line as the writer writes it (the same records) into a stage
    // table, as `sampler report` does for each line of a file.
    let lines: [[UInt8]] = records.map { record in
        var line: [UInt8] = []
        JSONLines.append(record, to: &line)
        return Array(line.dropLast())
    }
    Benchmark("report: JSON line into the stage table", configuration: configuration) { benchmark in
        var table = StageTable(windowSeconds: 300, grouping: .none, ttlMargin: 2)
        var reader = RecordLines.Reader(host: "bench-host", filter: ReportFilter())
        for i in benchmark.scaledIterations {
            lines[i % lines.count].withUnsafeBufferPointer { reader.consume($0, into: &table) }
        }
        blackHole(reader.outcome.records)
    }

    // Locate: the client AS and country of one address in Debian's location database
    // (libloc-database), as the writer does once per record: libloc's own lookup, sampler's
    // walk of the tree, and the walk behind the cache of client blocks. 10^6 random public
    // IPv4 addresses (no 0/8, 10/8, 127/8 or 224/3), each looked up once in turn across the
    // samples, so that the walks go through the whole tree and the cache rarely has the
    // block; then clients from 10,000 /24s, as a server's clients repeat, where it has.
    if let database = try? LocationDatabase(path: "/usr/share/libloc-location/location.db") {
        var random = SplitMix64(state: 7)
        let addresses: [IPAddress] = (0..<1_000_000).map { _ in
            while true {
                let a = UInt32(truncatingIfNeeded: random.next()), first = a >> 24
                if first != 0 && first != 10 && first != 127 && first < 224 { return IPAddress(v4: a) }
            }
        }
        let repeating = (0..<1_000_000).map { i in
            IPAddress(v4: addresses[Int(random.next() % 10_000)].v4 & 0xffff_ff00 | UInt32(i & 0xff))
        }
        // Where each benchmark is in its list, and its cache: kept across the samples, as
        // the writer keeps one cache for every record.
        final class Walk: @unchecked Sendable {
            let addresses: [IPAddress]
            var next = 0
            var cache = LocationCache()
            /// The interleaved case's last eight answers, and how many were taken.
            var answers = InlineArray<8, Location>(repeating: .unknown)
            var taken = 8
            init(_ addresses: [IPAddress]) { self.addresses = addresses }
            func address() -> IPAddress {
                next = next == addresses.count - 1 ? 0 : next + 1
                return addresses[next]
            }
        }
        let cases: [(String, [IPAddress], (Walk) -> Location)] = [
            ("an address's AS and country, libloc", addresses, { database.libraryLookup($0.address(), family: .v4) }),
            ("an address's AS and country, the tree", addresses, { database.lookup($0.address(), family: .v4) }),
            ("an address's AS and country, the tree and the cache", addresses, { $0.cache.location(of: $0.address(), family: .v4, in: database) }),
            ("an address's AS and country, the tree, eight walks interleaved", addresses, { walk in
                // Each iteration takes one answer; every eighth looks up the next eight.
                if walk.taken == 8 {
                    var batch = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
                    for lane in 0..<8 { batch[lane] = (walk.address(), .v4) }
                    walk.answers = database.lookup(batch, count: 8)
                    walk.taken = 0
                }
                walk.taken += 1
                return walk.answers[walk.taken - 1]
            }),
            ("an address's AS and country, the cache, eight at a time (the live writer)", addresses, { walk in
                if walk.taken == 8 {
                    var batch = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
                    for lane in 0..<8 { batch[lane] = (walk.address(), .v4) }
                    walk.answers = walk.cache.locations(of: batch, count: 8, in: database)
                    walk.taken = 0
                }
                walk.taken += 1
                return walk.answers[walk.taken - 1]
            }),
            ("clients of 10,000 /24s, the tree", repeating, { database.lookup($0.address(), family: .v4) }),
            ("clients of 10,000 /24s, the tree and the cache", repeating, { $0.cache.location(of: $0.address(), family: .v4, in: database) }),
        ]
        for (name, list, locate) in cases {
            let walk = Walk(list)
            Benchmark("locate: \(name)", configuration: configuration) { benchmark in
                var found = 0
                for _ in benchmark.scaledIterations where locate(walk).asn != nil { found += 1 }
                blackHole(found)
            }
        }
    }

    // Format for ClickHouse: the same records as JSONEachRow rows (client addresses
    // truncated, the default) into a reused batch buffer.
    Benchmark("format: ConnectionRecord to a ClickHouse row", configuration: configuration) { benchmark in
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        var bytes = 0
        let context = ClickHouseRow.Context(host: "bench-host", clientAddresses: .truncate)
        for i in benchmark.scaledIterations {
            ClickHouseRow.append(records[i % records.count], context: context, batch: 1_795_291_200_000_000, row: i, to: &buffer)
            if buffer.count > 60_000 { bytes += buffer.count; buffer.removeAll(keepingCapacity: true) }
        }
        blackHole(bytes)
    }

    // The whole pipeline: the reader parses the datagrams and pushes summaries through
    // the rings to the shards, which classify and push records to the writer, which
    // formats them and writes to /dev/null. One sample replays 65,536 messages
    // (1,024 copies of the fixture) through a fresh pipeline and waits for the last
    // record; the pipeline's threads are made before the measurement starts. The rings
    // hold a whole sample, so nothing is dropped and the time is the pipeline's own.
    let pipelineConfiguration = Benchmark.Configuration(
        metrics: metrics, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 200)
    for shards in [1, 2] {
        Benchmark("pipeline: datagrams to records on disk, \(shards) shard\(shards == 1 ? "" : "s") (per 65,536 packets)",
                  configuration: pipelineConfiguration) { benchmark in
            for _ in benchmark.scaledIterations {
                var options = Pipeline.Options(ringSize: 65_536)
                options.shards = shards
                options.recordRingCapacity = 16_384
                options.followWallClock = false
                let pipeline = try Pipeline(options: options, output: try RecordFile(path: "/dev/null"), start: 0,
                                            log: { _ in }) { _, _ in "" }
                try pipeline.start()
                benchmark.startMeasurement()
                for range in ranges {
                    pipeline.dispatch(buffer.span.bytes.extracting(range), now: 0)
                }
                pipeline.finish()
                benchmark.stopMeasurement()
                precondition(pipeline.counters()[.ringDrops] == 0 && pipeline.counters()[.packets] == 65_536)
            }
        }
    }
}

/// A classifier and its input, kept across the samples of one benchmark.
final class ClassifierAtScale {
    var classifier: Classifier
    var flows: SyntheticFlows

    init(open: Int) {
        var configuration = ClassifierConfiguration()
        configuration.maxConnections = 1 << 20
        classifier = Classifier(configuration: configuration, expectedConnections: open)
        flows = SyntheticFlows(openConnections: open)
    }
}
