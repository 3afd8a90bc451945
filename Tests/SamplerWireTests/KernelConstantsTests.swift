import CNetfilter
import Testing
@testable import SamplerWire

/// The parser names kernel constants itself (it imports nothing but the standard
/// library); these tests hold them to the kernel's own headers.
@Suite struct KernelConstantsTests {
    @Test func nflogAttributeTypesMatchTheHeaders() {
        typealias Kind = NflogAttributes.Kind
        #expect(Kind.packetHeader == UInt16(NFULA_PACKET_HDR.rawValue))
        #expect(Kind.mark == UInt16(NFULA_MARK.rawValue))
        #expect(Kind.timestamp == UInt16(NFULA_TIMESTAMP.rawValue))
        #expect(Kind.inDevice == UInt16(NFULA_IFINDEX_INDEV.rawValue))
        #expect(Kind.outDevice == UInt16(NFULA_IFINDEX_OUTDEV.rawValue))
        #expect(Kind.hardwareAddress == UInt16(NFULA_HWADDR.rawValue))
        #expect(Kind.payload == UInt16(NFULA_PAYLOAD.rawValue))
        #expect(Kind.prefix == UInt16(NFULA_PREFIX.rawValue))
        #expect(Kind.uid == UInt16(NFULA_UID.rawValue))
        #expect(Kind.sequence == UInt16(NFULA_SEQ.rawValue))
        #expect(Kind.globalSequence == UInt16(NFULA_SEQ_GLOBAL.rawValue))
        #expect(Kind.hardwareType == UInt16(NFULA_HWTYPE.rawValue))
    }

    @Test func netlinkConstantsMatchTheHeaders() {
        #expect(NflogPacketMessage.messageType == UInt16(NFNL_SUBSYS_ULOG) << 8 | UInt16(NFULNL_MSG_PACKET.rawValue))
        #expect(NetlinkMessage.ControlType.noop == UInt16(NLMSG_NOOP))
        #expect(NetlinkMessage.ControlType.error == UInt16(NLMSG_ERROR))
        #expect(NetlinkMessage.ControlType.done == UInt16(NLMSG_DONE))
        #expect(NetlinkMessage.ControlType.overrun == UInt16(NLMSG_OVERRUN))
        #expect(NetlinkMessage.headerLength == MemoryLayout<nlmsghdr>.size)
        #expect(NflogPacketMessage.nfgenmsgLength == MemoryLayout<nfgenmsg>.size)
        #expect(MemoryLayout<nfulnl_msg_packet_timestamp>.size == 16)
    }
}
