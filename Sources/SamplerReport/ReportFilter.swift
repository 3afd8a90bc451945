import SamplerClassifier

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
