import SamplerWire

/// Reads a capture's records into the packet summaries that the server filter accepts,
/// and counts what it cannot read: the first stage of `sampler classify`, apart from the
/// classifier so that the two can run on two threads. A whole file held in memory is
/// read by `readAll`; a stream read in pieces by `read` on each piece.
public struct CaptureReader {
    public var parseErrors = WireErrorCounts()
    /// Packets the server filter left out.
    public var filteredOut: UInt64 = 0
    /// Where the file stopped making sense, if it did; the records before it were used.
    public var fileError: CaptureFileError?
    /// The first link type met that sampler does not read, if any.
    public var unsupportedLinkType: UInt32?

    private let filter: ServerFilter
    /// The time of the last TCP packet read, kept or left out by the filter: the end of the
    /// input, to which the classifier's clock moves before the last connections are
    /// finalized (`finish`), so that a filter selects records and does not change them.
    public private(set) var lastTime: Microseconds = 0

    public init(filter: ServerFilter = ServerFilter()) {
        self.filter = filter
    }

    /// Hands `deliver` each TCP packet of the records `file` holds that the filter
    /// accepts, in file order. With `more` (a stream not at its end), a record cut short
    /// at the end of the piece is left for the next one; otherwise it is the file's
    /// error. Returns false once the file has an error (`fileError`): nothing after it
    /// can be read.
    public mutating func read(_ file: inout CaptureFile, more: Bool, deliver: (PacketSummary) -> Void) -> Bool {
        do throws(CaptureFileError) {
            while let record = try file.next() {
                do throws(WireError) {
                    let packet = try record.summary(fallbackTime: lastTime)
                    lastTime = packet.time
                    guard filter.accepts(packet.key) else {
                        filteredOut += 1
                        continue
                    }
                    deliver(packet)
                } catch {
                    parseErrors.record(error)
                    if error == .unsupportedLinkType && unsupportedLinkType == nil { unsupportedLinkType = record.linkType }
                }
            }
        } catch {
            if more && error.reason == .truncated { return true }
            fileError = error
            return false
        }
        return true
    }

    /// Reads every record of a whole file.
    public mutating func readAll(_ capture: RawSpan, deliver: (PacketSummary) -> Void) {
        do throws(CaptureFileError) {
            var file = try CaptureFile(checking: capture)
            _ = read(&file, more: false, deliver: deliver)
        } catch {
            fileError = error
        }
    }
}

extension Classifier {
    /// The end of a capture: the clock moves to the reader's last packet (one the filter
    /// left out, too: it is the capture's time all the same), finalizing what was due by
    /// then, and every connection still open is finalized at that time.
    public mutating func finish(after reader: CaptureReader, emit: (ConnectionRecord) -> Void) {
        advance(to: reader.lastTime, emit: emit)
        finishAll(emit: emit)
    }
}

/// A capture classified on one thread: what its reader counted and what its classifier
/// did. `sampler classify` runs the same two stages on threads of their own; tests and
/// benchmarks use this.
public struct CaptureClassification {
    public var reader: CaptureReader
    public var counters: ClassifierCounters

    public var parseErrors: WireErrorCounts { reader.parseErrors }
    public var fileError: CaptureFileError? { reader.fileError }

    /// Reads every record of a whole file, then finalizes what is still open at its end
    /// (see `Classifier.finishAll`).
    public static func run(
        capture: RawSpan, filter: ServerFilter = ServerFilter(),
        configuration: ClassifierConfiguration = ClassifierConfiguration(),
        emit: (ConnectionRecord) -> Void
    ) -> CaptureClassification {
        var reader = CaptureReader(filter: filter)
        var classifier = Classifier(configuration: configuration)
        reader.readAll(capture) { classifier.ingest($0, emit: emit) }
        classifier.finish(after: reader, emit: emit)
        return CaptureClassification(reader: reader, counters: classifier.counters)
    }
}
