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
