// Text forms of addresses: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest
// run of two or more zero groups shortened to "::", leftmost run on a tie).

extension IPAddress {
    /// The longest text form: eight groups of four hex digits and seven colons.
    public static let maximumTextLength = 39

    /// Writes the text form.
    public func write(family: IPFamily, to out: inout TextCursor) {
        switch family {
        case .v4:
            out.putDottedQuad(v4)
        case .v6:
            var groups = InlineArray<8, UInt16>(repeating: 0)
            for i in 0..<4 {
                groups[i] = UInt16(truncatingIfNeeded: high >> UInt64(48 - 16 * i))
                groups[i + 4] = UInt16(truncatingIfNeeded: low >> UInt64(48 - 16 * i))
            }
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0...8 {
                if i < 8 && groups[i] == 0 {
                    if runStart < 0 { runStart = i }
                } else if runStart >= 0 {
                    if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            var i = 0
            while i < 8 {
                if i == bestStart {
                    out.put(UInt8(ascii: ":"))
                    if i == 0 { out.put(UInt8(ascii: ":")) }
                    i += bestLength
                    continue
                }
                out.putHex(groups[i])
                if i < 7 { out.put(UInt8(ascii: ":")) }
                i += 1
            }
        }
    }

    /// Appends the text form to `out`.
    public func appendText(family: IPFamily, to out: inout [UInt8]) {
        out.appendText(maximum: Self.maximumTextLength) { write(family: family, to: &$0) }
    }

    public func text(family: IPFamily) -> String {
        var bytes: [UInt8] = []
        appendText(family: family, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses "192.0.2.1" or "2001:db8::1"; nil if it is neither.
    public init?(parsing text: Substring) {
        if text.contains(":") {
            guard let value = Self.parseV6(text) else { return nil }
            self = value
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard !part.isEmpty, part.count <= 3, let octet = UInt8(part) else { return nil }
                value = value << 8 | UInt32(octet)
            }
            self.init(v4: value)
        }
    }

    private static func parseV6(_ text: Substring) -> IPAddress? {
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
            .map { String($0) }
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for piece in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(piece.count), let g = UInt16(piece, radix: 16) else { return nil }
                result.append(g)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<4 {
            high = high << 16 | UInt64(all[i])
            low = low << 16 | UInt64(all[i + 4])
        }
        return IPAddress(high: high, low: low)
    }
}
