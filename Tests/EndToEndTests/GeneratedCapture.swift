import Foundation
import SamplerSubprocess
#if canImport(Glibc)
import Glibc
#endif

/// A capture crafted offline by one of scripts/make-*-capture.py (scapy's wrpcap; nothing
/// is sent) in a directory of its own, with the description of its connections that the
/// script writes beside it: what each must become, written down when it was made.
struct GeneratedCapture {
    static let python = "/usr/bin/python3"

    let directory: URL
    let capture: String
    /// The description's `connections`, one object each.
    let connections: [[String: Any]]

    static func make(script: String, name: String, arguments: [String] = []) throws -> GeneratedCapture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/\(script)").path
        let capture = directory.appendingPathComponent("\(name).pcap").path, expect = directory.appendingPathComponent("expect.json")
        let made = try Subprocess.run([python, path, capture, "--expect", expect.path] + arguments)
        guard made.status == 0 else { throw LocationFixture.Failed(description: "\(script): \(made.stderr)") }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: expect)) as? [String: Any]
        return GeneratedCapture(directory: directory, capture: capture, connections: object?["connections"] as? [[String: Any]] ?? [])
    }

    /// The records of the capture (`sampler classify`), in a file beside it.
    func records(_ sampler: String, locationDatabase: String) throws -> String {
        let result = try Subprocess.run([sampler, "classify", "--location-database", locationDatabase, capture])
        guard result.status == 0 else { throw LocationFixture.Failed(description: "classify: \(result.stderr)") }
        let path = directory.appendingPathComponent("records.jsonl").path
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
