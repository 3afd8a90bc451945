import SamplerWire

/// One finalized connection: what gets written and counted. A fixed-size value.
public struct ConnectionRecord: Sendable {
    public var key: ConnectionKey
    public var firstSeen: Microseconds
    public var lastSeen: Microseconds
    /// Packet time at which the connection was finalized: the time that puts a record in
    /// its window, live, offline and in reports (docs/records.md, `finalized`).
    public var finalizedAt: Microseconds
    public var close: CloseReason
    public var stage: Stage
    public var tags: Tags
    /// The study's tampering signature (`nil` at stage `none`), from the stage, close and tags.
    public var signature: Signature?
    /// How far the RSTs' IP IDs and TTLs are from the client's own: only for a reset close.
    public var resetEvidence: ResetEvidence?
    public var syn: SYNInfo
    public var packetCount: Int
    private var flagStorage = InlineArray<10, TCPFlags>(repeating: [])
    public var payloadBytes: UInt64
    /// The client's network and country, filled in by the writer from the location
    /// database once the connection is finalized (unknown without one).
    public var client = Location.unknown

    public init(_ connection: Connection, close: CloseReason, stage: Stage, tags: Tags, finalizedAt: Microseconds) {
        key = connection.key
        firstSeen = connection.firstSeen
        lastSeen = connection.lastSeen
        self.finalizedAt = finalizedAt
        self.close = close
        self.stage = stage
        self.tags = tags
        signature = Signature(stage: stage, close: close, tags: tags)
        resetEvidence = close == .reset ? ResetEvidence(of: connection) : nil
        syn = connection.syn
        packetCount = connection.packetCount
        payloadBytes = 0
        for i in 0..<connection.packetCount {
            flagStorage[i] = connection.flags(at: i)
            payloadBytes += UInt64(connection[i].payloadLength)
        }
    }

    /// The flags of packet `index`, in arrival order.
    public func flags(at index: Int) -> TCPFlags { flagStorage[index] }
}
