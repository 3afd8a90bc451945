// Field access on borrowed bytes. Every view checks its length once, when it is made;
// after that these loads cannot go out of bounds (RawSpan still checks, as a backstop that
// traps on a bug here instead of reading past the buffer).

/// The byte order of a multi-byte field. Network headers are big-endian; netlink headers
/// and attributes are in the host's order; a pcap file says its own order in its magic.
public enum ByteOrder: Sendable {
    case big, little

    /// The order of the machine running this code.
    public static var host: ByteOrder { 1.littleEndian == 1 ? .little : .big }
}

extension RawSpan {
    @inline(__always)
    func u8(_ offset: Int) -> UInt8 {
        unsafeLoadUnaligned(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func u16(_ offset: Int, _ order: ByteOrder = .big) -> UInt16 {
        let raw = unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return order == .big ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    @inline(__always)
    func u32(_ offset: Int, _ order: ByteOrder = .big) -> UInt32 {
        let raw = unsafeLoadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return order == .big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    @inline(__always)
    func u64(_ offset: Int, _ order: ByteOrder = .big) -> UInt64 {
        let raw = unsafeLoadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return order == .big ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }
}

/// Rounds a length up to the next multiple of 4, as netlink (NLMSG_ALIGN, NLA_ALIGN),
/// NFLOG's pcap TLVs and pcapng blocks all do.
@inline(__always)
func align4(_ length: Int) -> Int { (length + 3) & ~3 }
