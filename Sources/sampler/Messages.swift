import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes a message for people to standard error, as one line (and nothing if standard
/// error is closed: there is nowhere else to say it).
func printError(_ text: String) {
    let line = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
    var written = 0
    try? Descriptor(rawValue: STDERR_FILENO).writeAll(line, written: &written)
}
