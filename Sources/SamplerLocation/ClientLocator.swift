import SamplerClassifier
import SamplerSinks
import SamplerWire

/// Fills in a record's `client` (AS number and country) from the location database at
/// `path`, for the thread that writes records (one lookup per connection, never per
/// packet, and one per client block while `LocationCache` holds it). Without a database (a missing file, a bad one) it says so once through `log`
/// and the records go out without the fields; `reopen` (on SIGHUP, after `location
/// update`) tries again, and a replaced file is picked up there.
public final class ClientLocator {
    public let path: String
    // Read once per record, by the one thread that writes records (which also reopens
    // the file): no run-time exclusivity check (docs/architecture.md).
    @exclusivity(unchecked) private var database: LocationDatabase?
    @exclusivity(unchecked) private var cache = LocationCache()
    private let log: (String) -> Void
    /// What goes without the database, for the message that says it is missing.
    private let without: String

    /// Whether every IPv4 block is laid flat when the file is opened (`IPv4Ranges`).
    private let flatAhead: Bool

    /// `flatAhead`: lay all of IPv4 flat when the file is opened (about 0.1 s and 8 MB),
    /// so that a flood of new sources never pays for it, as the daemon does, and give
    /// back the file's pages that took; otherwise a block is laid flat the first time one
    /// of its addresses is looked up.
    public init(path: String, without: String = "records carry no client_asn and client_country", flatAhead: Bool = false,
                log: @escaping (String) -> Void) {
        self.path = path
        self.without = without
        self.flatAhead = flatAhead
        self.log = log
        open(announce: false)
    }

    /// Whether lookups have a database behind them.
    public var isOpen: Bool { database != nil }

    /// The AS name, where the database has one.
    public func asName(_ asn: UInt32) -> String? { database?.asName(asn) }

    public func locate(_ record: inout ConnectionRecord) {
        guard let database else { return }
        record.client = cache.location(of: record.key.source, family: record.key.family, in: database)
    }

    /// Fills in the `client` of every record of `records`, eight at a time: the records'
    /// clients not in the cache are looked up together, their walks interleaved (a SYN
    /// flood from random sources misses the cache on every record, and a walk is a chain
    /// of memory misses).
    public func locate(_ records: inout [ConnectionRecord]) {
        guard let database else { return }
        let lanes = LocationDatabase.lookupLanes
        // Through the buffer: a field read or written in place, where the array's
        // subscript copied each whole record out and back (1.5% of the flood's CPU).
        records.withUnsafeMutableBufferPointer { records in
            var start = 0
            while start < records.count {
                let count = min(lanes, records.count - start)
                var clients = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
                for lane in 0..<count { clients[lane] = (records[start + lane].key.source, records[start + lane].key.family) }
                let locations = cache.locations(of: clients, count: count, in: database)
                for lane in 0..<count { records[start + lane].client = locations[lane] }
                start += count
            }
        }
    }

    /// Opens the file again: what `location update` wrote replaces what was open.
    public func reopen() { open(announce: true) }

    private func open(announce: Bool) {
        do {
            let fresh = try LocationDatabase(path: path)
            if announce { log("location database \(path) reopened (built \(fresh.builtText))") }
            database = fresh
            cache = LocationCache()  // its answers were the old file's
            if flatAhead {
                cache.layIPv4Flat(from: fresh)
                fresh.releaseReadPages()
            }
        } catch {
            // The old database, if there was one, keeps serving: a failed reload loses nothing.
            log(database == nil ? "\(error); \(without)"
                : "cannot reopen the location database, keeping the one open: \(error)")
        }
    }
}

extension LocationDatabase {
    /// "2022-10-29", the day the database was built, for log lines.
    public var builtText: String { String(Timestamp.string(createdAt * 1_000_000).prefix(10)) }
}
