import SamplerClassifier
import SamplerSinks

/// Which records a report counts: a time range (of the `finalized` time, the one that
/// places a record in its window) and, as Radar's `asn` and `location` parameters
/// select, one client AS or country.
public struct ReportFilter: Sendable, Equatable {
    /// Seconds since the epoch: from `since` (inclusive) to `until` (exclusive).
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

    func admits(finalizedSeconds seconds: Int64, asn recordASN: UInt32?, country recordCountry: CountryCode?) -> Bool {
        if let since, seconds < since { return false }
        if let until, seconds >= until { return false }
        if let asn, recordASN != asn { return false }
        if let country, recordCountry != country { return false }
        return true
    }

    /// The same conditions in ClickHouse's SQL over the table's columns. The values are
    /// numbers and a checked two-letter code, so nothing needs quoting beyond the code's.
    var sql: [String] {
        var conditions: [String] = []
        if let since { conditions.append("finalized >= toDateTime(\(since))") }
        if let until { conditions.append("finalized < toDateTime(\(until))") }
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

    /// Seconds since the epoch; nil when `text` is none of the above.
    public static func seconds(_ text: String, now: Int64) -> Int64? {
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
        return Timestamp.parse(Substring(text)).map { $0 / 1_000_000 }
    }
}

private extension Int64 {
    /// The remainder that is never negative (times before 1970 included).
    func modulo(_ divisor: Int64) -> Int64 { ((self % divisor) + divisor) % divisor }
}
