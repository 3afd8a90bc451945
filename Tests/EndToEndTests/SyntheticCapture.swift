import Foundation
import SamplerSubprocess
import Testing

/// A capture written by scripts/make-capture.py (`connections` IPv4 connections, about 3.8
/// packets each, 20 µs apart; deterministic) in a directory of its own, for tests that
/// need more traffic than the fixture: `remove()` deletes the directory.
struct SyntheticCapture {
    let directory: URL
    var path: String { directory.appendingPathComponent("capture.pcap").path }

    init(connections: Int, name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/make-capture.py").path
        let made = try Subprocess.run(["/usr/bin/python3", script, directory.appendingPathComponent("capture.pcap").path, String(connections)])
        try #require(made.status == 0, "make-capture.py: \(made.stderr)")
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
