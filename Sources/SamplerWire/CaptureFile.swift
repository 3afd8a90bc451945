/// Why a capture file could not be read past `offset` (a byte offset into the file).
public struct CaptureFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case empty
        case notACapture
        case unsupportedVersion
        case truncated
        case badBlockLength
        case unknownInterface
    }

    public var reason: Reason
    public var offset: Int

    public var description: String {
        switch reason {
        case .empty: "empty: a capture starts with a header (a tcpdump still writing it has not flushed yet: stop it, or give it -U)"
        case .notACapture: "not a pcap or pcapng file (unknown magic number at byte \(offset))"
        case .unsupportedVersion: "unsupported capture format version at byte \(offset)"
        case .truncated:
            (offset == 0 ? "file is cut short: its header is incomplete" : "file is cut short: the record at byte \(offset) is incomplete")
                + " (a capture still being written, or copied in part: copy it again once it is complete)"
        case .badBlockLength: "corrupt record length at byte \(offset)"
        case .unknownInterface: "packet at byte \(offset) names an interface the file never described"
        }
    }
}

/// One packet record from a capture file: the frame as a sub-view of the file's bytes.
public struct CaptureRecord: ~Escapable {
    public let linkType: UInt32
    /// The record's own time (for NFLOG pcaps, when tcpdump read the batch); nil when the
    /// format has none (pcapng simple packet blocks).
    public let time: Microseconds?
    public let frame: RawSpan
    /// Where the record starts in the file.
    public let offset: Int
    /// The file's byte order, which NFLOG frames use for their TLV headers.
    public let order: ByteOrder

    @_lifetime(copy frame)
    init(linkType: UInt32, time: Microseconds?, frame: RawSpan, offset: Int, order: ByteOrder) {
        self.linkType = linkType
        self.time = time
        self.frame = frame
        self.offset = offset
        self.order = order
    }

    /// Parses the frame down to TCP. For NFLOG frames the time is the kernel's timestamp
    /// attribute when present; otherwise the record's time, or `fallbackTime`.
    public func summary(fallbackTime: Microseconds) throws(WireError) -> PacketSummary {
        let recordTime = time ?? fallbackTime
        if linkType == LinkType.nflog {
            return try NflogFrame(checking: frame, order: order).attributes.summary(fallbackTime: recordTime)
        }
        return try PacketSummary(ipPacket: ipPacket(inFrame: frame, linkType: linkType, order: order), time: recordTime)
    }
}

/// Reads the records of a pcap or pcapng file held in memory (a mapped file), in place.
/// The format is told by the magic number; iterate with `next()`. An error names the byte
/// offset where the file stopped making sense; the records before it were good.
public struct CaptureFile: ~Escapable {
    public enum Format: Sendable { case pcap, pcapng }

    public let format: Format
    private let bytes: RawSpan
    private var offset: Int
    private var order: ByteOrder
    // classic pcap
    private var pcapLinkType: UInt32 = 0
    private var nanosecondResolution = false
    // pcapng: the interfaces of the current section, in order of description
    private var interfaces: [Interface] = []

    struct Interface {
        var linkType: UInt32
        /// Timestamp units per second is 10^exponent, or 2^exponent when `binary`.
        var exponent: UInt8 = 6
        var binary = false

        /// Converts ticks to microseconds, saturating instead of wrapping.
        func micros(_ ticks: UInt64) -> Microseconds {
            if binary {
                let shift = UInt64(min(exponent, 63))
                let (whole, overflow) = (ticks >> shift).multipliedReportingOverflow(by: 1_000_000)
                let fraction = (ticks & ((1 << shift) - 1)).multipliedFullWidth(by: 1_000_000)
                let fractionMicros = shift == 0 ? 0 : (fraction.low >> shift) | (fraction.high << (64 - shift))
                return overflow ? .max : Microseconds(clamping: whole.addingReportingOverflow(fractionMicros).partialValue)
            }
            if exponent <= 6 {
                var scale: UInt64 = 1
                for _ in exponent..<6 { scale *= 10 }
                let (value, overflow) = ticks.multipliedReportingOverflow(by: scale)
                return overflow ? .max : Microseconds(clamping: value)
            }
            var divisor: UInt64 = 1
            for _ in 6..<min(exponent, 25) { divisor = divisor.multipliedReportingOverflow(by: 10).partialValue }
            return Microseconds(clamping: ticks / max(divisor, 1))
        }
    }

    enum Magic {
        static let pcapMicro: UInt32 = 0xa1b2_c3d4
        static let pcapNano: UInt32 = 0xa1b2_3c4d
        static let pcapngSection: UInt32 = 0x0a0d_0d0a
        static let pcapngByteOrder: UInt32 = 0x1a2b_3c4d
    }

    enum BlockType {
        static let interfaceDescription: UInt32 = 1
        static let obsoletePacket: UInt32 = 2
        static let simplePacket: UInt32 = 3
        static let enhancedPacket: UInt32 = 6
    }

    static let pcapHeaderLength = 24
    static let pcapRecordHeaderLength = 16
    /// No real frame is larger; a bigger length means a corrupt file, not a huge packet.
    static let maximumRecordLength = 1 << 18

    /// Whether `bytes` begin as a pcap or pcapng file does (their magic number), however
    /// cut short or damaged after it: for a reader of other input to say what it got.
    public static func beginsACapture(_ bytes: RawSpan) -> Bool {
        do throws(CaptureFileError) {
            _ = try CaptureFile(checking: bytes)
            return true
        } catch {
            return error.reason != .notACapture && error.reason != .empty
        }
    }

    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan) throws(CaptureFileError) {
        self.bytes = bytes
        guard bytes.byteCount >= 4 else {
            // Too short for a magic number: a capture cut short only if its bytes begin one.
            let startsOne = [Magic.pcapngSection, Magic.pcapMicro, Magic.pcapNano].contains { magic in
                (0..<bytes.byteCount).allSatisfy { bytes.u8($0) == UInt8(truncatingIfNeeded: magic >> (8 * $0)) }
                    || (0..<bytes.byteCount).allSatisfy { bytes.u8($0) == UInt8(truncatingIfNeeded: magic >> (8 * (3 - $0))) }
            }
            throw CaptureFileError(reason: bytes.byteCount == 0 ? .empty : startsOne ? .truncated : .notACapture, offset: 0)
        }
        let little = bytes.u32(0, .little)
        let big = bytes.u32(0, .big)
        if little == Magic.pcapngSection {
            format = .pcapng
            order = .little  // decided by the section header's byte-order magic
            offset = 0
        } else if [Magic.pcapMicro, Magic.pcapNano].contains(little) || [Magic.pcapMicro, Magic.pcapNano].contains(big) {
            format = .pcap
            order = [Magic.pcapMicro, Magic.pcapNano].contains(little) ? .little : .big
            nanosecondResolution = bytes.u32(0, order) == Magic.pcapNano
            guard bytes.byteCount >= Self.pcapHeaderLength else { throw CaptureFileError(reason: .truncated, offset: 0) }
            guard bytes.u16(4, order) == 2 else { throw CaptureFileError(reason: .unsupportedVersion, offset: 4) }
            // The upper bits of the link-type field carry FCS information.
            pcapLinkType = bytes.u32(20, order) & 0x03ff_ffff
            offset = Self.pcapHeaderLength
        } else {
            throw CaptureFileError(reason: .notACapture, offset: 0)
        }
    }

    /// What a reader of a stream keeps to read on in the next piece of the same file: the
    /// format, the byte order and, for pcapng, the section's interfaces.
    public struct Position: Sendable {
        let format: Format
        let order: ByteOrder
        let pcapLinkType: UInt32
        let nanosecondResolution: Bool
        let interfaces: [Interface]
    }

    /// Where to read on from, once this piece is used up.
    public var position: Position {
        Position(format: format, order: order, pcapLinkType: pcapLinkType, nanosecondResolution: nanosecondResolution,
                 interfaces: interfaces)
    }

    /// Bytes of this piece read so far: the offset of the next record. After a
    /// `.truncated` error, the start of the record cut short.
    public var consumed: Int { offset }

    /// Reads on in `bytes`, the piece of a stream that follows the bytes a reader at
    /// `position` consumed (a pipe read in pieces, so that memory holds one piece).
    @_lifetime(copy bytes)
    public init(resuming position: Position, bytes: RawSpan) {
        self.bytes = bytes
        format = position.format
        order = position.order
        pcapLinkType = position.pcapLinkType
        nanosecondResolution = position.nanosecondResolution
        interfaces = position.interfaces
        offset = 0
    }

    @_lifetime(copy self)
    public mutating func next() throws(CaptureFileError) -> CaptureRecord? {
        switch format {
        case .pcap: return try nextPcap()
        case .pcapng: return try nextPcapng()
        }
    }

    @_lifetime(copy self)
    private mutating func nextPcap() throws(CaptureFileError) -> CaptureRecord? {
        guard offset < bytes.byteCount else { return nil }
        let start = offset
        guard start + Self.pcapRecordHeaderLength <= bytes.byteCount else {
            throw CaptureFileError(reason: .truncated, offset: start)
        }
        let seconds = Int64(bytes.u32(start, order))
        let fraction = Int64(bytes.u32(start + 4, order))
        let included = Int(bytes.u32(start + 8, order))
        guard included <= Self.maximumRecordLength else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
        let dataStart = start + Self.pcapRecordHeaderLength
        guard dataStart + included <= bytes.byteCount else { throw CaptureFileError(reason: .truncated, offset: start) }
        offset = dataStart + included
        let micros = seconds * 1_000_000 + (nanosecondResolution ? fraction / 1000 : fraction)
        return CaptureRecord(
            linkType: pcapLinkType, time: Microseconds.clampedTime(micros), frame: bytes.extracting(dataStart..<(dataStart + included)),
            offset: start, order: order)
    }

    @_lifetime(copy self)
    private mutating func nextPcapng() throws(CaptureFileError) -> CaptureRecord? {
        while offset < bytes.byteCount {
            let start = offset
            guard start + 12 <= bytes.byteCount else { throw CaptureFileError(reason: .truncated, offset: start) }
            var type = bytes.u32(start, order)
            if bytes.u32(start, .little) == Magic.pcapngSection {
                // A section header sets the byte order of everything up to the next one.
                guard start + 28 <= bytes.byteCount else { throw CaptureFileError(reason: .truncated, offset: start) }
                let magic = bytes.u32(start + 8, .little)
                if magic == Magic.pcapngByteOrder { order = .little }
                else if magic.byteSwapped == Magic.pcapngByteOrder { order = .big }
                else { throw CaptureFileError(reason: .notACapture, offset: start + 8) }
                guard bytes.u16(start + 12, order) == 1 else { throw CaptureFileError(reason: .unsupportedVersion, offset: start + 12) }
                interfaces.removeAll(keepingCapacity: true)
                type = Magic.pcapngSection
            }
            let length = Int(bytes.u32(start + 4, order))
            guard length >= 12, length % 4 == 0 else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
            guard start + length <= bytes.byteCount else { throw CaptureFileError(reason: .truncated, offset: start) }
            guard Int(bytes.u32(start + length - 4, order)) == length else {
                throw CaptureFileError(reason: .badBlockLength, offset: start + length - 4)
            }
            offset = start + length
            let body = bytes.extracting((start + 8)..<(start + length - 4))
            switch type {
            case BlockType.interfaceDescription:
                guard body.byteCount >= 8 else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
                interfaces.append(Self.interface(from: body, order: order))
            case BlockType.enhancedPacket:
                guard body.byteCount >= 20 else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
                let index = Int(body.u32(0, order))
                guard index < interfaces.count else { throw CaptureFileError(reason: .unknownInterface, offset: start) }
                let ticks = UInt64(body.u32(4, order)) << 32 | UInt64(body.u32(8, order))
                let captured = Int(body.u32(12, order))
                guard 20 + captured <= body.byteCount else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
                let interface = interfaces[index]
                return CaptureRecord(
                    linkType: interface.linkType, time: Microseconds.clampedTime(interface.micros(ticks)),
                    frame: body.extracting(20..<(20 + captured)), offset: start, order: order)
            case BlockType.simplePacket:
                guard body.byteCount >= 4 else { throw CaptureFileError(reason: .badBlockLength, offset: start) }
                guard let interface = interfaces.first else { throw CaptureFileError(reason: .unknownInterface, offset: start) }
                let captured = min(Int(body.u32(0, order)), body.byteCount - 4)
                return CaptureRecord(
                    linkType: interface.linkType, time: nil, frame: body.extracting(4..<(4 + captured)),
                    offset: start, order: order)
            default:
                continue  // section headers, statistics, name resolution, custom blocks
            }
        }
        return nil
    }

    /// Reads an interface description block: link type, then options for the
    /// timestamp resolution (if_tsresol, code 9).
    private static func interface(from body: RawSpan, order: ByteOrder) -> Interface {
        var interface = Interface(linkType: UInt32(body.u16(0, order)))
        var offset = 8
        while offset + 4 <= body.byteCount {
            let code = body.u16(offset, order)
            let length = Int(body.u16(offset + 2, order))
            if code == 0 || offset + 4 + length > body.byteCount { break }
            if code == 9 && length >= 1 {
                let value = body.u8(offset + 4)
                interface.binary = value & 0x80 != 0
                interface.exponent = value & 0x7f
            }
            offset += 4 + align4(length)
        }
        return interface
    }
}
