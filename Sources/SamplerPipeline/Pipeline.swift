import SamplerClassifier
import SamplerLocation
import SamplerRuntime
import SamplerSystem
import SamplerWire
import Synchronization
#if canImport(Glibc)
import Glibc
import SamplerSinks
#endif

/// The threaded path from NFLOG datagrams to records:
///
///     reader (caller's thread) ── SPSC ring per shard ──► shard threads (one classifier each)
///                                                               │ SPSC ring per shard
///                                                               ▼
///                                                   writer thread (JSON lines, windows)
///
/// The reader parses each datagram in place and pushes a fixed-size `PacketSummary` to
/// the shard that owns the connection (a hash of its key), so it never waits on
/// classification or on the disk. A full shard ring drops the newest summary and counts
/// it (`ringDrops`); a full record ring makes its shard wait for the writer, so nothing
/// classified is lost. Counters are published with relaxed atomic stores once per batch.
public final class Pipeline: @unchecked Sendable {
    // @unchecked: the reader-side state below belongs to the thread that calls
    // `dispatch`, `endDatagram` and `finish`; everything shared is in the shards and the
    // writer, behind rings and atomics.
    public struct Options: Sendable {
        /// Classifier threads. The default leaves one core for the reader and one for
        /// the writer, and keeps at least one.
        public var shards = Pipeline.defaultShards
        /// Packet summaries queued per shard (120 bytes each): the ring_size setting, whose
        /// default is there.
        public var ringSize: Int
        /// Records queued per shard for the writer.
        public var recordRingCapacity = 4096
        /// The whole classifier's configuration; `maxConnections` is split
        /// evenly between the shards.
        public var classifier = ClassifierConfiguration()
        public var window = WindowAggregator.defaultLength
        public var includeMultipleSyns = false
        /// Live: idle shards move their clock with the wall clock, so that timeouts fire
        /// without traffic. Off for replays, which then give exactly the records one
        /// classifier would.
        public var followWallClock = true
        /// The location database that fills in each record's client AS and country; nil
        /// for none.
        public var locationDatabase: String?

        public init(ringSize: Int) { self.ringSize = ringSize }
    }

    public static var defaultShards: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) - 2)
    }

    public let options: Options
    let shards: [ClassifierShard]
    let writer: RecordWriter
    private var threads: [JoinableThread] = []

    /// What the reader counts, published after each datagram.
    private static let readerCounts = Counter.published(by: .reader)
    private let readerCounters = AtomicCounters(counting: Counter.self)
    private let readerParseErrors = AtomicCounters(count: WireError.allCases.count)
    private let readerLastPacketTime = Atomic<Int64>(.min)
    private var local = Counts()
    private var parseErrors = WireErrorCounts()
    private let startedAt: Microseconds
    private var sequence = SequenceTracker()
    private var latestPacketTime: Microseconds = .min
    private var touched: [Bool]
    private let shardMask: Int?
    private let shardHasher = ConnectionHasher.random()
    /// The writer's second destination, whose counts `counters()` reads from its status.
    private let sink: (any RecordSink)?

    public init(options: Options, output: RecordFile, sink: (any RecordSink)? = nil, start: Microseconds,
                log: @escaping @Sendable (String) -> Void, describe: @escaping @Sendable (WindowSummary, LiveCounters) -> String) throws(Errno) {
        precondition(options.shards >= 1, "a pipeline needs a shard")
        self.options = options
        self.sink = sink
        var perShard = options.classifier
        perShard.maxConnections = max(1, options.classifier.maxConnections / options.shards)
        var made: [ClassifierShard] = []
        let aggregator = WindowAggregator(length: options.window, includeMultipleSyns: options.includeMultipleSyns,
                                          lateness: options.shards > 1 ? 5_000_000 : 0)
        // The writer's description of a window needs the reader's counters: read them
        // through a box filled in once the pipeline exists.
        let box = WeakPipeline()
        // All of IPv4 laid flat at the start: a flood of new sources is when lookups
        // must be cheapest (docs/architecture.md).
        let locator = options.locationDatabase.map { ClientLocator(path: $0, flatAhead: true, log: log) }
        writer = try RecordWriter(file: output, sink: sink, locator: locator, aggregator: aggregator, start: start, log: log) { window in
            describe(window, box.pipeline?.counters() ?? LiveCounters())
        }
        for i in 0..<options.shards {
            made.append(try ClassifierShard(index: i, classifier: perShard, inputCapacity: options.ringSize,
                                        outputCapacity: options.recordRingCapacity, followWallClock: options.followWallClock,
                                        writerWakeup: writer.wakeup))
        }
        shards = made
        touched = Array(repeating: false, count: options.shards)
        shardMask = options.shards & (options.shards - 1) == 0 ? options.shards - 1 : nil
        startedAt = start
        box.pipeline = self
    }

    /// Starts the shard and writer threads.
    public func start() throws(Errno) {
        for shard in shards { threads.append(try JoinableThread(name: "sampler-shard\(shard.index)") { shard.run() }) }
        let writer = writer, shards = shards
        threads.append(try JoinableThread(name: "sampler-writer") { writer.run(shards: shards) })
    }

    // MARK: the reader's side

    /// Parses one NFLOG datagram in place and hands each packet to its shard.
    public func dispatch(_ datagram: RawSpan, now: Microseconds) {
        // The loop keeps its state in locals and stores it once per datagram: every access
        // to a stored property of a class is a dynamic exclusivity check
        // (swift_beginAccess), which per message was a sixth of the reader's time.
        var counts = local, sequence = self.sequence, latest = latestPacketTime
        var touched: [Bool] = []
        swap(&touched, &self.touched)  // taken, not copied: marking it allocates nothing
        counts[.datagrams] += 1
        counts[.bytes] += UInt64(datagram.byteCount)
        var messages = NetlinkMessages(datagram)
        while true {
            do throws(WireError) {
                guard let message = try messages.next() else { break }
                guard message.type == NflogPacketMessage.messageType else { continue }
                counts[.messages] += 1
                let nflog = try NflogPacketMessage(checking: message)
                if let seq = nflog.attributes.sequence { counts[.lost] += sequence.observe(seq) }
                let packet = try nflog.summary(fallbackTime: now)
                latest = max(latest, packet.time)
                let shard = shardIndex(packet.key)
                if shards[shard].input.push(packet) { touched[shard] = true } else { counts[.ringDrops] += 1 }
            } catch {
                parseErrors.record(error)
                counts[.parseErrorsTotal] += 1
                // A framing error leaves nothing after it that can be read.
                if error == .netlinkTruncated || error == .netlinkBadLength { break }
            }
        }
        (local, self.sequence, latestPacketTime) = (counts, sequence, latest)
        for i in touched.indices where touched[i] {
            touched[i] = false
            shards[i].wakeup.signal()
        }
        self.touched = touched
        publishReaderCounters()
    }

    /// The kernel dropped messages (ENOBUFS).
    public func noteOverrun() { local[.overruns] += 1 }

    /// Gives every shard new timeouts and margins (the table sizes stay); each takes them
    /// before its next batch.
    public func requestReconfigure(_ classifier: ClassifierConfiguration) {
        for shard in shards {
            shard.pendingConfiguration.withLock { $0 = classifier }
            shard.reconfigureRequested.store(true, ordering: .releasing)
            shard.wakeup.signal()
        }
    }

    public func requestReopen() {
        writer.reopenRequested.store(true, ordering: .releasing)
        writer.wakeup.signal()
    }

    /// Stops: every shard finalizes what it holds (at the latest packet time seen, or
    /// `now` when the wall clock leads), the writer writes it all; returns when every
    /// thread has ended.
    public func finish(now: Microseconds? = nil) {
        publishReaderCounters()
        let final = max(latestPacketTime, options.followWallClock ? (now ?? wallClock()) : .min)
        for shard in shards {
            shard.finalTime.store(final, ordering: .releasing)
            shard.stopRequested.store(true, ordering: .releasing)
            shard.wakeup.signal()
        }
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    /// Which shard owns a connection: the keyed connection hash (its secret drawn for this
    /// pipeline), so that clients who choose their addresses cannot aim a flood at one
    /// shard's ring. The top bits, which the hash mixes best.
    @inline(__always)
    func shardIndex(_ key: ConnectionKey) -> Int {
        if shards.count == 1 { return 0 }
        let h = shardHasher.hash(key) >> 32
        if let shardMask { return Int(h & UInt64(shardMask)) }
        return Int(h % UInt64(shards.count))
    }

    private func publishReaderCounters() {
        readerCounters.publish(local, Self.readerCounts)
        readerLastPacketTime.store(latestPacketTime, ordering: .relaxed)
        for error in WireError.allCases { readerParseErrors.store(Int(error.rawValue), parseErrors[error]) }
    }

    // MARK: any thread

    /// Every thread's published counters, added up.
    public func counters() -> LiveCounters {
        var c = LiveCounters(start: startedAt)
        c.counts = readerCounters.counts()
        for shard in shards { c.counts.add(shard.counters.counts()) }
        c.counts.add(writer.counters.counts())
        if let sink { c.counts.add(sink.status()) }
        let last = readerLastPacketTime.load(ordering: .relaxed)
        c.lastPacketTime = last == .min || last == 0 ? nil : last
        for error in WireError.allCases { c.parseErrors.add(error, readerParseErrors.load(Int(error.rawValue))) }
        let failure = writer.writeFailure.load(ordering: .relaxed)
        c.writeFailure = failure == 0 ? nil : Errno(rawValue: failure)
        c.outputBytesWaiting = writer.bytesWaiting.load(ordering: .relaxed)
        c.outcomes = writer.windows.withLock { $0.outcomes }
        return c
    }

    /// Each shard's occupancy: open connections, and how full its two rings are.
    public func shardStates() -> [ShardState] {
        shards.map { shard in
            ShardState(openConnections: shard.openConnections.load(ordering: .relaxed),
                       maxConnections: max(1, options.classifier.maxConnections / options.shards),
                       packetsQueued: shard.input.count, packetRingCapacity: shard.input.capacity,
                       recordsQueued: shard.output.count, recordRingCapacity: shard.output.capacity)
        }
    }

    /// The writer's windows as last published.
    public var windows: PublishedWindows { writer.windows.withLock { $0 } }
}

/// One shard's occupancy, for status (as its JSON) and metrics.
public struct ShardState: Codable, Sendable, Equatable {
    public var openConnections: Int
    public var maxConnections: Int
    public var packetsQueued: Int
    public var packetRingCapacity: Int
    public var recordsQueued: Int
    public var recordRingCapacity: Int
}

/// Lets the writer's log line reach the pipeline's counters without a retain cycle.
private final class WeakPipeline: @unchecked Sendable {
    weak var pipeline: Pipeline?
}
