#!/usr/bin/python3
"""Writes a pcap (Ethernet) of client-to-server TCP connections, IPv4 and IPv6, one for
each tampering signature of docs/classification.md (the 19 of Sundara Raman et al.,
SIGCOMM 2023, and `other`) and for each corner of the evidence values `rst_ipid_gap` and
`rst_ttl_gap`, plus normal closes, for checking signatures and evidence end to end.

    /usr/bin/python3 scripts/make-signature-capture.py OUT.pcap [--expect FILE]

It prints (or writes to FILE) a JSON description: for each connection the client and
server, its flags, and the close, stage, signature, rst_ipid_gap and rst_ttl_gap that
`sampler classify OUT.pcap` must give it (null where the record has none), with a line
on why. Those values are written by hand in the table below, from the rules, never
computed here: each row spells out the IP IDs, TTLs (IPv6: hop limits) and RST
acknowledgement numbers they follow from, so that a reader can check them by eye.

Only the client's packets are in the file, as NFLOG delivers them (every packet is
client-to-server for `sampler classify`). Connections start 0.5 s apart; their packets
are 10 ms apart, so every RST falls within the 1 s grace period of the connection's first
RST. A timeout is a connection that simply stops: the last connections (normal closes)
start at +300 s, so the capture's clock passes every earlier connection's 120 s idle
timeout and classify finalizes them as timeouts. Needs python3-scapy (Debian:
/usr/bin/python3); writes the file only, never sends a packet.
"""
import argparse, capture_description, decimal, json, logging, random, sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no route or libpcap notes
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

SERVER_V4, SERVER_V6, SERVER_PORT = "198.51.100.10", "2001:db8:1::10", 443
CLIENT_MAC, SERVER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"  # explicit: nothing resolved
START = decimal.Decimal(1_795_000_000)  # seconds since the epoch
LATE_START = START + 300  # past the 120 s idle timeout of everything before it
PAYLOAD = 100
# Every connection's server picks this initial sequence number, so the client's ACKs all
# acknowledge 1000001 and the table can write a RST's acknowledgement number as a number.
SERVER_ISN = 1_000_000
TTL = 57  # a packet's TTL (IPv6: hop limit) unless its row says otherwise

# Each packet is "FLAGS key=value ...": FLAGS are the letters as records write them
# (bit order: F S R P A U E C N, so "PA", "RA", "FA"); the keys, where given:
#   id=N   IPv4 identification (otherwise the client's counter: a random start, +1 a packet)
#   ttl=N  IPv4 TTL or IPv6 hop limit (otherwise 57)
#   ack=N  acknowledgement number (otherwise 1000001 with ACK, 0 without)
# In a reset row every IPv4 packet has its id, the SYN and every RST their ttl, and every
# RST without ACK its ack, so that the evidence columns follow from the row alone:
#   rst_ipid_gap: the largest, over the RSTs, of the distance from the RST's id to the
#     nearest id of a packet without RST, the short way round 65536 (IPv4; null on IPv6);
#   rst_ttl_gap: the largest |RST ttl - SYN ttl|.
# Both are null unless the close is reset; signature is null when the stage is none.
#
# (client, packets, close, stage, signature, rst_ipid_gap, rst_ttl_gap, why)
EARLY = [
    # --- One per signature of section 8 ---------------------------------------------
    ("192.0.2.1", ["S"],
     "timeout", "post_syn", "syn_timeout", None, None, "a lone SYN, then silence"),
    ("192.0.2.2", ["S id=1000 ttl=57", "R id=1001 ttl=57 ack=0"],
     "reset", "post_syn", "syn_rst", 1, 0, "SYN then one RST from the client's own stack"),
    ("192.0.2.3", ["S id=2000 ttl=57", "R id=2001 ttl=57 ack=0", "R id=2002 ttl=57 ack=0"],
     "reset", "post_syn", "syn_rst", 2, 0, "syn_rst takes one or more RST: two here; the second RST is 2 from the SYN's id"),
    ("192.0.2.4", ["S id=3000 ttl=57", "RA id=3001 ttl=57"],
     "reset", "post_syn", "syn_rstack", 1, 0, "SYN then one RST+ACK"),
    ("192.0.2.5", ["S id=4000 ttl=57", "R id=4001 ttl=57 ack=0", "RA id=4002 ttl=57"],
     "reset", "post_syn", "syn_rst_rstack", 2, 0, "SYN then a RST and a RST+ACK"),
    ("192.0.2.6", ["S", "A"],
     "timeout", "post_ack", "ack_timeout", None, None, "handshake, then silence"),
    ("192.0.2.7", ["S id=5000 ttl=57", "A id=5001", "R id=5002 ttl=57 ack=1000001"],
     "reset", "post_ack", "ack_rst", 1, 0, "handshake then exactly one RST"),
    ("192.0.2.8", ["S id=6000 ttl=57", "A id=6001", "R id=6002 ttl=57 ack=1000001", "R id=6003 ttl=57 ack=1000001"],
     "reset", "post_ack", "ack_rst_rst", 2, 0, "handshake then two RSTs"),
    ("192.0.2.9", ["S id=7000 ttl=57", "A id=7001", "RA id=7002 ttl=57"],
     "reset", "post_ack", "ack_rstack", 1, 0, "handshake then exactly one RST+ACK"),
    ("192.0.2.10", ["S id=8000 ttl=57", "A id=8001", "RA id=8002 ttl=57", "RA id=8003 ttl=57"],
     "reset", "post_ack", "ack_rstack_rstack", 2, 0, "handshake then two RST+ACKs"),
    ("192.0.2.11", ["S", "A", "PA"],
     "timeout", "post_psh", "psh_timeout", None, None, "one data packet, then silence"),
    ("192.0.2.12", ["S id=9000 ttl=57", "A id=9001", "PA id=9002", "R id=9003 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst", 1, 0, "one data packet then exactly one RST"),
    ("192.0.2.13", ["S id=10000 ttl=57", "A id=10001", "PA id=10002", "RA id=10003 ttl=57"],
     "reset", "post_psh", "psh_rstack", 1, 0, "one data packet then exactly one RST+ACK"),
    ("192.0.2.14", ["S id=11000 ttl=57", "A id=11001", "PA id=11002", "R id=11003 ttl=57 ack=1000001",
                    "RA id=11004 ttl=57"],
     "reset", "post_psh", "psh_rst_rstack", 2, 0, "one data packet then a RST and a RST+ACK"),
    ("192.0.2.15", ["S id=12000 ttl=57", "A id=12001", "PA id=12002", "RA id=12003 ttl=57", "RA id=12004 ttl=57"],
     "reset", "post_psh", "psh_rstack_rstack", 2, 0, "one data packet then two RST+ACKs"),
    ("192.0.2.16", ["S id=13000 ttl=57", "A id=13001", "PA id=13002", "R id=13003 ttl=57 ack=1000001",
                    "R id=13004 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst_eq_rst", 2, 0, "two RSTs, both ack 1000001 (acknumsame)"),
    ("192.0.2.17", ["S id=14000 ttl=57", "A id=14001", "PA id=14002", "R id=14003 ttl=57 ack=0",
                    "R id=14004 ttl=57 ack=0"],
     "reset", "post_psh", "psh_rst_eq_rst", 2, 0, "two RSTs, both ack 0 (acknumsame0)"),
    ("192.0.2.18", ["S id=15000 ttl=57", "A id=15001", "PA id=15002", "R id=15003 ttl=57 ack=1000001",
                    "R id=15004 ttl=57 ack=1000101"],
     "reset", "post_psh", "psh_rst_ne_rst", 2, 0, "two RSTs, acks 1000001 and 1000101 (acknumdiff)"),
    ("192.0.2.19", ["S id=16000 ttl=57", "A id=16001", "PA id=16002", "R id=16003 ttl=57 ack=1000001",
                    "R id=16004 ttl=57 ack=0"],
     "reset", "post_psh", "psh_rst_rst0", 2, 0, "two RSTs, acks 1000001 and 0 (acknumdiff0)"),
    ("192.0.2.20", ["S id=17000 ttl=57", "A id=17001", "PA id=17002", "R id=17003 ttl=57 ack=1000001",
                    "R id=17004 ttl=57 ack=1000001", "R id=17005 ttl=57 ack=0"],
     "reset", "post_psh", "psh_rst_rst0", 3, 0, "three RSTs, acks 1000001, 1000001, 0: they differ, one is zero"),
    ("192.0.2.21", ["S id=18000 ttl=57", "A id=18001", "PA id=18002", "PA id=18003", "R id=18004 ttl=57 ack=1000001"],
     "reset", "later", "data_rst", 1, 0, "two data packets then one RST"),
    ("192.0.2.22", ["S id=19000 ttl=57", "A id=19001", "PA id=19002", "PA id=19003", "R id=19004 ttl=57 ack=1000001",
                    "R id=19005 ttl=57 ack=0"],
     "reset", "later", "data_rst", 2, 0, "data_rst takes one or more RST: two here, acks aside"),
    ("192.0.2.23", ["S id=20000 ttl=57", "A id=20001", "PA id=20002", "PA id=20003", "RA id=20004 ttl=57"],
     "reset", "later", "data_rstack", 1, 0, "two data packets then one RST+ACK"),

    # --- other: a reset or timeout that no row of the table matches -------------------
    ("198.51.100.1", ["S id=21000 ttl=57", "A id=21001", "R id=21002 ttl=57 ack=1000001", "RA id=21003 ttl=57"],
     "reset", "post_ack", "other", 2, 0, "both kinds of RST after the handshake: no post_ack row has both"),
    ("198.51.100.2", ["S id=22000 ttl=57", "A id=22001", "PA id=22002", "PA id=22003", "R id=22004 ttl=57 ack=1000001",
                      "RA id=22005 ttl=57"],
     "reset", "later", "other", 2, 0, "both kinds of RST after two data packets: no later row has both"),
    ("198.51.100.3", ["S", "A", "PA", "A", "PA"],
     "timeout", "later", "other", None, None, "a timeout at later: the study has no <Data -> nothing> signature"),

    # --- FIN beside RST: the signature is the one without the FIN ---------------------
    ("198.51.100.4", ["S id=23000 ttl=57", "A id=23001", "PA id=23002", "FA id=23003", "R id=23004 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst", 1, 0, "a FIN then a RST: still psh_rst (tag fin)"),
    ("198.51.100.5", ["S id=24000 ttl=57", "A id=24001", "FA id=24002", "RA id=24003 ttl=57"],
     "reset", "post_ack", "ack_rstack", 1, 0, "a FIN after the handshake, then a RST+ACK: still ack_rstack (tag fin)"),

    # --- IPv6: no IP ID, so rst_ipid_gap is null; the TTL gap is of hop limits ---------
    ("2001:db8::1", ["S ttl=57", "A", "PA", "RA ttl=64"],
     "reset", "post_psh", "psh_rstack", None, 7, "IPv6: RST+ACK hop limit 64, SYN 57"),
    ("2001:db8::2", ["S ttl=64", "R ttl=64 ack=0", "R ttl=200 ack=0"],
     "reset", "post_syn", "syn_rst", None, 136, "IPv6: two RSTs, hop limits 64 and 200, SYN 64: the larger gap"),
    ("2001:db8::3", ["S", "A"],
     "timeout", "post_ack", "ack_timeout", None, None, "IPv6 timeout: no evidence"),

    # --- rst_ipid_gap corners (IPv4) ------------------------------------------------------
    ("203.0.113.1", ["S id=12000 ttl=57", "R id=0 ttl=57 ack=0"],
     "reset", "post_syn", "syn_rst", 12000, 0, "RST with IP ID 0 (a socketless kernel reply) after a SYN with 12000"),
    ("203.0.113.2", ["S id=3000 ttl=57", "A id=3001", "PA id=3002", "R id=3003 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst", 1, 0, "the client's own RST: its next IP ID, the SYN's TTL"),
    ("203.0.113.3", ["S id=65533 ttl=57", "A id=65534", "PA id=65535", "RA id=2 ttl=57"],
     "reset", "post_psh", "psh_rstack", 3, 0, "the counter wraps: 65535 to 2 is 3 the short way round"),
    ("203.0.113.4", ["S id=100 ttl=57", "A id=30000", "PA id=30001", "R id=150 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst", 50, 0, "the nearest id is the SYN's (100), not the last packet's"),
    ("203.0.113.5", ["S id=5000 ttl=57", "A id=5001", "PA id=5002", "R id=5004 ttl=57 ack=1000001",
                     "R id=5300 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst_eq_rst", 298, 0, "two RSTs 2 and 298 from 5002: the largest"),
    ("203.0.113.6", ["S id=1000 ttl=57", "R id=33768 ttl=57 ack=0"],
     "reset", "post_syn", "syn_rst", 32768, 0, "half the circle both ways: the largest gap there is"),
    ("203.0.113.7", ["S id=0 ttl=57", "A id=0", "PA id=0", "R id=0 ttl=57 ack=1000001"],
     "reset", "post_psh", "psh_rst", 0, 0, "a stack that sends IP ID 0 (DF) throughout, RST too"),

    # --- rst_ttl_gap corners ---------------------------------------------------------------
    ("203.0.113.8", ["S id=25000 ttl=57", "A id=25001", "PA id=25002", "RA id=25003 ttl=250"],
     "reset", "post_psh", "psh_rstack", 1, 193, "RST+ACK TTL 250 against the SYN's 57: an injector's"),
    ("203.0.113.9", ["S id=26000 ttl=57", "A id=26001", "PA id=26002", "RA id=26003 ttl=60", "RA id=26004 ttl=50"],
     "reset", "post_psh", "psh_rstack_rstack", 2, 7, "RST TTLs 60 and 50, SYN 57: 3 and 7, the largest"),
    ("203.0.113.10", ["S id=27000 ttl=57", "A id=27001 ttl=60", "PA id=27002 ttl=60", "R id=27003 ttl=60 ack=1000001"],
     "reset", "post_psh", "psh_rst", 1, 3, "the gap is to the SYN's TTL (57), not the other packets' (60)"),

    # --- Normal closes: stage none, no signature, no evidence --------------------------
    ("203.0.113.11", ["S", "A", "PA", "A", "FA"],
     "fin", "none", None, None, None, "a normal close by FIN"),
    ("203.0.113.12", ["S", "A", "PA", "A", "A", "PA", "A", "A", "A", "A"],
     "cap", "none", None, None, None, "survives its first 10 packets"),
]
# At +300 s: they move the capture's clock past the idle timeouts of all the above.
LATE = [
    ("203.0.113.200", ["S", "A", "PA", "A", "FA"],
     "fin", "none", None, None, None, "a normal close by FIN, late"),
    ("2001:db8::200", ["S", "A", "PA", "A", "FA"],
     "fin", "none", None, None, None, "IPv6: a normal close by FIN, late"),
]
SCHEDULE = [(START + decimal.Decimal(i) / 2, row) for i, row in enumerate(EARLY)] \
    + [(LATE_START + decimal.Decimal(i) / 2, row) for i, row in enumerate(LATE)]

LETTER_ORDER = "FSRPAUECN"  # TCPFlags.letterOrder: how records write the flags
KEYS = {"id", "ttl", "ack"}


def parsed(client, close, text):
    """One packet of a row: its flag letters and the fields it sets. Checks only the form
    of the row (the letters as records write them, the fields a reset row must give)."""
    letters, *fields = text.split()
    given = {}
    for field in fields:
        key, _, value = field.partition("=")
        if key not in KEYS or key in given or not value.isdigit():
            sys.exit(f"make-signature-capture: {client}: bad field {field!r} in {text!r}")
        given[key] = int(value)
    if sorted(letters, key=LETTER_ORDER.find) != list(letters) or not set(letters) <= set(LETTER_ORDER) \
            or len(set(letters)) != len(letters):
        sys.exit(f"make-signature-capture: {client}: write the flags {letters!r} in the order {LETTER_ORDER}")
    v6 = ":" in client
    if v6 and "id" in given:
        sys.exit(f"make-signature-capture: {client}: IPv6 has no IP ID: {text!r}")
    if close == "reset":
        # The evidence columns are read off the row: it must spell out what they use.
        missing = [key for key, needed in (
            ("id", not v6),
            ("ttl", letters == "S" or "R" in letters),
            ("ack", "R" in letters and "A" not in letters),
        ) if needed and key not in given]
        if missing:
            sys.exit(f"make-signature-capture: {client}: a reset row must give {', '.join(missing)} in {text!r}")
    return letters, given


def packets(start, sport, client, close, texts, rng):
    """The client's packets of one connection, each with the time it is written at."""
    v6 = ":" in client
    seq, ipid = rng.getrandbits(32), rng.randrange(1, 60000)
    out = []
    for n, text in enumerate(texts):
        flags, given = parsed(client, close, text)
        data = PAYLOAD if "P" in flags else 0
        ttl = given.get("ttl", TTL)
        if v6:
            ip = IPv6(src=client, dst=SERVER_V6, hlim=ttl)
        else:
            ip = IP(src=client, dst=SERVER_V4, ttl=ttl, id=given.get("id", (ipid + n) & 0xFFFF), flags="DF")
        options = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000 + n, 0)), ("NOP", None), ("WScale", 7)] \
            if flags == "S" else []
        ack = given.get("ack", SERVER_ISN + 1 if "A" in flags else 0)
        tcp = TCP(sport=sport, dport=SERVER_PORT, flags=flags, seq=seq, ack=ack, window=64240, options=options)
        frame = Ether(src=CLIENT_MAC, dst=SERVER_MAC) / ip / tcp
        if data:
            frame = frame / Raw(b"x" * data)
        frame.time = start + decimal.Decimal(n) / 100
        out.append(frame)
        seq = (seq + data + (1 if flags in ("S", "FA") else 0)) & 0xFFFFFFFF
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="the pcap file to write")
    parser.add_argument("--expect", metavar="FILE", help="write the JSON description here instead of standard output")
    args = parser.parse_args()

    rng = random.Random(19)
    frames, described, clients = [], [], set()
    for index, (start, row) in enumerate(SCHEDULE):
        client, texts, close, stage, signature, ipid_gap, ttl_gap, why = row
        if client in clients or client in (SERVER_V4, SERVER_V6) or not 1 <= len(texts) <= 10 \
                or texts[0].split()[0] != "S":
            sys.exit(f"make-signature-capture: {client}: each row needs its own client (not the server), "
                     "a SYN first and 1 to 10 packets")
        clients.add(client)
        connection = packets(start, 40000 + index, client, close, texts, rng)
        frames += connection
        v6 = ":" in client
        described.append({
            "client": client, "family": 6 if v6 else 4, "sport": connection[0]["TCP"].sport,
            "server": SERVER_V6 if v6 else SERVER_V4, "dport": SERVER_PORT,
            "flags": [text.split()[0] for text in texts], "close": close, "stage": stage,
            "signature": signature, "rst_ipid_gap": ipid_gap, "rst_ttl_gap": ttl_gap, "why": why,
        })
    frames.sort(key=lambda frame: frame.time)
    wrpcap(args.output, frames)

    capture_description.write({"capture": args.output}, described, args.expect, len(frames))

if __name__ == "__main__":
    main()
