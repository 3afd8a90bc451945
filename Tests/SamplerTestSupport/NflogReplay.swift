import Foundation
import SamplerWire

/// Replayable NFLOG input made from the real capture Tests/Fixtures/real-nflog.pcap (13
/// connections, 64 packets, IPv4 and IPv6, recorded through the kernel): the frames turned
/// back into what the kernel sends over netlink, copied into many distinct connections.
/// Shared by the pipeline tests and the benchmarks.
public enum NflogReplay {
    public static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/real-nflog.pcap")

    /// The NFLOG frames of the fixture (nfgenmsg, then attributes in little-endian TLVs).
    public static func frames() -> [[UInt8]] {
        let file = [UInt8](try! Data(contentsOf: fixture))
        var frames: [[UInt8]] = []
        var capture = try! CaptureFile(checking: file.span.bytes)
        while let record = try! capture.next() {
            frames.append(record.frame.withUnsafeBytes { Array($0) })
        }
        return frames
    }

    /// `copies` copies of the fixture's frames: copy `n` has its client addresses shifted
    /// by `n` (so its connections are distinct) and its timestamps `n` × `spacing` µs later.
    public static func distinctFrames(copies: Int, spacing: Int64 = 5_000_000) -> [[UInt8]] {
        let base = frames()
        var result: [[UInt8]] = []
        result.reserveCapacity(base.count * copies)
        for copy in 0..<copies {
            for var frame in base {
                shift(&frame, copy: copy, by: Int64(copy) * spacing)
                result.append(frame)
            }
        }
        return result
    }

    /// Netlink datagrams as `recv()` returns them: each frame behind an `nlmsghdr` (host
    /// order) as an NFLOG packet message, packed into datagrams of at most `size` bytes.
    public static func datagrams(of frames: [[UInt8]], size: Int = 65_536) -> [[UInt8]] {
        var datagrams: [[UInt8]] = [], current: [UInt8] = []
        for frame in frames {
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
        return datagrams
    }

    /// The packet summaries of `frames`, as the parser makes them.
    public static func packets(of frames: [[UInt8]]) -> [PacketSummary] {
        frames.compactMap { frame in
            guard let nflog = try? NflogFrame(checking: frame.span.bytes, order: .little),
                  let payload = nflog.attributes.payload else { return nil }
            return try? PacketSummary(ipPacket: payload, time: nflog.attributes.timestamp ?? 0)
        }
    }

    /// Rewrites one frame in place: the client address (IPv4 or IPv6 source, last bytes)
    /// plus `copy`, and the timestamp plus `delay` µs.
    private static func shift(_ frame: inout [UInt8], copy: Int, by delay: Int64) {
        var offset = 4  // nfgenmsg
        while offset + 4 <= frame.count {
            let length = Int(frame[offset]) | Int(frame[offset + 1]) << 8
            let type = (UInt16(frame[offset + 2]) | UInt16(frame[offset + 3]) << 8) & 0x3fff
            guard length >= 4, offset + length <= frame.count else { return }
            let value = offset + 4
            if type == NflogAttributes.Kind.payload {
                let ipv6 = frame[value] >> 4 == 6
                let last = value + (ipv6 ? 8 + 16 : 12 + 4) - 1  // last byte of the source address
                let sum = Int(frame[last]) + Int(frame[last - 1]) << 8 + copy
                frame[last] = UInt8(sum & 0xff)
                frame[last - 1] = UInt8((sum >> 8) & 0xff)
            } else if type == NflogAttributes.Kind.timestamp {
                var seconds: UInt64 = 0, micros: UInt64 = 0
                for i in 0..<8 {
                    seconds = seconds << 8 | UInt64(frame[value + i])
                    micros = micros << 8 | UInt64(frame[value + 8 + i])
                }
                let total = Int64(seconds) * 1_000_000 + Int64(micros) + delay
                seconds = UInt64(total / 1_000_000)
                micros = UInt64(total % 1_000_000)
                for i in 0..<8 {
                    frame[value + 7 - i] = UInt8((seconds >> (8 * UInt64(i))) & 0xff)
                    frame[value + 15 - i] = UInt8((micros >> (8 * UInt64(i))) & 0xff)
                }
            }
            offset += (length + 3) & ~3
        }
    }
}
