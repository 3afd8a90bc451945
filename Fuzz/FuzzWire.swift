// libFuzzer entry point for the wire parsers (built by Fuzz/run.sh with
// -sanitize=fuzzer,address together with Sources/SamplerWire). The first byte picks the
// entry: 0 a netlink datagram, 1 an IP packet, 2 a capture file, 3 an NFLOG pcap frame.
// A crash, an out-of-bounds read or a trap is a finding; errors are the expected outcome.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let selector = data[0] % 4
    let buffer = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let bytes = RawSpan(_unsafeBytes: buffer)
    var sink: UInt64 = 0
    switch selector {
    case 0:
        var messages = NetlinkMessages(bytes)
        do throws(WireError) {
            while let message = try messages.next() {
                sink &+= UInt64(message.length)
                if let code = message.errorCode { sink &+= UInt64(bitPattern: Int64(code)) }
                guard message.type == NflogPacketMessage.messageType else { continue }
                let packet = try NflogPacketMessage(checking: message)
                if let prefix = packet.attributes.prefix { sink &+= UInt64(prefix.byteCount) }
                sink &+= UInt64(try packet.summary(fallbackTime: 0).payloadLength)
            }
        } catch {
            sink &+= UInt64(error.rawValue)
        }
    case 1:
        if let summary = try? PacketSummary(ipPacket: bytes, time: 0) {
            sink &+= UInt64(summary.payloadLength) &+ UInt64(summary.options.count)
        }
    case 2:
        do throws(CaptureFileError) {
            var file = try CaptureFile(checking: bytes)
            while let record = try file.next() {
                if let summary = try? record.summary(fallbackTime: 0) { sink &+= UInt64(bitPattern: summary.time) }
            }
        } catch {
            sink &+= UInt64(error.offset)
        }
    default:
        for order in [ByteOrder.little, .big] {
            if let frame = try? NflogFrame(checking: bytes, order: order) {
                sink &+= UInt64(bitPattern: frame.attributes.timestamp ?? 0)
            }
        }
    }
    blackHole(sink)
    return 0
}

@inline(never)
func blackHole(_ value: UInt64) { _ = value }
