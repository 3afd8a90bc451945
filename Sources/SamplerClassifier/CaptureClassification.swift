import SamplerWire

/// Classifies a whole capture file held in memory: the offline path of `sampler classify`.
/// One parser and one classifier, the same as the live path.
public struct CaptureClassification {
    public var counters = ClassifierCounters()
    public var parseErrors = WireErrorCounts()
    /// Packets the server filter left out.
    public var filteredOut: UInt64 = 0
    /// Where the file stopped making sense, if it did; the records before it were used.
    public var fileError: CaptureFileError?

    public init() {}

    /// Reads every record, classifies the TCP packets the filter accepts, and at the end
    /// of the input finalizes what is still open (see `Classifier.finishAll`).
    public static func run(
        capture: RawSpan, filter: ServerFilter = ServerFilter(),
        configuration: ClassifierConfiguration = ClassifierConfiguration(),
        emit: (ConnectionRecord) -> Void
    ) -> CaptureClassification {
        var result = CaptureClassification()
        var classifier = Classifier(configuration: configuration)
        var lastTime: Microseconds = 0
        do throws(CaptureFileError) {
            var file = try CaptureFile(checking: capture)
            while let record = try file.next() {
                do throws(WireError) {
                    let packet = try record.summary(fallbackTime: lastTime)
                    lastTime = packet.time
                    guard filter.accepts(packet.key) else {
                        result.filteredOut += 1
                        continue
                    }
                    classifier.ingest(packet, emit: emit)
                } catch {
                    result.parseErrors.record(error)
                }
            }
        } catch {
            result.fileError = error
        }
        classifier.finishAll(emit: emit)
        result.counters = classifier.counters
        return result
    }
}
