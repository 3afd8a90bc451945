#!/usr/bin/python3
"""Writes a day of SYNTHETIC connection records (JSON lines, docs/records.md) to standard
output, for the example chart in docs/clickhouse.md: steady background shares, a SYN
scan burst (post_syn) at 03:00-04:00 and an afternoon of injected resets after the
client's first data packet (post_psh, as a middlebox filtering on the TLS SNI would
make). Regenerate the pictures with:

    scripts/chart-example.py > /tmp/example.jsonl
    sampler report /tmp/example.jsonl --svg docs/clickhouse/stages-example.svg
    rsvg-convert -o docs/clickhouse/stages-example.png docs/clickhouse/stages-example.svg
"""
import json
import random
import sys

random.seed(2026)
DAY = 1795219200  # 2026-11-21T00:00:00Z
for window in range(96):
    hour = window / 4
    shares = {"post_syn": 0.05, "post_ack": 0.02, "post_psh": 0.015, "later": 0.01}
    if 3 <= hour < 4:
        shares["post_syn"] = 0.30
    if 14 <= hour < 17:
        shares["post_psh"] = 0.12
    for _ in range(random.randint(260, 340)):
        r, stage = random.random(), "none"
        for name, share in shares.items():
            if r < share:
                stage = name
                break
            r -= share
        if stage == "none":
            tags = []
        elif stage == "post_syn" and 3 <= hour < 4:
            tags = ["reset", "single_rst", "zmap"]
        elif stage == "post_psh" and 14 <= hour < 17:
            tags = ["reset", "single_rstack", "ttl_mismatch"]
        else:
            tags = random.choice([["reset", "single_rstack"], ["timeout"]])
        t = DAY + window * 900 + random.randint(0, 899)
        stamp = "%sT%s.%06dZ" % (
            __import__("time").strftime("%Y-%m-%d", __import__("time").gmtime(t)),
            __import__("time").strftime("%H:%M:%S", __import__("time").gmtime(t)), random.randint(0, 999999))
        sys.stdout.write(json.dumps({"first_seen": stamp, "src": "203.0.113.%d" % random.randint(1, 254),
                                     "dport": 443, "stage": stage, "tags": tags}) + "\n")
