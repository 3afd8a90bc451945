-- sampler's ClickHouse schema (docs/clickhouse.md). Accepted by ClickHouse 18.16
-- (Debian's clickhouse-server) and later. Run it with:
--   clickhouse-client --multiquery < docs/clickhouse/schema.sql
-- or over HTTP, one statement at a time.

CREATE DATABASE IF NOT EXISTS sampler;

-- One row per connection record: the JSON lines record (docs/records.md) flattened,
-- plus the host that sampled it and the batch that carried it.
--
-- A table made by an earlier sampler (without finalized, client_asn, client_country)
-- takes the new columns with (rows already there get finalized = last_seen and unknown
-- AS and country):
--   ALTER TABLE sampler.connections
--       ADD COLUMN finalized DateTime('UTC') DEFAULT last_seen AFTER last_seen_usec,
--       ADD COLUMN finalized_usec UInt32 DEFAULT last_seen_usec AFTER finalized,
--       ADD COLUMN client_asn UInt32 AFTER payload_bytes,
--       ADD COLUMN client_country String AFTER client_asn;
-- and a table without the tampering signature and its evidence (an earlier sampler;
-- rows already there get signature '' and no gaps, and `sampler report --by signature`
-- shows them as unknown):
--   ALTER TABLE sampler.connections
--       ADD COLUMN signature String AFTER tags,
--       ADD COLUMN rst_ipid_gap Nullable(UInt16) AFTER signature,
--       ADD COLUMN rst_ttl_gap Nullable(UInt8) AFTER rst_ipid_gap;
--
-- ReplacingMergeTree keyed by (host, batch_id, batch_row): a batch sent twice (ClickHouse
-- wrote it but sampler never heard back, then retried) leaves two identical rows with
-- the same key, which merges fold into one. Merges run when ClickHouse pleases, so the
-- queries in queries.sql read with FINAL, which folds them at query time: every record
-- counts exactly once. (Block deduplication, the other way, needs ZooKeeper and
-- Replicated tables in 18.16; on a replicated cluster it works as well, because a retried
-- batch is byte for byte the same block.)
--
-- Partitioned by day of first_seen; ordered by the 15-minute window first, because
-- every query in queries.sql groups by it, then by host and port.
CREATE TABLE IF NOT EXISTS sampler.connections
(
    host            String,
    first_seen      DateTime('UTC'),
    first_seen_usec UInt32,
    last_seen       DateTime('UTC'),
    last_seen_usec  UInt32,
    finalized       DateTime('UTC'),  -- the time that puts the record in its window (docs/records.md)
    finalized_usec  UInt32,
    family          UInt8,
    src             String,   -- the client; truncated to /24 or /48, or '' (clickhouse_client_addresses)
    sport           UInt16,
    dst             String,   -- the server
    dport           UInt16,
    packets         UInt8,
    close           Enum8('reset' = 1, 'fin' = 2, 'cap' = 3, 'timeout' = 4, 'shutdown' = 5),
    stage           Enum8('post_syn' = 1, 'post_ack' = 2, 'post_psh' = 3, 'later' = 4, 'none' = 5),
    tags            Array(String),
    signature       String,   -- the study's tampering signature (docs/classification.md); '' at stage none
    rst_ipid_gap    Nullable(UInt16),  -- reset closes of IPv4 only, else NULL
    rst_ttl_gap     Nullable(UInt8),   -- reset closes only, else NULL
    syn_ttl         UInt8,
    syn_ipid        UInt16,
    syn_window      UInt16,
    syn_options     Array(UInt8),
    flags           Array(String),
    payload_bytes   UInt32,
    client_asn      UInt32,   -- the client's AS number from the location database; 0: unknown
    client_country  String,   -- its ISO 3166 alpha-2 country; '': unknown
    batch_id        UInt64,
    batch_row       UInt32
)
ENGINE = ReplacingMergeTree()
PARTITION BY toDate(first_seen)
ORDER BY (toStartOfFifteenMinutes(first_seen), host, dport, batch_id, batch_row);

-- On a cluster (docs/clickhouse.md, "A cluster"; scripts/clickhouse-cluster sets one up),
-- the table above is created on every shard as sampler.connections_local (with
-- ReplicatedReplacingMergeTree for replicas, which needs ZooKeeper), and on every server
-- the Distributed table takes the name sampler.connections, so that every query in
-- queries.sql and `sampler report --clickhouse` read the whole fleet unchanged. Hosts
-- insert into their shard's local table (clickhouse_table = connections_local): each
-- host's batches, and so its duplicates, stay on one shard, where FINAL folds them.
-- Sharding the Distributed table by host places rows the same way:
--
-- CREATE TABLE sampler.connections AS sampler.connections_local
--     ENGINE = Distributed(sampler_cluster, sampler, connections_local, cityHash64(host));
