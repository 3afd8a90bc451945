import Foundation
import SamplerClassifier
import SamplerReport
import SamplerConfiguration
import SamplerService
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// Any text: an error or settings; settings render to a file that parses to the same.
func fuzzConfiguration(_ bytes: [UInt8]) {
    guard let settings = try? ConfigurationFile.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz") else { return }
    let again = try? ConfigurationFile.parse(ConfigurationFile.render(settings), source: "rendered")
    precondition(again == settings, "settings did not survive rendering")
}

/// Lines of anything: each is a record or a bad line.
func fuzzRecords(_ bytes: [UInt8]) {
    for grouping in [Grouping.none, .network, .signature] {
        var table = StageTable(windowSeconds: 900, grouping: grouping, ttlMargin: 2)
        var reader = RecordLines.Reader(host: "fuzz", filter: ReportFilter())
        var lines = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if !RecordLines.Reader.isBlank(line) { lines += 1 }
            line.withUnsafeBufferPointer { line in
                precondition(reader.readersAgree(on: line, grouping: grouping), "the scanner and the decoder read a line differently")
                reader.consume(line, into: &table)
            }
        }
        precondition(reader.outcome.records + reader.outcome.badLines == lines, "a line was neither a record nor a bad line")
        precondition(table.whole.total + table.excluded <= reader.outcome.records)
        _ = table.render()
        _ = table.signatureRows().csv()
        _ = table.radarJSON()
    }
}

/// An HTTP request: the answer is a whole HTTP response whose length says its body. The
/// framing: found in one piece or read in two, the end of a request is found alike.
func fuzzRequests(_ bytes: [UInt8]) {
    let answer = Endpoints.httpAnswer(to: bytes) { "sampler_up 1\n" }
    let text = String(decoding: answer, as: UTF8.self)
    precondition(text.hasPrefix("HTTP/1.1 "), "not an HTTP response")
    let parts = text.components(separatedBy: "\r\n\r\n")
    precondition(parts.count >= 2, "no end of header")
    let length = parts[0].split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }.flatMap { Int($0.dropFirst(16)) }
    let body = parts.dropFirst().joined(separator: "\r\n\r\n")
    // HEAD as the parser sees it: the request line's first word.
    let head = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        .split(separator: " ").first == "HEAD"
    precondition(length != nil && (head || body.utf8.count == length!), "Content-Length is not the body's")
    for terminators in [Endpoints.httpTerminators, [[UInt8(ascii: "\n")]]] {
        let whole = RequestServer.ends(bytes, from: 0, terminators: terminators)
        let split = bytes.count / 2, longest = terminators.map(\.count).max()!
        let inTwo = RequestServer.ends(Array(bytes[..<split]), from: 0, terminators: terminators)
            || RequestServer.ends(bytes, from: max(0, split - longest + 1), terminators: terminators)
        precondition(whole == inTwo, "the framing depends on how the request was read")
    }
}

/// Packets of a few connections from the fuzzer's bytes, through the classifier in time
/// order, against the spec's invariants: one record per opened connection, each within
/// the packet cap; stage none exactly when the close is neither reset nor timeout; a
/// signature exactly when the stage is not none, of the stage it names; reset evidence
/// exactly on a reset close, the IP ID gap at most half the circle and only for IPv4.
/// And the verdicts are functions of a connection's set of packets: its packets after the
/// SYN appended in reverse give the same stage, tags, signature and evidence.
func fuzzClassifier(_ bytes: [UInt8]) {
    let flagChoices: [TCPFlags] = [.syn, .ack, [.psh, .ack], .rst, [.rst, .ack], [.fin, .ack], .fin, [.syn, .ack]]
    var packets: [PacketSummary] = []
    var i = 0
    while i + 6 <= bytes.count && packets.count < 40 {
        let b = Array(bytes[i..<(i + 6)])
        let family: IPFamily = b[0] & 0x80 == 0 ? .v4 : .v6
        let client = UInt32(b[0] & 0x03)  // four clients per family
        let key = ConnectionKey(family: family, source: IPAddress(v4: 0xC000_0200 | client), sourcePort: 40000,
                                destination: IPAddress(v4: 0xC633_640A), destinationPort: 443)
        let time = 1_795_000_000_000_000 + Microseconds(b[1]) * 20_000  // within 5 s
        packets.append(PacketSummary(key: key, time: time, flags: flagChoices[Int(b[2] % 8)], acknowledgementNumber: UInt32(b[3] % 3),
                                     ttl: b[4], ipID: UInt16(b[5]) << 8 | UInt16(b[4]), payloadLength: b[2] & 0x10 == 0 ? 0 : 100))
        i += 6
    }
    // A small table: a big one would cost its allocation on every run. Four connections
    // still fill it now and then, so eviction is exercised too.
    var configuration = ClassifierConfiguration()
    configuration.maxConnections = 4
    var classifier = Classifier(configuration: configuration, expectedConnections: 4, hasher: ConnectionHasher(seed: (1, 2, 3, 4, 5, 6)))
    var records: [ConnectionRecord] = []
    for packet in packets.sorted(by: { $0.time < $1.time }) { classifier.ingest(packet) { records.append($0) } }
    classifier.finishAll { records.append($0) }
    precondition(records.count == Int(classifier.counters.opened), "not one record per opened connection")
    for record in records {
        precondition(record.packetCount >= 1 && record.packetCount <= classifier.configuration.packetCap)
        precondition((record.stage == .none) == (record.close != .reset && record.close != .timeout), "stage none is not the normal closes")
        precondition((record.signature == nil) == (record.stage == .none), "a signature exactly where there is a stage")
        if let expected = record.signature?.stage { precondition(expected == record.stage, "the signature's stage") }
        precondition((record.resetEvidence != nil) == (record.close == .reset), "evidence exactly on resets")
        if let gap = record.resetEvidence?.ipIDGap { precondition(gap <= 32768 && record.key.family == .v4) }
    }

    // Order: one connection from the first SYN and up to nine packets after it.
    guard let first = packets.firstIndex(where: { $0.flags == .syn }) else { return }
    let rest = Array(packets[(first + 1)...].prefix(Connection.capacity - 1)).map { packet -> PacketSummary in
        var packet = packet
        packet.key = packets[first].key
        packet.time = max(packet.time, packets[first].time)
        return packet
    }
    var forward = Connection(opening: packets[first]), backward = forward
    for packet in rest { forward.append(packet, grace: 1_000_000) }
    for packet in rest.reversed() { backward.append(packet, grace: 1_000_000) }
    for close in CloseReason.allCases {
        let configuration = ClassifierConfiguration()
        let stage = Verdict.stage(of: forward, close: close)
        let tags = Verdict.tags(of: forward, close: close, configuration: configuration)
        precondition(stage == Verdict.stage(of: backward, close: close), "order changed the stage")
        precondition(tags == Verdict.tags(of: backward, close: close, configuration: configuration), "order changed the tags")
        precondition(Signature(stage: stage, close: close, tags: tags) == Signature(stage: stage, close: close,
                     tags: Verdict.tags(of: backward, close: close, configuration: configuration)))
    }
    if forward.hasRST { precondition(ResetEvidence(of: forward) == ResetEvidence(of: backward), "order changed the evidence") }
}
