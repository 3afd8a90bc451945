import SamplerSystem
import CLibloc
@_exported import struct SamplerClassifier.Location
@_exported import struct SamplerClassifier.CountryCode
import SamplerWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The IPFire location database, open for lookups: AS number and country of an address
/// (`NetworkTree`, our own walk over the mapped file, which says what decided each
/// answer), and AS names and the header's facts (libloc).
///
/// A class, not a noncopyable struct: the daemon reopens the database on SIGHUP by making
/// a new one and swapping a reference, while a connection being finalized may still be
/// looking something up in the old one. With a class the old database lives until its
/// last user lets go, and `deinit` (munmap, loc_database_unref, loc_unref) frees it
/// exactly once.
///
/// `@unchecked Sendable`: lookups only read the mapping, from any thread; every libloc
/// call goes through `access`, because libloc's reference counts are plain ints, so two
/// threads in one database at once would corrupt them.
public final class LocationDatabase: @unchecked Sendable {
    public let path: String
    /// When the database was built, in seconds since the epoch (UTC).
    public let createdAt: Int64
    /// Who built it ("IPFire Project") and under which licence ("CC BY-SA 4.0").
    public let vendor: String
    public let license: String
    /// How many autonomous systems it names.
    public let autonomousSystemCount: Int

    private let context: OpaquePointer  // struct loc_ctx*
    private let database: OpaquePointer  // struct loc_database*
    private let access = Mutex(())
    /// The whole file, mapped read-only, and the tree over it.
    private let mapping: UnsafeRawBufferPointer
    let tree: NetworkTree

    public init(path: String) throws(LocationDatabaseError) {
        guard let file = fopen(path, "re") else {
            let code = errno
            throw code == ENOENT ? .missing(path: path) : .unreadable(path: path, Errno(rawValue: code))
        }
        // libloc maps the file through a descriptor of its own (it dups ours), so the
        // FILE is done with once the database is open.
        defer { fclose(file) }
        let sections = try DatabaseFileCheck.check(file, path: path)
        var status = stat()
        guard fstat(fileno(file), &status) == 0 else { throw .unreadable(path: path, .last) }
        guard let base = mmap(nil, Int(status.st_size), PROT_READ, MAP_SHARED, fileno(file), 0), base != MAP_FAILED else {
            throw .unreadable(path: path, .last)
        }
        let mapping = UnsafeRawBufferPointer(start: base, count: Int(status.st_size))
        func section(_ name: DatabaseFileCheck.SectionName) -> UnsafeRawBufferPointer {
            let s = sections[name.rawValue]
            return UnsafeRawBufferPointer(rebasing: mapping[s.offset..<(s.offset + s.length)])
        }

        var context: OpaquePointer?
        guard loc_new(&context) == 0, let context else {
            munmap(base, mapping.count)
            throw .libraryFailed(path: path, .last)
        }
        // libloc writes its own errors to standard error; ours say the same with what to
        // do. LOC_LOG (libloc's variable) still turns them on.
        if getenv("LOC_LOG") == nil { loc_set_log_priority(context, 0) }
        var database: OpaquePointer?
        errno = 0
        guard loc_database_new(context, &database, file) == 0, let database else {
            let code = errno
            loc_unref(context)
            munmap(base, mapping.count)
            throw .libraryFailed(path: path, Errno(rawValue: code))
        }
        self.mapping = mapping
        tree = NetworkTree(nodes: section(.networkTree), networks: section(.networks))
        self.path = path
        self.context = context
        self.database = database
        createdAt = Int64(loc_database_created_at(database))
        vendor = loc_database_get_vendor(database).map { String(cString: $0) } ?? ""
        license = loc_database_get_license(database).map { String(cString: $0) } ?? ""
        autonomousSystemCount = loc_database_count_as(database)
    }

    deinit {
        loc_database_unref(database)
        loc_unref(context)
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    /// Lets the kernel take back this process's pages of the file: they stay in the page
    /// cache (shared, and a later read maps them again), but no longer count as this
    /// process's memory. Laying IPv4 flat reads the tree's IPv4 part once, 37 MB that the
    /// ranges make unneeded.
    public func releaseReadPages() {
        _ = madvise(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count, MADV_DONTNEED)
    }

    /// The AS number and country of the network that holds `address`; `.unknown` for an
    /// address in no network (private, reserved, unrouted). Allocates nothing.
    public func lookup(_ address: IPAddress, family: IPFamily) -> Location { find(address, family: family).location }

    /// The answer and the leading bits of the address that decided it: every address
    /// that shares them has the same answer (`LocationCache`).
    func find(_ address: IPAddress, family: IPFamily) -> NetworkTree.Found {
        let (high, low) = Self.libraryWords(address, family: family)
        return tree.lookup(high: high, low: low)
    }

    /// Up to `lookupLanes` addresses at a time.
    public static let lookupLanes = NetworkTree.lanes

    /// The locations of the first `count` (at most `lookupLanes`) of `addresses`, looked
    /// up together: their walks through the tree are interleaved, so that their memory
    /// misses overlap (`NetworkTree.lookup(_:count:)`). The answers are `lookup`'s.
    public func lookup(_ addresses: InlineArray<8, (IPAddress, IPFamily)>, count: Int) -> InlineArray<8, Location> {
        let found = find(addresses, count: count)
        var locations = InlineArray<8, Location>(repeating: .unknown)
        for lane in 0..<min(count, Self.lookupLanes) { locations[lane] = found[lane].location }
        return locations
    }

    /// `find` for the first `count` of `addresses` together.
    func find(_ addresses: InlineArray<8, (IPAddress, IPFamily)>, count: Int) -> InlineArray<8, NetworkTree.Found> {
        var words = InlineArray<8, (high: UInt64, low: UInt64)>(repeating: (0, 0))
        for lane in 0..<min(count, Self.lookupLanes) { words[lane] = Self.libraryWords(addresses[lane].0, family: addresses[lane].1) }
        return tree.lookup(words, count: count)
    }

    /// The answer of libloc's own lookup: the tests hold the tree to it, and the
    /// benchmarks measure against it.
    public func libraryLookup(_ address: IPAddress, family: IPFamily) -> Location {
        var key = Self.libraryAddress(address, family: family)
        return access.withLock { _ in
            var network: OpaquePointer?
            guard loc_database_lookup(database, &key, &network) == 0, let network else { return .unknown }
            defer { loc_network_unref(network) }
            let asn = loc_network_get_asn(network)
            var country: CountryCode?
            if let code = loc_network_get_country_code(network), code[0] != 0 {
                country = CountryCode(first: UInt8(bitPattern: code[0]), second: UInt8(bitPattern: code[1]))
            }
            return Location(asn: asn == 0 ? nil : asn, country: country)
        }
    }

    /// The AS's name ("CLOUDFLARENET"); nil for a number the database does not name.
    public func asName(_ asn: UInt32) -> String? {
        access.withLock { _ in
            var system: OpaquePointer?
            guard loc_database_get_as(database, &system, asn) == 0, let system else { return nil }
            defer { loc_as_unref(system) }
            guard let name = loc_as_get_name(system), name[0] != 0 else { return nil }
            return String(cString: name)
        }
    }

    /// The address as the database keeps it, as two words: IPv4 mapped to ::ffff:a.b.c.d.
    static func libraryWords(_ address: IPAddress, family: IPFamily) -> (high: UInt64, low: UInt64) {
        family == .v4 ? (0, 0xffff_0000_0000 | UInt64(address.v4)) : (address.high, address.low)
    }

    /// The address as libloc takes it: an in6_addr of `libraryWords`.
    static func libraryAddress(_ address: IPAddress, family: IPFamily) -> in6_addr {
        let (high, low) = libraryWords(address, family: family)
        var key = in6_addr()
        withUnsafeMutableBytes(of: &key) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return key
    }
}
