import Foundation
import SamplerClassifier
import SamplerWire

/// The benchmarks' input: the real NFLOG capture Tests/Fixtures/real-nflog.pcap (13
/// connections, 64 packets, IPv4 and IPv6, recorded through the kernel), turned back into
/// what the kernel sends over netlink and replicated into many distinct connections.
enum Workload {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/real-nflog.pcap")

    /// The NFLOG frames of the fixture (4-byte nfgenmsg-shaped header, then TLVs).
    static func frames() -> [[UInt8]] {
        let file = [UInt8](try! Data(contentsOf: fixture))
        var frames: [[UInt8]] = []
        var capture = try! CaptureFile(checking: file.span.bytes)
        while let record = try! capture.next() {
            frames.append(record.frame.withUnsafeBytes { Array($0) })
        }
        return frames
    }

    /// Netlink datagrams as `recv()` returns them: NFLOG packet messages (nlmsghdr in host
    /// order, then the frame, which is nfgenmsg plus attributes), packed up to `size` bytes.
    static func datagrams(messages count: Int, size: Int = 65_536) -> (datagrams: [[UInt8]], messages: Int) {
        let frames = frames()
        var datagrams: [[UInt8]] = [], current: [UInt8] = []
        for i in 0..<count {
            let frame = frames[i % frames.count]
            var message: [UInt8] = []
            withUnsafeBytes(of: UInt32(16 + frame.count).littleEndian) { message += $0 }
            withUnsafeBytes(of: NflogPacketMessage.messageType.littleEndian) { message += $0 }
            message += [0, 0] + [UInt8](repeating: 0, count: 8) + frame
            while message.count % 4 != 0 { message.append(0) }
            if current.count + message.count > size {
                datagrams.append(current)
                current = []
            }
            current += message
        }
        if !current.isEmpty { datagrams.append(current) }
        return (datagrams, count)
    }

    /// The fixture's packets, copied `copies` times as distinct connections (client
    /// address shifted per copy), each copy starting 5 s after the previous one.
    static func packets(copies: Int) -> [PacketSummary] {
        var base: [PacketSummary] = []
        for frame in frames() {
            let nflog = try! NflogFrame(checking: frame.span.bytes, order: .little)
            guard let payload = nflog.attributes.payload else { continue }
            base.append(try! PacketSummary(ipPacket: payload, time: nflog.attributes.timestamp ?? 0))
        }
        let start = base.map(\.time).min() ?? 0
        var result: [PacketSummary] = []
        result.reserveCapacity(base.count * copies)
        for copy in 0..<copies {
            for var packet in base {
                packet.key.source.low &+= UInt64(copy) << 8
                packet.time = packet.time - start + Int64(copy) * 5_000_000
                result.append(packet)
            }
        }
        return result
    }
}
