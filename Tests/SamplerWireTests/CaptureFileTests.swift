import Testing
@testable import SamplerWire

/// Reads every record of a capture into summaries (or the error of each).
func readAll(_ file: [UInt8]) throws(CaptureFileError) -> [Result<PacketSummary, WireError>] {
    var results: [Result<PacketSummary, WireError>] = []
    var capture = try CaptureFile(checking: file.span.bytes)
    var lastTime: Microseconds = -1
    while let record = try capture.next() {
        do throws(WireError) {
            let summary = try record.summary(fallbackTime: lastTime)
            lastTime = summary.time
            results.append(.success(summary))
        } catch { results.append(.failure(error)) }
    }
    return results
}

@Suite struct CaptureFileTests {
    let syn = ipv4(TCPSpec(sport: 1111, options: TCPSpec.linuxSYNOptions).build())
    let synV6 = ipv6(TCPSpec(sport: 2222).build())

    func ethernet(_ packet: [UInt8], etherType: UInt16 = 0x0800, vlans: Int = 0) -> [UInt8] {
        var b = Bytes()
        b.bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])
        for _ in 0..<vlans { b.u16(0x8100); b.u16(100) }
        b.u16(etherType)
        b.bytes(packet)
        return b.data
    }

    @Test(arguments: [true, false])
    func readsClassicPcapInBothByteOrders(little: Bool) throws {
        let file = pcapFile(linkType: 1, records: [(10, 500, ethernet(syn)), (11, 0, ethernet(synV6, etherType: 0x86dd, vlans: 2))],
                            little: little)
        let results = try readAll(file)
        #expect(results.count == 2)
        let first = try results[0].get(), second = try results[1].get()
        #expect(first.time == 10_000_500)
        #expect(first.key.sourcePort == 1111)
        #expect(second.key.family == .v6)
        #expect(second.key.sourcePort == 2222)
    }

    @Test func nanosecondPcapTimesBecomeMicroseconds() throws {
        let file = pcapFile(linkType: 101, records: [(3, 123_456_789, syn)], nano: true)
        #expect(try readAll(file).first?.get().time == 3_123_456)
    }

    @Test func readsLinuxCookedAndRawLinkTypes() throws {
        var sll = Bytes()
        sll.u16(0); sll.u16(1); sll.u16(6); sll.bytes([1, 2, 3, 4, 5, 6, 0, 0]); sll.u16(0x0800); sll.bytes(syn)
        var sll2 = Bytes()
        sll2.u16(0x86dd); sll2.u16(0); sll2.u32(3); sll2.u16(1); sll2.u8(0); sll2.u8(6)
        sll2.bytes([1, 2, 3, 4, 5, 6, 0, 0]); sll2.bytes(synV6)
        #expect(try readAll(pcapFile(linkType: 113, records: [(1, 0, sll.data)]))[0].get().key.sourcePort == 1111)
        #expect(try readAll(pcapFile(linkType: 276, records: [(1, 0, sll2.data)]))[0].get().key.sourcePort == 2222)
        #expect(try readAll(pcapFile(linkType: 228, records: [(1, 0, syn)]))[0].get().key.family == .v4)
        #expect(try readAll(pcapFile(linkType: 229, records: [(1, 0, synV6)]))[0].get().key.family == .v6)
        #expect(try readAll(pcapFile(linkType: 12, records: [(1, 0, syn)]))[0].get().key.family == .v4)
        #expect(try readAll(pcapFile(linkType: 0, records: [(1, 0, [2, 0, 0, 0] + syn)]))[0].get().key.family == .v4)
    }

    @Test func nonIPFramesAndUnknownLinkTypesAreCountedNotFatal() throws {
        let results = try readAll(pcapFile(linkType: 1, records: [(1, 0, ethernet([0, 1], etherType: 0x0806)), (2, 0, ethernet(syn))]))
        #expect(throws: WireError.linkNotIP) { try results[0].get() }
        #expect(try results[1].get().key.sourcePort == 1111)
        let unknown = try readAll(pcapFile(linkType: 147, records: [(1, 0, syn)]))
        #expect(throws: WireError.unsupportedLinkType) { try unknown[0].get() }
    }

    @Test(arguments: [true, false])
    func readsNflogPcapWithTLVsInTheFilesByteOrder(little: Bool) throws {
        // The kernel's timestamp attribute wins over the record time.
        let frame: [UInt8] = [2, 0, 0, 9] + nflogAttributes(packet: syn, seq: 41, little: little)
        let noTimestamp: [UInt8] = [2, 0, 0, 9] + nflogAttributes(packet: syn, seq: 42, time: nil, little: little)
        let results = try readAll(pcapFile(linkType: 239, records: [(5, 0, frame), (6, 7, noTimestamp)], little: little))
        let first = try results[0].get(), second = try results[1].get()
        #expect(first.time == 1_700_000_000_250_000)
        #expect(second.time == 6_000_007)
    }

    /// A stream read in two pieces, cut at every byte: the first piece's whole records,
    /// then the rest resumed from its position, give exactly the records of the whole.
    @Test func aStreamCutAnywhereResumesWhereItStopped() throws {
        let pcapng = pcapngFile([
            .interface(linkType: 1, tsresol: nil), .custom, .interface(linkType: 101, tsresol: 9),
            .enhanced(interface: 0, ticks: 5_000_001, data: ethernet(syn)),
            .enhanced(interface: 1, ticks: 7_000_000_999, data: synV6), .simple(data: ethernet(syn)),
        ])
        let pcap = pcapFile(linkType: 101, records: [(1, 2, syn), (3, 4, synV6), (5, 6, syn)])
        for file in [pcapng, pcap] {
            let whole = try readAll(file).map { try $0.get().key }
            for cut in 0...file.count {
                var keys: [ConnectionKey] = []
                func drain(_ capture: inout CaptureFile) throws(CaptureFileError) {
                    while let record = try capture.next() { if let s = try? record.summary(fallbackTime: 0) { keys.append(s.key) } }
                }
                let head = Array(file[..<cut])
                var consumed = 0
                var position: CaptureFile.Position?
                do throws(CaptureFileError) {
                    var first = try CaptureFile(checking: head.span.bytes)
                    do throws(CaptureFileError) { try drain(&first) } catch { #expect(error.reason == .truncated) }
                    (consumed, position) = (first.consumed, first.position)
                } catch {
                    #expect(error.reason == .truncated || error.reason == .empty, "cut \(cut)")
                }
                let rest = Array(file[consumed...])
                if let position {
                    var second = CaptureFile(resuming: position, bytes: rest.span.bytes)
                    try drain(&second)
                } else {
                    var second = try CaptureFile(checking: rest.span.bytes)
                    try drain(&second)
                }
                #expect(keys == whole, "cut at \(cut) of \(file.count)")
            }
        }
    }

    @Test(arguments: [true, false])
    func readsPcapngWithSeveralInterfaces(little: Bool) throws {
        let file = pcapngFile([
            .interface(linkType: 1, tsresol: nil),  // microseconds
            .custom,
            .interface(linkType: 101, tsresol: 9),  // nanoseconds
            .enhanced(interface: 0, ticks: 5_000_001, data: ethernet(syn)),
            .enhanced(interface: 1, ticks: 7_000_000_999, data: synV6),
            .simple(data: ethernet(syn)),
        ], little: little)
        let results = try readAll(file)
        #expect(results.count == 3)
        #expect(try results[0].get().time == 5_000_001)
        #expect(try results[1].get().time == 7_000_000)
        #expect(try results[1].get().key.family == .v6)
        #expect(try results[2].get().time == 7_000_000)  // no time of its own: the previous one
    }

    @Test func binaryTimestampResolution() throws {
        let file = pcapngFile([.interface(linkType: 101, tsresol: 0x80 | 10), .enhanced(interface: 0, ticks: 1024 * 3 + 512, data: syn)])
        #expect(try readAll(file)[0].get().time == 3_500_000)
    }

    @Test func namesTheOffsetOfDamage() throws {
        let good = pcapFile(linkType: 101, records: [(1, 0, syn), (2, 0, syn)])
        // Cut inside the second record: the first is still read.
        let cut = Array(good.prefix(good.count - 5))
        var read = 0
        let error = #expect(throws: CaptureFileError.self) {
            var capture = try CaptureFile(checking: cut.span.bytes)
            while let _ = try capture.next() { read += 1 }
        }
        #expect(read == 1)
        #expect(error == CaptureFileError(reason: .truncated, offset: 24 + 16 + syn.count))
        #expect(throws: CaptureFileError(reason: .notACapture, offset: 0)) { try readAll(Array("hello, world".utf8)) }
        #expect(throws: CaptureFileError(reason: .empty, offset: 0)) { try readAll([]) }
        #expect("\(CaptureFileError(reason: .empty, offset: 0))".hasPrefix("empty: a capture starts with a header"))
        #expect(throws: CaptureFileError(reason: .truncated, offset: 0)) { try readAll(Array(good.prefix(10))) }
        // Shorter than a magic number: cut short if the bytes begin one (either byte
        // order), else no capture at all.
        #expect(throws: CaptureFileError(reason: .truncated, offset: 0)) { try readAll(Array(good.prefix(2))) }
        #expect(throws: CaptureFileError(reason: .truncated, offset: 0)) { try readAll([0xa1, 0xb2, 0x3c]) }
        #expect(throws: CaptureFileError(reason: .truncated, offset: 0)) { try readAll([0x0a]) }
        #expect(throws: CaptureFileError(reason: .notACapture, offset: 0)) { try readAll(Array("hi".utf8)) }
        #expect(throws: CaptureFileError(reason: .notACapture, offset: 0)) { try readAll([0x0a, 0x0a]) }
        var pcapng = pcapngFile([.interface(linkType: 1, tsresol: nil), .enhanced(interface: 3, ticks: 0, data: syn)])
        #expect(throws: CaptureFileError(reason: .unknownInterface, offset: 28 + 20)) { try readAll(pcapng) }
        pcapng[pcapng.count - 1] = 0x7f  // trailing length differs from the leading one
        #expect(throws: CaptureFileError.self) { try readAll(pcapng) }
    }
}
