#!/usr/bin/python3
"""Prints, for each address, what libloc's own Python binding (python3-location) finds in
a location database: one line "ADDRESS ASN COUNTRY ASNAME", "-" for what is missing (the
AS name last, as it may hold spaces). The tests compare sampler's lookups with it.

    /usr/bin/python3 scripts/location-lookup.py DATABASE ADDRESS...

errno is cleared before each lookup: libloc 0.9.16 does not set it for "not found", and
the binding then raises OSError with whatever an earlier call left instead of returning
None.
"""
import ctypes, sys
import location

errno = ctypes.CDLL(None).__errno_location
errno.restype = ctypes.POINTER(ctypes.c_int)
db = location.Database(sys.argv[1])
for text in sys.argv[2:]:
    errno().contents.value = 0
    network = db.lookup(text)
    asn = network.asn if network and network.asn else None
    country = network.country_code if network and network.country_code else None
    system = db.get_as(asn) if asn else None
    name = system.name if system and system.name else None
    print(text, asn or "-", country or "-", name or "-")
