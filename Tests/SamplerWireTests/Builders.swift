// Byte builders for wire fixtures: each writes a header field by field, in network order
// unless told otherwise, so a test reads as the packet it describes.

struct Bytes {
    var data: [UInt8] = []

    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16, little: Bool = false) {
        let b = little ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: b) { data.append(contentsOf: $0) }
    }
    mutating func u32(_ v: UInt32, little: Bool = false) {
        let b = little ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: b) { data.append(contentsOf: $0) }
    }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func pad4() { while data.count % 4 != 0 { data.append(0) } }
}

struct TCPSpec {
    var sport: UInt16 = 40000, dport: UInt16 = 443
    var seq: UInt32 = 1000, ack: UInt32 = 0
    var flags: UInt16 = 0x002  // SYN
    var window: UInt16 = 64240
    var options: [UInt8] = []  // raw option bytes, padded to 4 by the builder
    var payload: [UInt8] = []

    func build() -> [UInt8] {
        var opts = options
        while opts.count % 4 != 0 { opts.append(0) }
        var b = Bytes()
        b.u16(sport); b.u16(dport); b.u32(seq); b.u32(ack)
        b.u8(UInt8((20 + opts.count) / 4) << 4 | UInt8(flags >> 8 & 1))
        b.u8(UInt8(flags & 0xff))
        b.u16(window); b.u16(0); b.u16(0)
        b.bytes(opts); b.bytes(payload)
        return b.data
    }

    /// MSS 1460, SACK permitted, timestamps, NOP, window scale 7: Linux's SYN.
    static let linuxSYNOptions: [UInt8] = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
}

func ipv4(_ tcp: [UInt8], src: UInt32 = 0xc000_0201, dst: UInt32 = 0xc633_6401, ttl: UInt8 = 64, id: UInt16 = 4321,
          df: Bool = true, fragmentOffset: UInt16 = 0, moreFragments: Bool = false, proto: UInt8 = 6,
          options: [UInt8] = []) -> [UInt8] {
    var b = Bytes()
    b.u8(0x40 | UInt8((20 + options.count) / 4))
    b.u8(0)
    b.u16(UInt16(20 + options.count + tcp.count))
    b.u16(id)
    b.u16((df ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | fragmentOffset)
    b.u8(ttl); b.u8(proto); b.u16(0)
    b.u32(src); b.u32(dst)
    b.bytes(options); b.bytes(tcp)
    return b.data
}

/// An IPv6 packet; `extensions` are (type, body) pairs, each body already a multiple of 8
/// minus 2 bytes for generic headers (the builder writes next-header and length).
func ipv6(_ tcp: [UInt8], hopLimit: UInt8 = 64, flowLabel: UInt32 = 0x12345,
          extensions: [(type: UInt8, body: [UInt8])] = [], src: (UInt64, UInt64) = (0x2001_0db8_0000_0000, 1),
          dst: (UInt64, UInt64) = (0x2001_0db8_0000_0001, 0x443), upper: UInt8 = 6) -> [UInt8] {
    var ext = Bytes()
    for (i, header) in extensions.enumerated() {
        let next = i + 1 < extensions.count ? extensions[i + 1].type : upper
        ext.u8(next)
        if header.type == 44 {
            ext.u8(0); ext.bytes(header.body)  // fragment header: reserved, then 6 bytes
        } else {
            ext.u8(UInt8((header.body.count + 2) / 8 - 1)); ext.bytes(header.body)
        }
    }
    var b = Bytes()
    b.u32(0x6000_0000 | flowLabel)
    b.u16(UInt16(ext.data.count + tcp.count))
    b.u8(extensions.first?.type ?? upper)
    b.u8(hopLimit)
    b.u64(src.0); b.u64(src.1); b.u64(dst.0); b.u64(dst.1)
    b.bytes(ext.data); b.bytes(tcp)
    return b.data
}

/// One NFLOG TLV/attribute: length, type (in the given order), value, padding.
func attribute(_ type: UInt16, _ value: [UInt8], little: Bool = true) -> [UInt8] {
    var b = Bytes()
    b.u16(UInt16(4 + value.count), little: little)
    b.u16(type, little: little)
    b.bytes(value)
    b.pad4()
    return b.data
}

func be32(_ v: UInt32) -> [UInt8] { var b = Bytes(); b.u32(v); return b.data }

func timestampValue(seconds: UInt64, micros: UInt64) -> [UInt8] {
    var b = Bytes(); b.u64(seconds); b.u64(micros); return b.data
}

/// The attributes the kernel sends for a logged IPv4 packet, in its order.
func nflogAttributes(packet: [UInt8], seq: UInt32, time: (UInt64, UInt64)? = (1_700_000_000, 250_000),
                     prefix: String = "sampler", little: Bool = true, extra: [UInt8] = []) -> [UInt8] {
    var b = Bytes()
    b.bytes(attribute(1, [0x08, 0x00, 0, 0], little: little))  // packet header: IPv4, hook 0
    b.bytes(attribute(10, Array(prefix.utf8) + [0], little: little))
    b.bytes(attribute(4, be32(2), little: little))  // in-device index
    if let time { b.bytes(attribute(3, timestampValue(seconds: time.0, micros: time.1), little: little)) }
    b.bytes(extra)
    b.bytes(attribute(12, be32(seq), little: little))
    b.bytes(attribute(9, packet, little: little))
    return b.data
}

/// A netlink NFLOG packet message in host order (little-endian on the machines we run).
func nflogMessage(packet: [UInt8], seq: UInt32, group: UInt16 = 7, time: (UInt64, UInt64)? = (1_700_000_000, 250_000),
                  extra: [UInt8] = []) -> [UInt8] {
    let attrs = nflogAttributes(packet: packet, seq: seq, time: time, extra: extra)
    var b = Bytes()
    b.u32(UInt32(16 + 4 + attrs.count), little: true)
    b.u16(0x0400, little: true); b.u16(0, little: true)
    b.u32(0, little: true); b.u32(0, little: true)
    b.u8(2); b.u8(0); b.u16(group)  // nfgenmsg: AF_INET, version 0, group
    b.bytes(attrs)
    return b.data
}

func netlinkDone() -> [UInt8] {
    var b = Bytes()
    b.u32(20, little: true); b.u16(3, little: true); b.u16(2, little: true)
    b.u32(0, little: true); b.u32(0, little: true); b.u32(0, little: true)
    return b.data
}

func netlinkError(_ code: Int32) -> [UInt8] {
    var b = Bytes()
    b.u32(36, little: true); b.u16(2, little: true); b.u16(0, little: true)
    b.u32(9, little: true); b.u32(0, little: true)
    b.u32(UInt32(bitPattern: code), little: true)
    b.bytes([UInt8](repeating: 0, count: 16))
    return b.data
}

/// A classic pcap file.
func pcapFile(linkType: UInt32, records: [(sec: UInt32, frac: UInt32, data: [UInt8])], little: Bool = true,
              nano: Bool = false) -> [UInt8] {
    var b = Bytes()
    b.u32(nano ? 0xa1b2_3c4d : 0xa1b2_c3d4, little: little)
    b.u16(2, little: little); b.u16(4, little: little)
    b.u32(0, little: little); b.u32(0, little: little); b.u32(262_144, little: little)
    b.u32(linkType, little: little)
    for r in records {
        b.u32(r.sec, little: little); b.u32(r.frac, little: little)
        b.u32(UInt32(r.data.count), little: little); b.u32(UInt32(r.data.count), little: little)
        b.bytes(r.data)
    }
    return b.data
}

enum PcapngBlock {
    case interface(linkType: UInt16, tsresol: UInt8?)
    case enhanced(interface: UInt32, ticks: UInt64, data: [UInt8])
    case simple(data: [UInt8])
    case custom
}

func pcapngFile(_ blocks: [PcapngBlock], little: Bool = true) -> [UInt8] {
    func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        var padded = body
        while padded.count % 4 != 0 { padded.append(0) }
        var b = Bytes()
        b.u32(type, little: little); b.u32(UInt32(12 + padded.count), little: little)
        b.bytes(padded); b.u32(UInt32(12 + padded.count), little: little)
        return b.data
    }
    var shb = Bytes()
    shb.u32(0x1a2b_3c4d, little: little); shb.u16(1, little: little); shb.u16(0, little: little)
    shb.u64(UInt64.max)
    var out = block(0x0a0d_0d0a, shb.data)
    for item in blocks {
        var body = Bytes()
        switch item {
        case .interface(let linkType, let tsresol):
            body.u16(linkType, little: little); body.u16(0, little: little); body.u32(0, little: little)
            if let tsresol {
                body.u16(9, little: little); body.u16(1, little: little); body.u8(tsresol); body.pad4()
                body.u16(0, little: little); body.u16(0, little: little)
            }
            out += block(1, body.data)
        case .enhanced(let interface, let ticks, let data):
            body.u32(interface, little: little)
            body.u32(UInt32(ticks >> 32), little: little); body.u32(UInt32(ticks & 0xffff_ffff), little: little)
            body.u32(UInt32(data.count), little: little); body.u32(UInt32(data.count), little: little)
            body.bytes(data)
            out += block(6, body.data)
        case .simple(let data):
            body.u32(UInt32(data.count), little: little); body.bytes(data)
            out += block(3, body.data)
        case .custom:
            out += block(0x0000_0bad, [1, 2, 3, 4])
        }
    }
    return out
}

/// Runs `body` with a RawSpan over `bytes`.
@discardableResult
func withSpan<R>(_ bytes: [UInt8], _ body: (RawSpan) throws -> R) rethrows -> R {
    try body(bytes.span.bytes)
}

/// The bytes of a span, copied out (for comparing in tests).
func copied(_ span: RawSpan) -> [UInt8] { span.withUnsafeBytes { Array($0) } }
