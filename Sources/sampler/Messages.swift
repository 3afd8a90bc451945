#if canImport(Glibc)
import Glibc
#endif

/// Writes a message for people to standard error, as one line, retrying on EINTR.
func printError(_ text: String) {
    let line = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
    var written = 0
    while written < line.count {
        let n = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + written, line.count - written) }
        if n > 0 { written += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}
