import SamplerWire

/// Classifies a capture: the offline path of `sampler classify`, over a whole file held
/// in memory (`run`) or a stream read in pieces (`read` each piece, then `finish`). One
/// parser and one classifier, the same as the live path.
public struct CaptureClassification {
    public var counters = ClassifierCounters()
    public var parseErrors = WireErrorCounts()
    /// Packets the server filter left out.
    public var filteredOut: UInt64 = 0
    /// Where the file stopped making sense, if it did; the records before it were used.
    public var fileError: CaptureFileError?
    /// The first link type met that sampler does not read, if any.
    public var unsupportedLinkType: UInt32?

    private var classifier: Classifier
    private let filter: ServerFilter
    private var lastTime: Microseconds = 0

    public init(filter: ServerFilter = ServerFilter(), configuration: ClassifierConfiguration = ClassifierConfiguration()) {
        classifier = Classifier(configuration: configuration)
        self.filter = filter
    }

    /// Classifies the records `file` holds, the TCP packets the filter accepts. With
    /// `more` (a stream not at its end), a record cut short at the end of the piece is
    /// left for the next one; otherwise it is the file's error. Returns false once the
    /// file has an error (`fileError`): nothing after it can be read.
    public mutating func read(_ file: inout CaptureFile, more: Bool, emit: (ConnectionRecord) -> Void) -> Bool {
        do throws(CaptureFileError) {
            while let record = try file.next() {
                do throws(WireError) {
                    let packet = try record.summary(fallbackTime: lastTime)
                    lastTime = packet.time
                    guard filter.accepts(packet.key) else {
                        filteredOut += 1
                        continue
                    }
                    classifier.ingest(packet, emit: emit)
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

    /// At the end of the input, finalizes what is still open (see `Classifier.finishAll`).
    public mutating func finish(emit: (ConnectionRecord) -> Void) {
        classifier.finishAll(emit: emit)
        counters = classifier.counters
    }

    /// Reads every record of a whole file, then finishes.
    public static func run(
        capture: RawSpan, filter: ServerFilter = ServerFilter(),
        configuration: ClassifierConfiguration = ClassifierConfiguration(),
        emit: (ConnectionRecord) -> Void
    ) -> CaptureClassification {
        var result = CaptureClassification(filter: filter, configuration: configuration)
        do throws(CaptureFileError) {
            var file = try CaptureFile(checking: capture)
            _ = result.read(&file, more: false, emit: emit)
        } catch {
            result.fileError = error
        }
        result.finish(emit: emit)
        return result
    }
}
