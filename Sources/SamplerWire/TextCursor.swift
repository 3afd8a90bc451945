/// Writes ASCII text through a pointer into room made in advance, for the record formats.
///
/// A record's line has a known largest size, so the formats make room once per line
/// (`[UInt8].appendText(maximum:_:)`, in the output array itself) and write each byte with one
/// predictable bounds check, instead of `Array.append`'s capacity and uniqueness checks
/// per byte, which cost more than the bytes themselves. Writing past the room stops the
/// process with a message (a bug in a format's bound), never writes past it.
public struct TextCursor: ~Copyable {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var written = 0
    /// Bytes written so far.
    public var count: Int { written }

    @inlinable
    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inlinable @inline(__always)
    mutating func room(_ bytes: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(written + bytes <= capacity, "TextCursor: a line longer than its format's bound")
        defer { written += bytes }
        return base + written
    }

    @inlinable @inline(__always)
    public mutating func put(_ byte: UInt8) { room(1).pointee = byte }

    /// The bytes written since `start` (a `count` read before), to keep a copy of; valid
    /// until the next write.
    @inlinable
    public func bytes(since start: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base + start, count: written - start) }

    @inlinable @inline(__always)
    public mutating func put(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        room(length).update(from: text.utf8Start, count: length)
    }

    @inlinable
    public mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        room(bytes.count).update(from: source, count: bytes.count)
    }

    /// "00", "01", ... "99" back to back: decimals are written two digits at a time.
    @usableFromInline static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// Decimal digits, at least `width` of them (zero-padded). Two digits per division,
    /// and the length from comparisons rather than a division per digit: the record
    /// formats write two dozen numbers a line, so this is where their time went.
    @inlinable @inline(__always)
    public mutating func putDecimal(_ value: UInt64, width: Int = 1) {
        var digits: Int
        if value < 10 { digits = 1 } else if value < 100 { digits = 2 } else if value < 1000 { digits = 3 }
        else if value < 10_000 { digits = 4 } else if value < 100_000 { digits = 5 } else if value < 1_000_000 { digits = 6 }
        else {
            digits = 7
            var rest = value / 10_000_000
            while rest > 0 { rest /= 10; digits += 1 }
        }
        putFixed(value, digits: Swift.max(digits, width))
    }

    /// A signed decimal.
    @inlinable
    public mutating func putDecimal(_ value: Int64) {
        if value < 0 { put(UInt8(ascii: "-")) }
        putDecimal(value.magnitude)
    }

    /// Exactly `digits` decimal digits (1 to 20), zero-padded, of a value that has no
    /// more: the fixed fields of a timestamp, and `putDecimal` once it knows the length.
    @inlinable @inline(__always)
    public mutating func putFixed(_ value: UInt64, digits: Int) {
        let start = room(digits)
        let pairs = Self.digitPairs.utf8Start
        var v = value, i = digits
        while i >= 2 {
            let quotient = v / 100, pair = Int(truncatingIfNeeded: v &- quotient &* 100) &* 2
            i &-= 2
            start[i] = pairs[pair]
            start[i &+ 1] = pairs[pair &+ 1]
            v = quotient
        }
        if i == 1 { start[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10) }
    }

    /// An IPv4 address as a dotted quad ("192.0.2.1"). Each octet is one store of four
    /// bytes from a table ("7.", "42." or "255.", padded to four) and a move by its
    /// length, without a division or a branch per digit: two addresses a record, the most
    /// numbers of any field. A store may write up to three bytes past the text (inside
    /// the room checked for, and overwritten by what follows).
    @inlinable
    public mutating func putDottedQuad(_ value: UInt32) {
        precondition(written + 16 <= capacity, "TextCursor: a line longer than its format's bound")
        let texts = UnsafeRawPointer(Self.octetTexts.utf8Start)
        var at = base + written
        @inline(__always) func octet(_ octet: UInt32) -> Int {
            let text = texts.loadUnaligned(fromByteOffset: Int(octet) &* 4, as: UInt32.self)
            UnsafeMutableRawPointer(at).storeBytes(of: text, as: UInt32.self)
            return 2 &+ (octet >= 10 ? 1 : 0) &+ (octet >= 100 ? 1 : 0)  // digits and the dot
        }
        at += octet(value >> 24)
        at += octet((value >> 16) & 0xff)
        at += octet((value >> 8) & 0xff)
        at += octet(value & 0xff) &- 1  // no dot after the last
        written = at - base
    }

    /// "0.", "1.", ... "255.", each in four bytes (padded with dots, never read as text).
    @usableFromInline static let octetTexts: StaticString = "0...1...2...3...4...5...6...7...8...9...10..11..12..13..14..15..16..17..18..19..20..21..22..23..24..25..26..27..28..29..30..31..32..33..34..35..36..37..38..39..40..41..42..43..44..45..46..47..48..49..50..51..52..53..54..55..56..57..58..59..60..61..62..63..64..65..66..67..68..69..70..71..72..73..74..75..76..77..78..79..80..81..82..83..84..85..86..87..88..89..90..91..92..93..94..95..96..97..98..99..100.101.102.103.104.105.106.107.108.109.110.111.112.113.114.115.116.117.118.119.120.121.122.123.124.125.126.127.128.129.130.131.132.133.134.135.136.137.138.139.140.141.142.143.144.145.146.147.148.149.150.151.152.153.154.155.156.157.158.159.160.161.162.163.164.165.166.167.168.169.170.171.172.173.174.175.176.177.178.179.180.181.182.183.184.185.186.187.188.189.190.191.192.193.194.195.196.197.198.199.200.201.202.203.204.205.206.207.208.209.210.211.212.213.214.215.216.217.218.219.220.221.222.223.224.225.226.227.228.229.230.231.232.233.234.235.236.237.238.239.240.241.242.243.244.245.246.247.248.249.250.251.252.253.254.255."

    /// Lower-case hexadecimal without leading zeros ("0" for zero).
    @inlinable
    public mutating func putHex(_ value: UInt16) {
        let digits = value == 0 ? 1 : (16 &- value.leadingZeroBitCount &+ 3) / 4
        let start = room(digits)
        let hex: StaticString = "0123456789abcdef"
        var v = value
        for i in stride(from: digits &- 1, through: 0, by: -1) {
            start[i] = hex.utf8Start[Int(v & 0xf)]
            v >>= 4
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends what `body` writes through a cursor with room for `maximum` bytes, straight
    /// into the array's spare capacity (grown first when there is less): no copy, and no
    /// allocation while the array has room.
    @inlinable
    public mutating func appendText(maximum: Int, _ body: (inout TextCursor) -> Void) {
        append(addingCapacity: maximum) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                var cursor = TextCursor(UnsafeMutableBufferPointer(rebasing: buffer[initialized...]))
                body(&cursor)
                initialized += cursor.count
            }
        }
    }
}
