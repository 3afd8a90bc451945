import SamplerClassifier
import SamplerSinks

/// Which records a report counts: a time range (of the `finalized` time, the one that
/// places a record in its window) and, as Radar's `asn` and `location` parameters
/// select, one client AS or country.
public struct ReportFilter: Sendable, Equatable {
    /// Microseconds since the epoch, as records hold their times: from `since`
    /// (inclusive) to `until` (exclusive), so that a time with a fraction
    /// (`2026-11-21T00:00:00.5Z`) selects to the microsecond, as it reads.
    public var since: Int64?
    public var until: Int64?
    public var asn: UInt32?
    public var country: CountryCode?

    public init(since: Int64? = nil, until: Int64? = nil, asn: UInt32? = nil, country: CountryCode? = nil) {
        self.since = since
        self.until = until
        self.asn = asn
        self.country = country
    }

    func admits(finalized: Int64, asn recordASN: UInt32?, country recordCountry: CountryCode?) -> Bool {
        if let since, finalized < since { return false }
        if let until, finalized >= until { return false }
        if let asn, recordASN != asn { return false }
        if let country, recordCountry != country { return false }
        return true
    }

    /// The same conditions in ClickHouse's SQL over the table's columns. The values are
    /// numbers and a checked two-letter code, so nothing needs quoting beyond the code's.
    /// A time is compared with `finalized` (whole seconds, what the table is ordered by)
    /// and, only when it has a fraction, within its second with `finalized_usec`.
    var sql: [String] {
        var conditions: [String] = []
        if let since {
            let (second, micro) = Timestamp.split(since)
            conditions.append(micro == 0 ? "finalized >= toDateTime(\(second))"
                : "(finalized > toDateTime(\(second)) OR (finalized = toDateTime(\(second)) AND finalized_usec >= \(micro)))")
        }
        if let until {
            let (second, micro) = Timestamp.split(until)
            conditions.append(micro == 0 ? "finalized < toDateTime(\(second))"
                : "(finalized < toDateTime(\(second)) OR (finalized = toDateTime(\(second)) AND finalized_usec < \(micro)))")
        }
        if let asn { conditions.append("client_asn = \(asn)") }
        if let country { conditions.append("client_country = '\(country)'") }
        return conditions
    }
}

/// The times `--since` and `--until` take: RFC 3339 (`2026-11-21T00:00:00Z`), or relative
/// to now as people say it: `now`, `today` and `yesterday` (midnight UTC), or an age such
/// as `-90s`, `-15m`, `-1h`, `-2d`, `-1w`.
public enum ReportTime {
    public static let allowed = "an RFC 3339 time such as 2026-11-21T00:00:00Z or 2026-11-21T01:00:00+01:00, or now, today, yesterday (midnight UTC), or an age such as -15m, -1h, -2d, -1w"

    /// Microseconds since the epoch (`now` in seconds); nil when `text` is none of the above.
    public static func microseconds(_ text: String, now: Int64) -> Int64? {
        if let parsed = Timestamp.parse(Substring(text)) { return parsed }
        return seconds(relative: text, now: now).map { $0 * 1_000_000 }
    }

    /// Seconds since the epoch of a time relative to now.
    private static func seconds(relative text: String, now: Int64) -> Int64? {
        switch text {
        case "now": return now
        case "today": return now - now.modulo(86_400)
        case "yesterday": return now - now.modulo(86_400) - 86_400
        default: break
        }
        if text.hasPrefix("-"), let unit = text.last, let scale = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800][unit],
           let amount = Int64(text.dropFirst().dropLast()), amount >= 0, amount <= 100 * 365 * 86_400 / scale {
            return now - amount * Int64(scale)
        }
        return nil
    }
}

private extension Int64 {
    /// The remainder that is never negative (times before 1970 included).
    func modulo(_ divisor: Int64) -> Int64 { ((self % divisor) + divisor) % divisor }
}
