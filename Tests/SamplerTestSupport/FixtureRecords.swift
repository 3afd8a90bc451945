import SamplerClassifier

extension NflogReplay {
    /// The records one classifier makes of the fixture copied `copies` times (13
    /// connections a copy, every stage, IPv4 and IPv6, resets with their evidence), in the
    /// order it finalizes them: the records the writer, the sinks and the readers are tested on.
    public static func records(copies: Int) -> [ConnectionRecord] {
        var classifier = Classifier()
        var records: [ConnectionRecord] = []
        for packet in packets(of: distinctFrames(copies: copies)) { classifier.ingest(packet) { records.append($0) } }
        classifier.finishAll { records.append($0) }
        return records
    }
}
