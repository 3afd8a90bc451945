#!/usr/bin/env python3
"""Writes a synthetic NFLOG capture (pcap, link type 239, as `tcpdump -i nflog:N -w` does)
for the `sampler classify` benchmark: CONNECTIONS client-to-server TCP connections over
IPv4, about 3.8 packets each, interleaved in time as a busy server sees them.

    scripts/make-capture.py OUT.pcap [CONNECTIONS]    (default 500000: about 1.9 M packets)

The mix: 30% a lone SYN (a scan, post_syn; open at the end of the file, so `shutdown`
with the default idle timeout, `timeout` with one shorter than the capture), 20% SYN,
ACK, RST (post_ack), 20% SYN, ACK, PSH, RST+ACK (post_psh), 30% a whole exchange closed
by FIN (none).
Connection i starts 20 us after connection i-1; its packets are 1 ms apart. Standard
library only; deterministic (a fixed seed), so every run measures the same file.
"""
import random, struct, sys

out = sys.argv[1]
connections = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
rng = random.Random(2026)
start = 1_795_000_000_000_000  # microseconds since the epoch
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
scripts = [
    (30, [SYN]),
    (20, [SYN, ACK, RST]),
    (20, [SYN, ACK, PSH | ACK, RST | ACK]),
    (30, [SYN, ACK, PSH | ACK, ACK, PSH | ACK, FIN | ACK, ACK]),
]
choices = [s for weight, s in scripts for _ in range(weight)]

def tlv(kind, value):
    # NFLOG attributes in the capturing host's order (little-endian here), padded to 4.
    data = struct.pack("<HH", 4 + len(value), kind) + value
    return data + b"\0" * (-len(data) % 4)

def frame(time, src, sport, flags, seq, ack, payload, ipid):
    tcp = struct.pack("!HHIIBBHHH", sport, 443, seq, ack, 5 << 4, flags, 64240, 0, 0) + b"x" * payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid, 0x4000, 57, 6, 0,
                     struct.pack("!I", src), bytes([198, 51, 100, 1])) + tcp
    nflog = struct.pack("!BBH", 2, 0, 5)  # nfgenmsg: AF_INET, version 0, group 5
    nflog += tlv(1, struct.pack("!HBB", 0x0800, 0, 0))  # NFULA_PACKET_HDR
    nflog += tlv(3, struct.pack("!QQ", time // 1_000_000, time % 1_000_000))  # NFULA_TIMESTAMP
    nflog += tlv(9, ip)  # NFULA_PAYLOAD
    return nflog

packets = []
for i in range(connections):
    src = 0x0A000000 | (i // 50_000) << 8 | rng.getrandbits(8)
    sport = 1024 + i % 50_000
    t0 = start + i * 20
    seq, ipid = rng.getrandbits(32), rng.getrandbits(16)  # the client's IP ID counter counts up
    for n, flags in enumerate(rng.choice(choices)):
        payload = 100 if flags & PSH else 0
        packets.append((t0 + n * 1000, src, sport, flags, seq, 0 if flags == SYN else 1, payload, (ipid + n) & 0xFFFF))
packets.sort(key=lambda p: p[0])

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 239))
    for p in packets:
        data = frame(*p)
        f.write(struct.pack("<IIII", p[0] // 1_000_000, p[0] % 1_000_000, len(data), len(data)))
        f.write(data)
print(f"{out}: {connections} connections, {len(packets)} packets", file=sys.stderr)
