-- Queries over sampler.connections (docs/clickhouse/schema.sql) that give the reference
-- write-up's view: per 15-minute window, the share of new connections that ended at
-- each stage. `sampler report --clickhouse` prints the same counts.
--
-- Every query reads FINAL, which folds a batch that arrived twice into one copy (see
-- schema.sql), and leaves out connections tagged multiple_syns, as the reference does, and those
-- still open when sampler stopped (close 'shutdown': their outcome is unknown).
-- Each query is named in a comment above it and ends with a semicolon at the end of a
-- line (the tests find them so).
-- Shares are fractions of the row's connections (0.25 = 25%), rounded to 4 places.
-- A record's window is the one its `finalized` time falls in (docs/records.md), as live
-- and in `sampler report`.

-- name: stage_shares
-- All hosts together, one row per window.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window
ORDER BY window;

-- name: stage_shares_by_port
-- Per window and server port: a blocked service shows up in its own port's row.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    dport,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, dport
ORDER BY window, dport;

-- name: stage_shares_by_network
-- Per window and client network: /24 for IPv4, /48 for IPv6. With sampler's default
-- clickhouse_client_addresses = truncate the addresses arrive as these networks already,
-- with drop they are all 0.0.0.0/24 and ::/48.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    if(family = 4,
       concat(IPv4NumToString(bitAnd(IPv4StringToNum(src), 4294967040)), '/24'),
       concat(cutIPv6(IPv6StringToNum(src), 10, 0), '/48')) AS network,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, network
ORDER BY window, network;

-- name: stage_shares_by_host
-- Per window and sampling host (host_id): tells one host's trouble from everyone's.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    host,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, host
ORDER BY window, host;

-- name: reset_tags
-- Per window, the connections closed by a reset ('reset' itself is their count) and how
-- the resets looked: single_rst, single_rstack, multiple_rsts (with the acknum* tags),
-- multiple_rstacks, rst_and_rstacks, fin, and the evidence of injection (ttl_mismatch,
-- ipid_mismatch) or of a scanner (zmap, masscan, nmap).
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    tag,
    count() AS connections
FROM sampler.connections FINAL
ARRAY JOIN tags AS tag
WHERE has(tags, 'reset') AND NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, tag
ORDER BY window, connections DESC, tag;

-- name: stage_shares_by_asn
-- Per window and client network by AS number (0: not in the location database, or
-- sampler ran without it): where a middlebox in one access network shows.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    client_asn AS asn,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, asn
ORDER BY window, asn;

-- name: stage_shares_by_country
-- Per window and client country ('': unknown).
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    client_country AS country,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later') / count(), 4) AS later,
    round(countIf(stage = 'none') / count(), 4) AS none
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window, country
ORDER BY window, country;

-- name: radar_summary
-- Cloudflare Radar's tcp_resets_timeouts summary (docs/classification.md): per window,
-- post_syn, post_ack and post_psh count resets and timeouts, later_in_flow counts resets
-- only, and everything else (normal closes, timeouts at the later stage) is no_match.
-- Add `AND client_asn = N` or `AND client_country = 'CC'` to the WHERE clause for
-- Radar's asn and location parameters.
SELECT
    toStartOfFifteenMinutes(finalized) AS window,
    count() AS connections,
    round(countIf(stage = 'post_syn') / count(), 4) AS post_syn,
    round(countIf(stage = 'post_ack') / count(), 4) AS post_ack,
    round(countIf(stage = 'post_psh') / count(), 4) AS post_psh,
    round(countIf(stage = 'later' AND close = 'reset') / count(), 4) AS later_in_flow,
    round(countIf(stage = 'none' OR (stage = 'later' AND close != 'reset')) / count(), 4) AS no_match
FROM sampler.connections FINAL
WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
GROUP BY window
ORDER BY window;

-- name: signature_shares
-- Per window, the tampering signatures of the SIGCOMM 2023 study (docs/classification.md):
-- each signature's connections and their share of the window's ('none': stage none, which
-- has no signature; 'unknown': rows of an earlier sampler, without one), its resets, and
-- of those that carry their evidence the share with an IPv4 IP ID gap above 1 and with a
-- TTL gap above 2 (the default ttl_margin: change the 2 to yours). NULL where none does.
-- `sampler report --by signature` prints the same numbers.
SELECT
    window,
    signature,
    connections,
    round(connections / total, 4) AS share,
    resets,
    if(evidenced = 0, NULL, round(ipid_gaps / evidenced, 4)) AS ipid_gap_over_1_share,
    if(evidenced = 0, NULL, round(ttl_gaps / evidenced, 4)) AS ttl_gap_over_margin_share
FROM
(
    SELECT
        toStartOfFifteenMinutes(finalized) AS window,
        if(stage = 'none', 'none', if(signature = '', 'unknown', signature)) AS signature,
        count() AS connections,
        countIf(close = 'reset') AS resets,
        countIf(close = 'reset' AND rst_ttl_gap IS NOT NULL) AS evidenced,
        countIf(close = 'reset' AND ifNull(rst_ipid_gap, 0) > 1) AS ipid_gaps,
        countIf(close = 'reset' AND ifNull(rst_ttl_gap, 0) > 2) AS ttl_gaps
    FROM sampler.connections FINAL
    WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
    GROUP BY window, signature
)
ANY LEFT JOIN
(
    SELECT toStartOfFifteenMinutes(finalized) AS window, count() AS total
    FROM sampler.connections FINAL
    WHERE NOT has(tags, 'multiple_syns') AND close != 'shutdown'
    GROUP BY window
) USING window
ORDER BY window, signature;
