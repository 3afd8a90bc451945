import SamplerStatus
import SamplerWire

/// Something else the live loop waits on between batches: the status socket, the
/// metrics endpoint. Called on the loop's thread, so it may read the loop's state.
public protocol LoopAttachment: AnyObject {
    /// Appends the descriptors to wait on during this pass.
    func addDescriptors(to descriptors: inout [PollDescriptor])
    /// Handles what poll reported for the descriptors it added, in the same order.
    func handle(_ polled: ArraySlice<PollDescriptor>, now: Microseconds, snapshot: () -> LiveSnapshot)
}

/// One entry of poll(2)'s array, without the C type in the interface.
public struct PollDescriptor: Sendable {
    public var fd: Int32
    public var wantsInput: Bool
    public var wantsOutput: Bool
    /// Set by poll: readable (or a new connection), writable, or hung up / failed.
    public internal(set) var readable = false
    public internal(set) var writable = false
    public internal(set) var failed = false

    public init(fd: Int32, input: Bool = true, output: Bool = false) {
        self.fd = fd
        wantsInput = input
        wantsOutput = output
    }
}
