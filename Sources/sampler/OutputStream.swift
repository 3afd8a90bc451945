#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor, retried on EINTR and short writes.
struct OutputStream {
    let fd: Int32
    var buffer: [UInt8] = []
    let flushThreshold = 1 << 16

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= flushThreshold { flush() }
    }

    mutating func flushIfFull() {
        if buffer.count >= flushThreshold { flush() }
    }

    mutating func flush() {
        var written = 0
        buffer.withUnsafeBytes { bytes in
            while written < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n > 0 { written += n } else if n < 0 && errno == EINTR { continue } else { break }
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func printError(_ text: String) {
        var stream = OutputStream(fd: STDERR_FILENO)
        stream.write(text.hasSuffix("\n") ? text : text + "\n")
        stream.flush()
    }
}
