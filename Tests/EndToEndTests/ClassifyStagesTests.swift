import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerSubprocess
import SamplerWire
import Testing

/// `sampler classify` reads, classifies and writes on three threads (`OrderedWorker`):
/// its records must be those of the same classification on one thread, byte for byte and
/// in the same order, on a capture long enough that every ring between the stages fills
/// and wraps many times.
@Suite struct ClassifyStagesTests {
    @Test(arguments: [nil, "0.002"] as [String?])
    func threeThreadsWriteWhatOneThreadWrites(idleTimeout: String?) throws {
        // 30,000 connections, 113,830 packets: the rings hold 2,048 each.
        let synthetic = try SyntheticCapture(connections: 30_000, name: "stages")
        defer { synthetic.remove() }
        let capture = synthetic.path

        // A short idle timeout finalizes connections all along the capture (its
        // connections start 20 µs apart), rather than most of them at its end.
        let flags = ["--location-database", "none"] + (idleTimeout.map { ["--idle-timeout", $0] } ?? [])
        let result = try Subprocess.run([samplerBinary().path, "classify", "--quiet"] + flags + [capture])
        try #require(result.status == 0, "classify: \(result.stderr)")

        var configuration = ClassifierConfiguration()
        configuration.maxConnections = ClassifierConfiguration.offlineMaxConnections
        if let idleTimeout { configuration.idleTimeout = Microseconds(Double(idleTimeout)! * 1_000_000) }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: capture)))
        var expected: [UInt8] = []
        var records = 0
        let one = CaptureClassification.run(capture: bytes.span.bytes, configuration: configuration) {
            JSONLines.append($0, to: &expected)
            records += 1
        }
        #expect(one.fileError == nil && one.parseErrors.total == 0)
        #expect(records == 30_000)
        // Connections finalized along the way (lone SYNs timing out 2 ms after they
        // came), not only at the end ("shutdown").
        let timeouts = String(decoding: expected, as: UTF8.self).components(separatedBy: "\"close\":\"timeout\"").count - 1
        #expect(idleTimeout == nil ? timeouts == 0 : timeouts > 5_000, "\(timeouts) timeouts")
        let written = Array(result.stdout.utf8)
        #expect(written.count == expected.count)
        // Where the two first differ (not the two whole outputs, 12 MB each, on failure).
        let difference = zip(written, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(difference == nil, "three threads and one differ first at byte \(difference ?? 0)")
    }
}
