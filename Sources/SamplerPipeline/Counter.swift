import SamplerRuntime
import SamplerSinks

/// Every count the live path keeps, declared once: what it counts, its Prometheus metric,
/// and, for what the sample lost, how the log's stop line names it. The reader, the
/// shards and the writer each publish the ones they count (`AtomicCounters` indexed by
/// `rawValue`); `Pipeline.counters()` adds them up into `Counts`, which the window line,
/// the stop line, `status` (`StatusReport`, keys as the case names in snake_case) and the
/// metrics read. Adding a counter is a case here, its help, who counts it, and the line
/// that counts it (docs/architecture.md walks through one).
public enum Counter: Int, CaseIterable, Sendable {
    // In the stop line's order: what came, then what was turned away.
    case messages, records, lost, ringDrops, overruns, parseErrorsTotal, orphans, evicted, writeErrors, recordsDropped, tornTails
    case clickhouseDroppedRecords
    case datagrams, bytes, packets, opened, finalized, writerWaits, lateRecords
    case clickhouseInsertedRecords, clickhouseInsertedBatches, clickhouseInsertFailures, clickhouseSpoolWriteErrors

    /// The Prometheus counter and its help; nil for counts only `status` shows.
    public var metric: (name: String, help: String)? {
        switch self {
        case .datagrams: ("sampler_nflog_datagrams_total", "Netlink datagrams received.")
        case .bytes: ("sampler_nflog_received_bytes_total", "Bytes of netlink datagrams received.")
        case .messages: ("sampler_nflog_messages_total", "NFLOG packet messages received.")
        case .lost: ("sampler_nflog_messages_lost_total", "NFLOG messages the kernel sent that were not received (sequence gaps).")
        case .overruns: ("sampler_nflog_overruns_total", "Times the socket's receive buffer overflowed (ENOBUFS).")
        case .packets: ("sampler_packets_total", "Packets handed to the classifier.")
        case .orphans: ("sampler_orphan_packets_total", "Packets that were not a SYN, for a connection not open.")
        case .opened: ("sampler_connections_opened_total", "Connections opened by a SYN.")
        case .evicted: ("sampler_connections_evicted_total", "Connections finalized early (tag evicted) to make room for a new SYN in a full table.")
        // The name is older than the drops: it counts every record made.
        case .records: ("sampler_records_written_total", "Records made of finalized connections and handed to the output; those it could not take are in sampler_records_dropped_total.")
        case .writeErrors: ("sampler_record_write_errors_total", "Writes of records to the output that failed (what they held is kept and retried).")
        case .recordsDropped: ("sampler_records_dropped_total", "Records dropped, whole, because the output could not be written: past the writer's maximum, or still waiting when sampler stopped.")
        case .tornTails: ("sampler_records_torn_tails_cut_total", "Times the records file ended in the middle of a record when opened (a crash during a write) and was cut back to its last whole line.")
        case .ringDrops: ("sampler_ring_dropped_packets_total", "Packets dropped because their shard's ring was full.")
        case .clickhouseDroppedRecords: ("sampler_clickhouse_dropped_records_total", "Records dropped from a full spool, or that could not be written to it.")
        case .clickhouseInsertedRecords: ("sampler_clickhouse_inserted_records_total", "Records ClickHouse accepted.")
        case .clickhouseInsertedBatches: ("sampler_clickhouse_inserted_batches_total", "Batches ClickHouse accepted.")
        case .clickhouseInsertFailures: ("sampler_clickhouse_insert_failures_total", "Inserts that failed (each retry counts).")
        case .clickhouseSpoolWriteErrors: ("sampler_clickhouse_spool_write_errors_total", "Batches the spool's disk refused (kept in memory, retried).")
        case .writerWaits: ("sampler_writer_waits_total", "Times a shard waited because the writer's ring was full.")
        // By reason in sampler_parse_errors_total; finalized and late only in status.
        case .parseErrorsTotal, .finalized, .lateRecords: nil
        }
    }

    /// Its label in `sampler status`'s perfdata (a monitoring plugin's graphs), nil for
    /// those left out. Shorter than the JSON's names where plugins have graphed them so
    /// since the first release (`parse_errors`, the sum the JSON calls `parse_errors_total`).
    public var perfdata: String? {
        switch self {
        case .messages: "messages"
        case .lost: "lost"
        case .ringDrops: "ring_drops"
        case .overruns: "overruns"
        case .parseErrorsTotal: "parse_errors"
        case .records: "records"
        case .clickhouseDroppedRecords: "clickhouse_dropped"
        default: nil
        }
    }

    /// The threads that count: each publishes exactly the counters that name it. The
    /// ClickHouse sink counts under its own lock; `Counts.add(_:)` reads its status.
    public enum Publisher: Sendable {
        case reader, shard, writer, clickhouse
    }

    /// Who counts it. A switch without a default: a new case does not compile until it
    /// says, so no counter reads 0 for ever because nobody publishes it.
    public var publisher: Publisher {
        switch self {
        case .datagrams, .bytes, .messages, .lost, .overruns, .ringDrops, .parseErrorsTotal: .reader
        case .packets, .orphans, .opened, .evicted, .finalized, .writerWaits: .shard
        case .records, .writeErrors, .recordsDropped, .tornTails, .lateRecords: .writer
        case .clickhouseDroppedRecords, .clickhouseInsertedRecords, .clickhouseInsertedBatches, .clickhouseInsertFailures,
             .clickhouseSpoolWriteErrors: .clickhouse
        }
    }

    /// A ClickHouse count in the sink's status; nil for the others.
    func count(in shipping: ShippingStatus) -> UInt64? {
        switch self {
        case .clickhouseDroppedRecords: shipping.droppedRecords
        case .clickhouseInsertedRecords: shipping.insertedRecords
        case .clickhouseInsertedBatches: shipping.insertedBatches
        case .clickhouseInsertFailures: shipping.failures
        case .clickhouseSpoolWriteErrors: shipping.spoolWriteErrors
        default: nil
        }
    }

    /// The counters `publisher` publishes.
    public static func published(by publisher: Publisher) -> [Counter] { allCases.filter { $0.publisher == publisher } }

    /// How the stop line says it ("3 lost in the kernel"); nil for what it leaves out.
    public var stopLine: String? {
        switch self {
        case .messages: "messages"
        case .records: "records made"
        case .lost: "lost in the kernel"
        case .ringDrops: "dropped at full rings"
        case .overruns: "overruns"
        case .parseErrorsTotal: "parse errors"
        case .orphans: "orphans"
        case .evicted: "evicted (table full)"
        case .writeErrors: "write errors"
        case .recordsDropped: "records dropped (output not writable)"
        case .tornTails: "torn records cut (a crash during a write)"
        case .clickhouseDroppedRecords: "records dropped from the ClickHouse spool"
        case .datagrams, .bytes, .packets, .opened, .finalized, .writerWaits, .lateRecords, .clickhouseInsertedRecords,
             .clickhouseInsertedBatches, .clickhouseInsertFailures, .clickhouseSpoolWriteErrors: nil
        }
    }
}

/// One value per `Counter`: a thread's own, or everyone's added up, or the difference
/// between two moments (`IntervalCounters`). Stored inline, not in an Array: the reader
/// counts into it per message and each thread builds one per publication, which must not
/// allocate.
public struct Counts: Sendable, Equatable {
    /// Room for every counter; a test holds `Counter.allCases.count` to it.
    public static let capacity = 24
    private var values = InlineArray<24, UInt64>(repeating: 0)

    public init() {}

    public subscript(_ counter: Counter) -> UInt64 {
        get { values[counter.rawValue] }
        set { values[counter.rawValue] = newValue }
    }

    /// What was counted between `earlier` and `self` (wrapping, as counters do).
    public func since(_ earlier: Counts) -> Counts {
        var difference = Counts()
        for i in 0..<Counter.allCases.count { difference.values[i] = values[i] &- earlier.values[i] }
        return difference
    }

    /// NFLOG messages the kernel sent (received, or lost in a sequence gap), and of them
    /// those the sample lost: in the kernel, or dropped at a full shard ring.
    public var messagesSent: UInt64 { self[.messages] &+ self[.lost] }
    public var messagesLost: UInt64 { self[.lost] &+ self[.ringDrops] }
    /// `messagesLost` as a share of `messagesSent`; 0 when none was sent. The one loss
    /// ratio: status, the metrics and its verdict use it.
    public var lossRatio: Double { messagesSent == 0 ? 0 : Double(messagesLost) / Double(messagesSent) }

    /// Adds another thread's counts.
    public mutating func add(_ other: Counts) {
        for i in 0..<Counter.allCases.count { values[i] &+= other.values[i] }
    }

    /// Takes the ClickHouse sink's counts from its status.
    public mutating func add(_ shipping: ShippingStatus) {
        for counter in Counter.published(by: .clickhouse) { self[counter] &+= counter.count(in: shipping) ?? 0 }
    }

    public static func == (a: Counts, b: Counts) -> Bool {
        (0..<Counter.allCases.count).allSatisfy { a.values[$0] == b.values[$0] }
    }
}

extension AtomicCounters {
    /// A set for one thread's counts.
    convenience init(counting _: Counter.Type) { self.init(count: Counter.allCases.count) }

    /// Publishes the counts a thread keeps (relaxed stores, as `AtomicCounters` says).
    func publish(_ counts: Counts, _ which: [Counter]) {
        for counter in which { store(counter.rawValue, counts[counter]) }
    }

    func counts() -> Counts {
        var counts = Counts()
        for counter in Counter.allCases { counts[counter] = load(counter.rawValue) }
        return counts
    }
}
