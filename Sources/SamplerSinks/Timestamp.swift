import SamplerWire

/// RFC 3339 UTC timestamps with microseconds ("2024-09-05T12:00:00.123456Z"), computed
/// from the epoch without Foundation or the C library (Howard Hinnant's civil_from_days).
public enum Timestamp {
    /// "2024-09-05T12:00:00.123456Z" is 27 bytes; a year before 1000 or after 9999 (never
    /// from a packet: times are clamped) would take a few more.
    public static let maximumLength = 32

    public static func append(_ time: Microseconds, to out: inout [UInt8]) {
        out.appendText(maximum: maximumLength) { write(time, to: &$0) }
    }

    /// "2024-09-05 12:00:00" (UTC, whole seconds: ClickHouse's DateTime text); returns
    /// the microseconds left over.
    @discardableResult
    public static func appendDateTime(_ time: Microseconds, separator: UInt8 = UInt8(ascii: " "), to out: inout [UInt8]) -> Int64 {
        var micros: Int64 = 0
        out.appendText(maximum: maximumLength) { micros = writeDateTime(time, separator: separator, to: &$0) }
        return micros
    }

    /// The civil date of the last day asked for, and the text of the last two seconds
    /// written: a record's three times are nearly always on one day, consecutive records
    /// mostly in the same two seconds (first_seen and last_seen in one, finalized a grace
    /// period or a timeout later), and computing the date was a tenth of classify's
    /// writing thread. A writer keeps one for all its records.
    public struct Dates {
        private var days: Int64 = .min
        private var date: (year: Int64, month: Int64, day: Int64) = (0, 0, 0)
        /// "2024-09-05T12:00:00", the date and time of `seconds[i]` with `separators[i]`,
        /// in `texts[19 * i ..< 19 * (i + 1)]`.
        private var seconds = InlineArray<2, Int64>(repeating: .min)
        private var separators = InlineArray<2, UInt8>(repeating: 0)
        fileprivate var texts = InlineArray<38, UInt8>(repeating: 0)
        /// The entry used last; a miss replaces the other.
        private var recent = 0
        static let textLength = 19

        public init() {}

        mutating func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
            if days != self.days {
                self.days = days
                date = Timestamp.civil(fromDays: days)
            }
            return date
        }

        /// The entry that holds this second's text with this separator, if one does.
        fileprivate mutating func entry(_ second: Int64, _ separator: UInt8) -> Int? {
            for i in 0..<2 where seconds[i] == second && separators[i] == separator {
                recent = i
                return i
            }
            return nil
        }

        /// Keeps `text` for this second and separator, in place of the entry used least lately.
        fileprivate mutating func keep(_ text: UnsafeBufferPointer<UInt8>, _ second: Int64, _ separator: UInt8) {
            let i = 1 - recent
            for j in 0..<Self.textLength { texts[Self.textLength * i + j] = text[j] }
            (seconds[i], separators[i], recent) = (second, separator, i)
        }
    }

    /// Writes the RFC 3339 form with microseconds.
    public static func write(_ time: Microseconds, to out: inout TextCursor) {
        var dates = Dates()
        write(time, to: &out, dates: &dates)
    }

    /// The same, taking the date from `dates` when it is the day it holds.
    public static func write(_ time: Microseconds, to out: inout TextCursor, dates: inout Dates) {
        let micros = writeDateTime(time, separator: UInt8(ascii: "T"), to: &out, dates: &dates)
        out.put(UInt8(ascii: "."))
        out.putFixed(UInt64(micros), digits: 6)
        out.put(UInt8(ascii: "Z"))
    }

    /// Writes "2024-09-05 12:00:00" with `separator` between date and time; returns the
    /// microseconds left over.
    @discardableResult
    public static func writeDateTime(_ time: Microseconds, separator: UInt8 = UInt8(ascii: " "), to out: inout TextCursor) -> Int64 {
        var dates = Dates()
        return writeDateTime(time, separator: separator, to: &out, dates: &dates)
    }

    /// The whole seconds of a time and the microseconds after them (0 to 999,999, also
    /// before 1970).
    @inlinable
    public static func split(_ time: Microseconds) -> (seconds: Int64, micros: Int64) {
        let micros = time % 1_000_000 < 0 ? time % 1_000_000 + 1_000_000 : time % 1_000_000
        return ((time - micros) / 1_000_000, micros)
    }

    @discardableResult
    public static func writeDateTime(_ time: Microseconds, separator: UInt8, to out: inout TextCursor, dates: inout Dates) -> Int64 {
        let (seconds, micros) = split(time)
        // The same second as the last one written (a year of four digits: always, from a
        // packet): its text again.
        if let entry = dates.entry(seconds, separator) {
            dates.texts.span.withUnsafeBufferPointer {
                out.put(UnsafeBufferPointer(rebasing: $0[Dates.textLength * entry ..< Dates.textLength * (entry + 1)]))
            }
            return micros
        }
        let start = out.count
        writeDateTime(seconds: seconds, separator: separator, to: &out, dates: &dates)
        let written = out.bytes(since: start)
        if written.count == Dates.textLength { dates.keep(written, seconds, separator) }
        return micros
    }

    /// Writes the date and time of `seconds`.
    private static func writeDateTime(seconds: Int64, separator: UInt8, to out: inout TextCursor, dates: inout Dates) {
        let secondOfDay = seconds % 86_400 < 0 ? seconds % 86_400 + 86_400 : seconds % 86_400
        let days = (seconds - secondOfDay) / 86_400
        let (year, month, day) = dates.civil(fromDays: days)
        if (0...9999).contains(year) { out.putFixed(UInt64(year), digits: 4) } else { out.putDecimal(year) }
        out.put(UInt8(ascii: "-"))
        out.putFixed(UInt64(month), digits: 2)
        out.put(UInt8(ascii: "-"))
        out.putFixed(UInt64(day), digits: 2)
        out.put(separator)
        out.putFixed(UInt64(secondOfDay / 3600), digits: 2)
        out.put(UInt8(ascii: ":"))
        out.putFixed(UInt64(secondOfDay / 60 % 60), digits: 2)
        out.put(UInt8(ascii: ":"))
        out.putFixed(UInt64(secondOfDay % 60), digits: 2)
    }

    /// A window's start in a table people read: "2026-11-21 20:15", or with its seconds
    /// ("2026-11-21 20:15:07") when a table holds windows that start within a minute
    /// (`needsSeconds`), so that windows of a few seconds are told apart.
    public static func windowLabel(_ time: Microseconds, seconds: Bool, separator: UInt8 = UInt8(ascii: " ")) -> String {
        var out: [UInt8] = []
        appendDateTime(time, separator: separator, to: &out)
        return String(decoding: out.prefix(seconds ? 19 : 16), as: UTF8.self)
    }

    /// Whether some of these window starts fall within a minute, not on one.
    public static func needsSeconds(_ starts: some Sequence<Microseconds>) -> Bool {
        starts.contains { $0 % 60_000_000 != 0 }
    }

    public static func string(_ time: Microseconds) -> String {
        var out: [UInt8] = []
        append(time, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses an RFC 3339 time: what `append` writes ("2024-09-05T12:00:00.123456Z"), and
    /// what other tools write in the same form: a space or a t for the T, a fraction of 1
    /// to 9 digits (beyond the microsecond, cut), a z, or an offset such as +01:00 (the
    /// time is then that far ahead of UTC). A date that does not exist (February 30) and
    /// anything else is nil.
    public static func parse(_ text: Substring) -> Microseconds? {
        Array(text.utf8).withUnsafeBufferPointer { parse($0) }
    }

    /// The same over bytes (a field in a records line, read in place).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Microseconds? {
        func digits(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
              (1...12).contains(month), (1...daysIn(month: month, of: year)).contains(day),
              hour < 24, minute < 60, second < 61 else { return nil }
        var at = 19
        var micros: Int64 = 0
        if bytes[at] == UInt8(ascii: ".") {
            at += 1
            let start = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            guard (1...9).contains(at - start), let value = digits(start..<min(at, start + 6)) else { return nil }
            micros = value
            for _ in min(at - start, 6)..<6 { micros *= 10 }
        }
        // The offset: Z, or how far the local time is ahead of UTC.
        var offset: Int64 = 0
        guard at < bytes.count else { return nil }
        switch bytes[at] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            at += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard at + 6 == bytes.count, bytes[at + 3] == UInt8(ascii: ":"),
                  let hours = digits(at + 1..<at + 3), let minutes = digits(at + 4..<at + 6),
                  hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[at] == UInt8(ascii: "-") ? -1 : 1)
            at += 6
        default:
            return nil
        }
        guard at == bytes.count else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return seconds * 1_000_000 + micros
    }

    /// The days of `month` (1 to 12) in the Gregorian `year`.
    static func daysIn(month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
