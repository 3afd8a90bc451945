#if canImport(Glibc)
import Glibc
#endif

/// Small files (configuration, a password) read whole, within bounds: no input can make
/// the read hang or grow without end.
public enum TextFile {
    /// Why a small file could not be read.
    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case system(Errno)
        /// More than `limit` bytes: /dev/zero, a log, a disk image.
        case tooLarge(limit: Int)
        /// Nothing to read for `seconds`: a FIFO with no writer, a terminal.
        case silent(seconds: Int)

        public var description: String {
            switch self {
            case .system(let error): "\(error)"
            case .tooLarge(let limit): "it is larger than \(limit >> 10) KiB, which no configuration is (is it the right file?)"
            case .silent(let seconds): "nothing came to read in \(seconds) s (a FIFO without a writer, or a terminal?)"
            }
        }
    }

    /// The most a small file may hold.
    public static let maximumBytes = 1 << 20
    /// How long a read may wait for input that does not come.
    public static let maximumWaitSeconds = 5

    /// The file's bytes, with read(2), so that any readable file works: /dev/null (no
    /// settings: the defaults), a pipe, a process substitution (Foundation's
    /// String(contentsOfFile:) refuses what is not a regular file). Opened non-blocking
    /// and waited on with poll, so that a FIFO without a writer is an error, not a hang.
    public static func bytes(_ path: String, limit: Int = maximumBytes) throws(ReadError) -> [UInt8] {
        let file: Descriptor
        do { file = try Descriptor.open(path, O_RDONLY | O_NONBLOCK) } catch { throw .system(error) }
        defer { file.close() }
        var info = stat()
        // A FIFO that no writer has opened reads as end of file at once: wait for one.
        var awaitingWriter = fstat(file.rawValue, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n: Int
            do { n = try file.read(into: &chunk) } catch {
                guard error == .wouldBlock else { throw .system(error) }
                try waitForInput(file)
                continue
            }
            if n == 0 && awaitingWriter {
                awaitingWriter = false
                try waitForInput(file)
                continue
            }
            awaitingWriter = false
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else { throw .tooLarge(limit: limit) }
            bytes += chunk[0..<n]
        }
    }

    /// Waits until the descriptor has input or its writer has gone.
    private static func waitForInput(_ file: Descriptor) throws(ReadError) {
        var descriptor = pollfd(fd: file.rawValue, events: Int16(POLLIN), revents: 0)
        let ready: Int32
        do { ready = try retryOnInterrupt { poll(&descriptor, 1, Int32(maximumWaitSeconds * 1000)) } } catch { throw .system(error) }
        if ready == 0 { throw .silent(seconds: maximumWaitSeconds) }
    }

    /// The file as UTF-8 text (invalid bytes replaced).
    public static func read(_ path: String, limit: Int = maximumBytes) throws(ReadError) -> String {
        String(decoding: try bytes(path, limit: limit), as: UTF8.self)
    }
}
