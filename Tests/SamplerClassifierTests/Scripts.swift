import SamplerClassifier
import SamplerWire

/// Builds packet summaries for one connection, as a script of flag strings.
struct Flow {
    var key = ConnectionKey(
        family: .v4, source: IPAddress(parsing: "192.0.2.10")!, sourcePort: 50000,
        destination: IPAddress(parsing: "198.51.100.1")!, destinationPort: 443)
    var start: Microseconds = 1_700_000_000_000_000

    static let v6 = Flow(key: ConnectionKey(
        family: .v6, source: IPAddress(parsing: "2001:db8::10")!, sourcePort: 50000,
        destination: IPAddress(parsing: "2001:db8:1::1")!, destinationPort: 443))

    func with(sourcePort: UInt16) -> Flow {
        var flow = self
        flow.key.sourcePort = sourcePort
        return flow
    }

    /// One packet `ms` milliseconds after the flow's start. Flags are letters: "S", "A",
    /// "PA", "RA", "FA", "R".
    func packet(_ letters: String, ms: Int64 = 0, seq: UInt32 = 1000, ack: UInt32 = 5000, ttl: UInt8 = 57,
                ipID: UInt16 = 100, payload: Int? = nil, window: UInt16 = 64240, options: [UInt8] = [2, 4, 8, 1, 3],
                mss: UInt16? = 1460, dontFragment: Bool = true) -> PacketSummary {
        var flags: TCPFlags = []
        for letter in letters {
            switch letter {
            case "S": flags.insert(.syn)
            case "A": flags.insert(.ack)
            case "P": flags.insert(.psh)
            case "R": flags.insert(.rst)
            case "F": flags.insert(.fin)
            default: fatalError("unknown flag letter \(letter)")
            }
        }
        var tcpOptions = TCPOptions.build(kinds: options)
        tcpOptions.mss = mss
        return PacketSummary(
            key: key, time: start + ms * 1000, flags: flags, sequenceNumber: seq,
            acknowledgementNumber: flags.contains(.syn) ? 0 : ack, ttl: ttl, ipID: ipID,
            dontFragment: dontFragment, window: window, options: tcpOptions,
            payloadLength: payload ?? (flags.contains(.psh) ? 100 : 0))
    }

    /// Packets from a script like "S A PA RA", 10 ms apart, IP IDs counting up.
    func script(_ text: String) -> [PacketSummary] {
        text.split(separator: " ").enumerated().map { i, letters in
            packet(String(letters), ms: Int64(i) * 10, ipID: UInt16(100 + i))
        }
    }
}

extension TCPOptions {
    static func build(kinds: [UInt8]) -> TCPOptions {
        // Lay the kinds out as a real option area and parse it.
        var area: [UInt8] = []
        for kind in kinds {
            switch kind {
            case 0, 1: area.append(kind)
            case 2: area += [2, 4, 0x05, 0xb4]
            case 3: area += [3, 3, 7]
            case 4: area += [4, 2]
            case 8: area += [8, 10, 0, 0, 0, 1, 0, 0, 0, 0]
            default: area += [kind, 2]
            }
        }
        return try! TCPOptions(parsing: area.span.bytes)
    }
}

/// Runs packets through a classifier; then lets the idle timeout pass (`drain`) or
/// stops at the last packet, and finalizes what is left.
func classify(_ packets: [PacketSummary], configuration: ClassifierConfiguration = ClassifierConfiguration(),
              drain: Bool = true) -> (records: [ConnectionRecord], counters: ClassifierCounters) {
    var classifier = Classifier(configuration: configuration)
    var records: [ConnectionRecord] = []
    for packet in packets { classifier.ingest(packet) { records.append($0) } }
    if drain, let last = packets.map(\.time).max() {
        classifier.advance(to: last + configuration.idleTimeout + 1) { records.append($0) }
    }
    classifier.finishAll { records.append($0) }
    return (records, classifier.counters)
}
