#!/usr/bin/python3
"""Writes a pcap (Ethernet) of client-to-server TCP connections from clients in several
public networks and countries, IPv4 and IPv6, and one in private space, each ending at a
chosen stage, for checking AS numbers, countries and per-AS stage shares end to end.

    /usr/bin/python3 scripts/make-location-capture.py OUT.pcap [--expect FILE] [--database PATH]

It prints (or writes to FILE) a JSON description: for each connection the client and
server, the close and stage that `sampler classify OUT.pcap` must give it
(docs/classification.md), its flags, and the client's AS number, AS name and country as
python3-location reads them from the same database (null where the database has none),
so a test compares without writing the database's contents into the test.

Only the client's packets are in the file, as NFLOG delivers them (every packet is
client-to-server for `sampler classify`). Connections start 0.5 s apart; their packets
are 10 ms apart. A reset is a RST from the client (written out after the 1 s grace
period); a timeout is a connection that simply stops: the last connections start at
+300 s, so the capture's clock passes every earlier connection's 120 s idle timeout and
classify finalizes them as timeouts. Needs python3-scapy and python3-location (Debian:
/usr/bin/python3); writes the file only, never sends a packet.
"""
import argparse, capture_description, ctypes, decimal, json, logging, random, sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no route or libpcap notes
import location
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

DATABASE = "/usr/share/libloc-location/location.db"
SERVER_V4, SERVER_V6, SERVER_PORT = "198.51.100.10", "2001:db8:1::10", 443
CLIENT_MAC, SERVER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"  # explicit: nothing resolved
START = decimal.Decimal(1_795_000_000)  # seconds since the epoch
LATE_START = START + 300  # past the 120 s idle timeout of everything before it
PAYLOAD = 100

# (client, packets, close, stage): the flag letters as the records write them.
# Deutsche Telekom (AS3320, DE) has one connection at each stage, so its shares are not
# trivial; later ones cover other countries, IPv6, a later-stage reset (Radar's
# later_in_flow) and a later-stage timeout (no_match in Radar), normal closes (none),
# a network with a country but no AS (Orange, FR) and private space (no AS, no country).
EARLY = [
    ("194.25.2.129", "S", "timeout", "post_syn"),
    ("194.25.2.130", "S R", "reset", "post_syn"),
    ("194.25.2.131", "S A R", "reset", "post_ack"),
    ("194.25.2.132", "S A PA RA", "reset", "post_psh"),
    ("194.25.2.133", "S A PA PA RA", "reset", "later"),
    ("194.25.2.134", "S A PA A FA", "fin", "none"),
    ("2003::1", "S A PA", "timeout", "post_psh"),
    ("212.27.40.240", "S A PA PA R", "reset", "later"),      # FR, Free
    ("202.232.2.1", "S A PA A PA", "timeout", "later"),      # JP, IIJ
    ("200.160.2.3", "S A", "timeout", "post_ack"),           # BR, NIC.br
    ("95.167.0.1", "S", "timeout", "post_syn"),              # RU, Rostelecom
    ("41.0.0.1", "S A PA R", "reset", "post_psh"),           # ZA, Vodacom
    ("202.96.128.86", "S RA", "reset", "post_syn"),          # CN, Chinanet
    ("164.100.0.1", "S A PA FA", "fin", "none"),             # IN, NIC
    ("80.10.246.2", "S", "timeout", "post_syn"),             # FR, a country but no AS
    ("2a01:e00::1", "S A RA", "reset", "post_ack"),          # FR, Free
    ("240e::1", "S A PA PA PA RA", "reset", "later"),        # CN, Chinanet
    ("2c0f:f4c0::1", "S A PA A", "timeout", "post_psh"),     # ZA, Afrihost
    ("10.1.2.3", "S A", "timeout", "post_ack"),              # private: no AS, no country
]
# At +300 s: they move the capture's clock past the idle timeouts of all the above.
LATE = [
    ("2001:240::1", "S A PA A FA", "fin", "none"),           # JP, IIJ
    ("194.25.2.135", "S A PA A FA", "fin", "none"),
]
SCHEDULE = [(START + decimal.Decimal(i) / 2, row) for i, row in enumerate(EARLY)] \
    + [(LATE_START + decimal.Decimal(i) / 2, row) for i, row in enumerate(LATE)]


def packets(start, sport, client, letters, rng):
    """The client's packets of one connection, each with the time it is written at."""
    v6 = ":" in client
    seq, server_seq, ipid = rng.getrandbits(32), rng.getrandbits(32), rng.randrange(1, 60000)
    out = []
    for n, flags in enumerate(letters.split()):
        data = PAYLOAD if "P" in flags else 0
        if v6:
            ip = IPv6(src=client, dst=SERVER_V6, hlim=57)
        else:
            ip = IP(src=client, dst=SERVER_V4, ttl=57, id=ipid + n, flags="DF")
        options = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000 + n, 0)), ("NOP", None), ("WScale", 7)] \
            if flags == "S" else []
        tcp = TCP(sport=sport, dport=SERVER_PORT, flags=flags, seq=seq, window=64240, options=options,
                  ack=(server_seq + 1) & 0xFFFFFFFF if "A" in flags else 0)
        frame = Ether(src=CLIENT_MAC, dst=SERVER_MAC) / ip / tcp
        if data:
            frame = frame / Raw(b"x" * data)
        frame.time = start + decimal.Decimal(n) / 100
        out.append(frame)
        seq = (seq + data + (1 if flags in ("S", "FA") else 0)) & 0xFFFFFFFF
    return out


# libloc 0.9.16 returns "not found" without setting errno, and python3-location then
# raises OSError with whatever errno an earlier call left (ENOENT, ENOTTY) instead of
# returning None: clear errno before each lookup.
_errno = ctypes.CDLL(None).__errno_location
_errno.restype = ctypes.POINTER(ctypes.c_int)


def located(database, client):
    _errno().contents.value = 0
    network = database.lookup(client)
    asn = network.asn if network and network.asn else None
    country = network.country_code if network and network.country_code else None
    system = database.get_as(asn) if asn else None
    return {"asn": asn, "as_name": system.name if system and system.name else None, "country": country}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="the pcap file to write")
    parser.add_argument("--expect", metavar="FILE", help="write the JSON description here instead of standard output")
    parser.add_argument("--database", default=DATABASE, help=f"the location database (default {DATABASE})")
    args = parser.parse_args()

    database = location.Database(args.database)
    rng = random.Random(15)
    frames, described = [], []
    for index, (start, (client, letters, close, stage)) in enumerate(SCHEDULE):
        where = located(database, client)
        private = client.startswith("10.")
        if private != (where["asn"] is None and where["country"] is None):
            sys.exit(f"make-location-capture: {args.database} places {client} at {where}: "
                     "pick another client address for this connection")
        connection = packets(start, 40000 + index, client, letters, rng)
        frames += connection
        described.append({
            "client": client, "family": 6 if ":" in client else 4, "sport": connection[0]["TCP"].sport,
            "server": SERVER_V6 if ":" in client else SERVER_V4, "dport": SERVER_PORT,
            "flags": letters.split(), "close": close, "stage": stage, **where,
        })
    frames.sort(key=lambda frame: frame.time)
    wrpcap(args.output, frames)

    capture_description.write({"capture": args.output, "database": args.database, "database_created_at": database.created_at}, described, args.expect, len(frames))

if __name__ == "__main__":
    main()
