import SamplerStatus
import SamplerSinks
import Foundation
import SamplerClassifier
import SamplerPipeline
import SamplerWire

/// The metrics endpoint's page: Prometheus text exposition format 0.0.4, from the same
/// snapshot `status` reports. Counters end in `_total`, times are in seconds, sizes in
/// bytes; stage, tag, close reason and parse error reason are labels. Every label value
/// is written, zeros included, so that a series exists before its first event.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ s: LiveSnapshot, version: String, conntrack: Conntrack? = nil, upkeep: RuleUpkeep? = nil) -> String {
        var page = Page()
        let c = s.counters
        page.family("sampler_build_info", .gauge, "sampler's version; always 1.")
        page.sample("sampler_build_info", ["version": version], 1)
        page.family("sampler_start_time_seconds", .gauge, "When the reader started, in seconds since the Unix epoch.")
        page.sample("sampler_start_time_seconds", seconds(s.startedAt))
        page.family("sampler_nflog_group", .gauge, "The NFLOG group being read.")
        page.sample("sampler_nflog_group", Double(s.group))

        // Every count that has a metric, as `Counter` declares it.
        for counter in Counter.allCases {
            guard let metric = counter.metric, counter.publisher != .clickhouse || s.shipping != nil else { continue }
            page.counter(metric.name, metric.help, c[counter])
        }
        page.family("sampler_nflog_receive_buffer_bytes", .gauge, "The socket's receive buffer size.")
        page.sample("sampler_nflog_receive_buffer_bytes", Double(s.receiveBufferBytes))

        page.family("sampler_parse_errors_total", .counter, "Messages or packets that could not be parsed, by reason.")
        for error in WireError.allCases {
            page.sample("sampler_parse_errors_total", ["reason": error.name], Double(c.parseErrors[error]))
        }

        if let upkeep {
            // What status judges the rules by, for alerts (docs/operations.md).
            if let present = upkeep.present {
                page.family("sampler_rules_present", .gauge, "1 when the daemon's last check found its rules complete in the kernel, else 0.")
                page.sample("sampler_rules_present", present ? 1 : 0)
                page.family("sampler_rules_changed", .gauge, "1 when the daemon's last check found its rules complete but with other values than its own (changed on purpose).")
                page.sample("sampler_rules_changed", upkeep.changed ? 1 : 0)
            }
            page.counter("sampler_rules_checks_total", "Times the daemon read its rules back from the kernel.", upkeep.checks)
            page.counter("sampler_rules_repairs_total", "Times the daemon reinstalled its rules after they vanished (a firewall reload).", upkeep.repairs)
            page.family("sampler_rules_missing_seconds_total", .counter, "Seconds without the rules in the kernel, the gap still open included: nothing was sampled then.")
            page.sample("sampler_rules_missing_seconds_total", seconds(upkeep.missing(at: s.takenAt)))
        }
        page.family("sampler_open_connections", .gauge, "Connections open in the classifier now.")
        page.sample("sampler_open_connections", Double(s.openConnections))
        page.family("sampler_open_connections_limit", .gauge, "Most connections held open at once (max_connections).")
        page.sample("sampler_open_connections_limit", Double(s.maxConnections))
        if let conntrack {
            page.family("sampler_conntrack_entries", .gauge, "Entries in conntrack's table in sampler's network namespace (nf_conntrack_count).")
            page.sample("sampler_conntrack_entries", Double(conntrack.entries))
            page.family("sampler_conntrack_entries_limit", .gauge, "conntrack's table limit (nf_conntrack_max).")
            page.sample("sampler_conntrack_entries_limit", Double(conntrack.maximum))
            page.family("sampler_conntrack_lost_total", .counter,
                        "Connections conntrack dropped (table full), early-dropped or failed to insert: never sampled. The kernel's counts.")
            page.sample("sampler_conntrack_lost_total", ["reason": "drop"], Double(conntrack.drops))
            page.sample("sampler_conntrack_lost_total", ["reason": "early_drop"], Double(conntrack.earlyDrops))
            page.sample("sampler_conntrack_lost_total", ["reason": "insert_failed"], Double(conntrack.insertFailures))
        }

        page.family("sampler_connections_total", .counter, "Connections finalized, by stage (multiple_syns included; those still open at shutdown left out).")
        for stage in Stage.allCases {
            page.sample("sampler_connections_total", ["stage": stage.name], Double(c.outcomes.count(stage)))
        }
        page.family("sampler_connection_tags_total", .counter, "Finalized connections carrying each tag.")
        for entry in Tags.all {
            page.sample("sampler_connection_tags_total", ["tag": entry.name], Double(c.outcomes.count(entry.tag)))
        }
        page.family("sampler_connections_closed_total", .counter, "Connections finalized, by what closed them.")
        for reason in CloseReason.allCases {
            page.sample("sampler_connections_closed_total", ["reason": reason.name], Double(c.outcomes.count(reason)))
        }
        page.family("sampler_record_writes_failing", .gauge, "1 while writing the records fails (a full disk, say), else 0.")
        page.sample("sampler_record_writes_failing", c.writeFailure == nil ? 0 : 1)
        page.family("sampler_shard_open_connections", .gauge, "Connections open in each classifier shard.")
        for (i, shard) in s.shards.enumerated() { page.sample("sampler_shard_open_connections", ["shard": "\(i)"], Double(shard.openConnections)) }
        page.family("sampler_shard_ring_packets", .gauge, "Packets queued in each shard's ring.")
        for (i, shard) in s.shards.enumerated() { page.sample("sampler_shard_ring_packets", ["shard": "\(i)"], Double(shard.packetsQueued)) }
        page.family("sampler_shard_ring_capacity_packets", .gauge, "Size of each shard's packet ring.")
        for (i, shard) in s.shards.enumerated() { page.sample("sampler_shard_ring_capacity_packets", ["shard": "\(i)"], Double(shard.packetRingCapacity)) }
        if let shipping = s.shipping {
            page.family("sampler_clickhouse_spool_batches", .gauge, "Batches waiting in the ClickHouse spool.")
            page.sample("sampler_clickhouse_spool_batches", Double(shipping.spoolBatches))
            page.family("sampler_clickhouse_spool_records", .gauge, "Records waiting in the ClickHouse spool.")
            page.sample("sampler_clickhouse_spool_records", Double(shipping.spoolRecords))
            page.family("sampler_clickhouse_spool_bytes", .gauge, "Bytes of the ClickHouse spool.")
            page.sample("sampler_clickhouse_spool_bytes", Double(shipping.spoolBytes))
            page.family("sampler_clickhouse_spool_limit_bytes", .gauge, "Most bytes the spool may hold (spool_max_bytes).")
            page.sample("sampler_clickhouse_spool_limit_bytes", Double(shipping.spoolMaxBytes))
            if let last = shipping.lastInsertAt {
                page.family("sampler_clickhouse_last_insert_timestamp_seconds", .gauge, "When ClickHouse last accepted a batch, in seconds since the Unix epoch.")
                page.sample("sampler_clickhouse_last_insert_timestamp_seconds", seconds(last))
            }
        }
        if let last = c.lastPacketTime {
            page.family("sampler_last_packet_timestamp_seconds", .gauge, "When the last packet was logged, in seconds since the Unix epoch.")
            page.sample("sampler_last_packet_timestamp_seconds", seconds(last))
        }
        return page.text
    }

    private static func seconds(_ time: Microseconds) -> Double { Double(time) / 1_000_000 }

    private enum Kind: String { case counter, gauge }

    private struct Page {
        var text = ""

        mutating func family(_ name: String, _ kind: Kind, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
        }

        mutating func counter(_ name: String, _ help: String, _ value: UInt64) {
            family(name, .counter, help)
            sample(name, Double(value))
        }

        mutating func sample(_ name: String, _ value: Double) { sample(name, [:], value) }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
            }
            text += " " + number(value) + "\n"
        }

        /// Whole numbers without a fraction (counters up to 2^53 are exact in a Double).
        private func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }

        private func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
    }
}
