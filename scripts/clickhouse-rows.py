#!/usr/bin/env python3
"""Rows shaped like sampler's ClickHouse rows (Sources/SamplerClickHouse/ClickHouseRow.swift),
in JSONEachRow, field order as sampler writes them.
  scripts/clickhouse-rows.py OUTDIR HOSTS BATCHES_PER_HOST ROWS_PER_BATCH [SEED]
writes OUTDIR/<host>-<batch>.jsonl, one file per batch (one host per batch, as sampler)."""
import json, random, sys, os
out, hosts, batches, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
base = int(sys.argv[6]) if len(sys.argv) > 6 else 0      # added to every batch id
gap = float(sys.argv[7]) if len(sys.argv) > 7 else 0.5   # mean seconds between a host's connections
first_host = int(sys.argv[8]) if len(sys.argv) > 8 else 1
os.makedirs(out, exist_ok=True)
day0 = 1795737600  # 2026-11-27 00:00:00 UTC
def dt(t):
    import time
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
# (stage, close, tags, signature, flags, gaps) — weights roughly a server's mix: mostly
# normal closes, some tampering-looking resets and timeouts, scans.
kinds = [
    (60, "none", "fin", ["fin"], None, ["S","A","PA","A","FA","A"], None),
    (8, "later", "reset", ["reset","single_rst"], "data_rst", ["S","A","PA","A","PA","R"], "v4"),
    (6, "post_syn", "timeout", ["timeout"], "syn_timeout", ["S"], None),
    (5, "post_syn", "reset", ["reset","single_rst","zmap"], "syn_rst", ["S","R"], "v4"),
    (5, "post_ack", "timeout", ["timeout"], "ack_timeout", ["S","A"], None),
    (5, "post_psh", "reset", ["reset","single_rstack"], "psh_rstack", ["S","A","PA","RA"], "v4"),
    (4, "post_psh", "reset", ["acknumdiff","ipid_mismatch","multiple_rsts","reset","ttl_mismatch"], "psh_rst_ne_rst", ["S","A","PA","R","R"], "v4"),
    (4, "post_psh", "timeout", ["timeout"], "psh_timeout", ["S","A","PA"], None),
    (2, "none", "cap", [], None, ["S","A","PA","A","PA","A","PA","A","PA","A"], None),
    (1, "post_ack", "reset", ["reset","single_rst"], "ack_rst", ["S","A","R"], "v4"),
]
weights = [k[0] for k in kinds]
ports = [443]*6 + [80]*3 + [22, 8080]
asns = [(3320,"DE"),(7922,"US"),(4134,"CN"),(12389,"RU"),(0,""),(16509,"US"),(9121,"TR"),(55836,"IN")]
for h in range(first_host - 1, first_host - 1 + hosts):
    host = f"web-{h+1}.fleet.example.net"
    dst = f"198.51.100.{h % 250 + 1}"
    t = day0 + h * 7
    for b in range(batches):
        batch_id = 1795737600000000 + base + h * 1000003 + b * 60_000_000
        lines = []
        for r in range(rows):
            t += rng.expovariate(1 / gap)
            first = int(t); fus = int((t - first) * 1e6)
            w, stage, close, tags, sig, flags, gaps = rng.choices(kinds, weights)[0]
            dur = {"timeout": 0.05, "cap": 3.0}.get(close, rng.uniform(0.01, 2.0))
            last = t + dur
            fin = last + (120 if close == "timeout" else rng.uniform(0.1, 1.0))
            v6 = rng.random() < 0.15
            asn, cc = rng.choice(asns)
            src = (f"2001:db8:{rng.randrange(65536):x}::" if v6 else f"{rng.randrange(1,224)}.{rng.randrange(256)}.{rng.randrange(256)}.0")
            row = {"host": host, "first_seen": dt(first), "first_seen_usec": fus,
                   "last_seen": dt(int(last)), "last_seen_usec": int((last - int(last)) * 1e6),
                   "finalized": dt(int(fin)), "finalized_usec": int((fin - int(fin)) * 1e6),
                   "family": 6 if v6 else 4, "src": src, "sport": rng.randrange(32768, 61000),
                   "dst": ("2001:db8:ffff::" + str(h % 250 + 1)) if v6 else dst, "dport": rng.choice(ports),
                   "packets": len(flags), "close": close, "stage": stage, "tags": tags}
            if sig is not None: row["signature"] = sig
            if gaps and close == "reset":
                if not v6: row["rst_ipid_gap"] = rng.choice([1, 1, 2, 17000, 31234])
                row["rst_ttl_gap"] = rng.choice([0, 0, 0, 7, 12])
            row.update({"syn_ttl": rng.choice([64, 57, 116, 51, 128, 243]), "syn_ipid": 0 if rng.random() < 0.4 else rng.randrange(65536),
                        "syn_window": rng.choice([64240, 65535, 29200, 1024, 42340]),
                        "syn_options": rng.choice([[2,4,8,1,3], [2,1,3,1,1,8,4,0], [2], [2,4,8,1,3]]),
                        "flags": flags, "payload_bytes": 0 if len(flags) < 3 else rng.choice([517, 78, 1460, 10, 250]) * (len(flags) // 3)})
            if asn: row.update({"client_asn": asn, "client_country": cc})
            row.update({"batch_id": batch_id, "batch_row": r})
            lines.append(json.dumps(row, separators=(",", ":")))
        with open(f"{out}/{host}-{b:04d}.jsonl", "w") as f:
            f.write("\n".join(lines) + "\n")
