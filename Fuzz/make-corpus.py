#!/usr/bin/env python3
"""Seeds Fuzz/corpus from the real capture Tests/Fixtures/real-nflog.pcap: each NFLOG
record as a netlink message (selector 0), its IP packet (1) and NFLOG frame (3), plus the
whole capture (2). The selector byte comes first, as Fuzz/FuzzWire.swift reads it."""
import os, struct, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pcap = open(os.path.join(root, "Tests/Fixtures/real-nflog.pcap"), "rb").read()
out = os.path.join(root, "Fuzz/corpus")
os.makedirs(out, exist_ok=True)

def write(name, selector, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([selector]) + data)

write("capture", 2, pcap)
offset, index = 24, 0
while offset + 16 <= len(pcap) and index < 24:
    _, _, incl, _ = struct.unpack_from("<IIII", pcap, offset)
    frame = pcap[offset + 16: offset + 16 + incl]
    offset += 16 + incl
    # nlmsghdr (host order) + the frame, whose 4-byte header is nfgenmsg's layout.
    message = struct.pack("<IHHII", 16 + len(frame), 0x0400, 0, index, 0) + frame
    write(f"netlink-{index:02}", 0, message + b"\0" * (-len(message) % 4))
    write(f"frame-{index:02}", 3, frame)
    tlvs = frame[4:]
    while len(tlvs) >= 4:
        length, kind = struct.unpack_from("<HH", tlvs)
        if length < 4: break
        if kind == 9:
            write(f"ip-{index:02}", 1, tlvs[4:length])
        tlvs = tlvs[(length + 3) & ~3:]
    index += 1
print(f"wrote {len(os.listdir(out))} seeds to {out}")
