import SamplerSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Batches waiting for ClickHouse, on disk: one file per batch, named
/// `<batch id, 20 digits>-<records>.jsonl` so that the directory listing is the queue in
/// order, and holding exactly the body of the insert. A batch is written to a temporary
/// name, fsync'd, renamed and the directory fsync'd, so after a crash a batch is either
/// whole or absent. Bounded by bytes: adding past the limit deletes the oldest batches
/// (never the one being sent) and counts their records.
///
/// Two threads use it: the writer adds, the shipper takes the oldest and removes it once
/// ClickHouse has it. The directory is locked (flock) so that a second sampler cannot
/// share it and send the same batches.
public final class Spool: Sendable {
    public struct Batch: Sendable, Equatable {
        public var id: UInt64
        public var records: Int
        public var bytes: Int

        var fileName: String {
            let digits = String(id)
            return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "-\(records).jsonl"
        }
    }

    public enum SpoolError: Error, CustomStringConvertible {
        case create(path: String, Errno)
        case inUse(path: String)
        case write(path: String, Errno)
        case read(path: String, Errno)
        /// The shipping thread could not be started (out of threads or descriptors).
        case start(Errno)

        public var description: String {
            switch self {
            case .create(let path, let error):
                "cannot use the spool directory \(path): \(error)"
                    + (error == .permissionDenied || error == .readOnlyFileSystem ? " (choose a writable spool_directory)" : "")
            case .inUse(let path):
                "the spool directory \(path) is in use by another sampler; stop it or choose another spool_directory (--spool-directory)"
            case .write(let path, let error): "cannot write the batch \(path): \(error)"
            case .read(let path, let error): "cannot read the batch \(path): \(error)"
            case .start(let error): "cannot start the shipping thread: \(error)"
            }
        }
    }

    struct State {
        var batches: [Batch] = []
        var bytes = 0
        var inFlight: UInt64?
        var lastID: UInt64 = 0
        var droppedRecords: UInt64 = 0
        var droppedBatches: UInt64 = 0
    }

    public let directory: String
    public let limitBytes: Int
    /// Batch files found damaged when the spool was opened (not ending in a newline, or
    /// not holding the records their name says), moved aside as `NAME.damaged` rather than
    /// sent: a batch is written whole or not at all, so only a disk fault or a hand leaves
    /// one so, and ClickHouse would refuse it.
    public let damaged: [String]
    /// The directory, open for the *at calls and the lock; closed when the spool goes.
    private let directoryOwner: OwnedDescriptor
    private var directoryFD: Int32 { directoryOwner.descriptor.rawValue }
    private let state: Mutex<State>

    /// Opens (creating, mode 0750) and locks `directory`, deletes half-written batches
    /// and takes the rest as the queue.
    public init(directory: String, limitBytes: Int) throws(SpoolError) {
        self.directory = directory
        self.limitBytes = limitBytes
        if mkdir(directory, 0o750) != 0 && Errno.last != .fileExists { throw .create(path: directory, .last) }
        let owner: OwnedDescriptor
        do { owner = OwnedDescriptor(try Descriptor.open(directory, O_RDONLY | O_DIRECTORY)) } catch { throw .create(path: directory, error) }
        let fd = owner.descriptor.rawValue
        do { _ = try retryOnInterrupt { flock(fd, LOCK_EX | LOCK_NB) } } catch {
            throw error == .wouldBlock ? .inUse(path: directory) : .create(path: directory, error)  // the owner closes it
        }
        directoryOwner = owner
        var found = State(), damaged: [String] = []
        for name in Self.list(fd) {
            if name.hasPrefix(".") && name.hasSuffix(".tmp") {
                unlinkat(fd, name, 0)
                continue
            }
            guard let batch = Self.parse(name) else { continue }
            var info = stat()
            guard fstatat(fd, name, &info, 0) == 0 else { continue }
            guard Self.holdsWholeLines(fd, name, count: batch.records) else {
                renameat(fd, name, fd, name + ".damaged")
                damaged.append(name)
                continue
            }
            found.batches.append(Batch(id: batch.id, records: batch.records, bytes: Int(info.st_size)))
            found.bytes += Int(info.st_size)
        }
        self.damaged = damaged.sorted()
        found.batches.sort { $0.id < $1.id }
        found.lastID = found.batches.last?.id ?? 0
        state = Mutex(found)
    }


    /// An id for a new batch from the clock: increasing, also across restarts.
    public func nextID(now: UInt64) -> UInt64 {
        state.withLock { state in
            state.lastID = max(now, state.lastID + 1)
            return state.lastID
        }
    }

    /// Writes a batch durably and queues it; returns the records dropped, oldest first,
    /// to stay within the limit.
    @discardableResult
    public func add(id: UInt64, records: Int, body: [UInt8]) throws(SpoolError) -> UInt64 {
        let batch = Batch(id: id, records: records, bytes: body.count)
        let temporary = ".\(batch.fileName).tmp"
        let file: Descriptor
        do { file = Descriptor(rawValue: try retryOnInterrupt { openat(directoryFD, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640) }) } catch {
            throw .write(path: "\(directory)/\(temporary)", error)
        }
        do throws(Errno) {
            var written = 0
            do throws(Errno) {
                try file.writeAll(body, written: &written)
                _ = try retryOnInterrupt { fsync(file.rawValue) }
            } catch {
                file.close()
                throw error
            }
            // A batch is durable only if its close succeeds too.
            if let error = file.close() { throw error }
        } catch {
            unlinkat(directoryFD, temporary, 0)
            throw .write(path: "\(directory)/\(batch.fileName)", error)
        }
        do {
            _ = try retryOnInterrupt { renameat(directoryFD, temporary, directoryFD, batch.fileName) }
            _ = try retryOnInterrupt { fsync(directoryFD) }
        } catch {
            unlinkat(directoryFD, temporary, 0)
            throw .write(path: "\(directory)/\(batch.fileName)", error)
        }
        return state.withLock { state in
            if let same = state.batches.firstIndex(where: { $0.id == id }) {
                // The same batch again (a capture loaded twice): the file was replaced.
                state.bytes -= state.batches.remove(at: same).bytes
            }
            let at = state.batches.firstIndex { $0.id > id } ?? state.batches.endIndex
            state.batches.insert(batch, at: at)
            state.bytes += batch.bytes
            state.lastID = max(state.lastID, id)
            var dropped: UInt64 = 0
            var index = 0
            while state.bytes > limitBytes && index < state.batches.count - 1 {
                let oldest = state.batches[index]
                if oldest.id == state.inFlight { index += 1; continue }
                unlinkat(directoryFD, oldest.fileName, 0)
                state.batches.remove(at: index)
                state.bytes -= oldest.bytes
                dropped += UInt64(oldest.records)
                state.droppedBatches += 1
            }
            state.droppedRecords += dropped
            return dropped
        }
    }

    /// The oldest batch and its bytes, marked as being sent (so it is not dropped).
    public func takeOldest() throws(SpoolError) -> (Batch, [UInt8])? {
        guard let batch = state.withLock({ state -> Batch? in
            guard let oldest = state.batches.first else { return nil }
            state.inFlight = oldest.id
            return oldest
        }) else { return nil }
        let opened = openat(directoryFD, batch.fileName, O_RDONLY | O_CLOEXEC)
        let file = Descriptor(rawValue: opened)
        var bytes = [UInt8](repeating: 0, count: batch.bytes)
        var done = 0
        var failure: Errno? = opened < 0 ? .last : nil
        if failure == nil {
            defer { file.close() }
            do {
                while done < bytes.count {
                    let n = try file.read(into: &bytes, at: done)
                    if n == 0 { break }
                    done += n
                }
            } catch {
                failure = error
            }
        }
        if let failure {
            // Gone or unreadable (deleted by hand, a disk error): it can never be sent, so
            // it leaves the queue, counted as dropped, instead of blocking the rest.
            state.withLock { state in
                if let index = state.batches.firstIndex(of: batch) {
                    state.batches.remove(at: index)
                    state.bytes -= batch.bytes
                    state.droppedRecords += UInt64(batch.records)
                }
                state.inFlight = nil
            }
            throw .read(path: "\(directory)/\(batch.fileName)", failure)
        }
        return (batch, Array(bytes[0..<done]))
    }

    /// ClickHouse has the batch: delete it. (Without a directory fsync: a deletion lost
    /// in a crash means the batch is sent again, which the table's deduplication absorbs.)
    public func remove(_ batch: Batch) {
        state.withLock { state in
            unlinkat(directoryFD, batch.fileName, 0)
            if let index = state.batches.firstIndex(of: batch) {
                state.batches.remove(at: index)
                state.bytes -= batch.bytes
            }
            if state.inFlight == batch.id { state.inFlight = nil }
        }
    }

    /// Sending failed: the batch stays first in line.
    public func release(_ batch: Batch) {
        state.withLock { state in if state.inFlight == batch.id { state.inFlight = nil } }
    }

    /// Records lost before they reached the spool (the disk refused them).
    public func countDropped(records: Int) {
        state.withLock { $0.droppedRecords += UInt64(records) }
    }

    /// Batches, records and bytes waiting, and records dropped so far.
    public var depth: (batches: Int, records: Int, bytes: Int, droppedRecords: UInt64) {
        state.withLock { state in
            (state.batches.count, state.batches.reduce(0) { $0 + $1.records }, state.bytes, state.droppedRecords)
        }
    }

    /// Parses "<id>-<records>.jsonl".
    /// Whether the batch file holds `count` lines, the last one ended.
    static func holdsWholeLines(_ directory: Int32, _ name: String, count: Int) -> Bool {
        guard let fd = try? retryOnInterrupt({ openat(directory, name, O_RDONLY | O_CLOEXEC) }) else { return false }
        let file = Descriptor(rawValue: fd)
        defer { file.close() }
        guard let size = try? file.size(), let whole = try? file.endOfLastWholeLine(), whole == size, size > 0,
              let bytes = try? file.readAll() else { return false }
        return bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } == count
    }

    static func parse(_ name: String) -> (id: UInt64, records: Int)? {
        guard name.hasSuffix(".jsonl") else { return nil }
        let parts = name.dropLast(".jsonl".count).split(separator: "-")
        guard parts.count == 2, let id = UInt64(parts[0]), let records = Int(parts[1]) else { return nil }
        return (id, records)
    }

    private static func list(_ fd: Int32) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
