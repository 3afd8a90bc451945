import SamplerWire
import Testing

/// Every packet summary is copied into a ring and crosses a core: it stays within two
/// cache lines (its fields' order is what keeps it there).
@Suite struct PacketSummaryLayoutTests {
    @Test func aSummaryFitsInTwoCacheLines() {
        #expect(MemoryLayout<PacketSummary>.stride <= 128, "\(MemoryLayout<PacketSummary>.stride) bytes")
        #expect(MemoryLayout<PacketSummary>.size == 120, "\(MemoryLayout<PacketSummary>.size) bytes")
    }
}
