import CNetfilter
import SamplerCapture
import SamplerClassifier
import SamplerSinks
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// `sampler run`: NFLOG -> parse in place -> classify -> JSON lines, with a summary per
/// window in the log, until SIGINT or SIGTERM. One thread: poll(2) waits on the socket
/// and a signalfd, so a signal is handled between batches, never inside one.
public final class LiveSampler {
    public struct Options: Sendable {
        public var nflog: NflogConfiguration
        public var classifier = ClassifierConfiguration()
        public var window: Microseconds = 15 * 60 * 1_000_000
        public var excludeMultipleSYNs = true
        public var output: String? = nil

        public init(group: UInt16) { nflog = NflogConfiguration(group: group) }
    }

    public let options: Options
    public private(set) var counters = LiveCounters()
    private let log: (String) -> Void
    private var classifier: Classifier
    private var aggregator: WindowAggregator
    private var sequence = SequenceTracker()
    private var lastOverrunLog: Microseconds = 0

    public init(options: Options, log: @escaping (String) -> Void) {
        self.options = options
        self.log = log
        classifier = Classifier(configuration: options.classifier)
        aggregator = WindowAggregator(length: options.window, excludeMultipleSYNs: options.excludeMultipleSYNs)
    }

    public enum RunError: Error, CustomStringConvertible {
        case capture(CaptureError)
        case output(RecordFile.OpenError)
        case system(String)

        public var description: String {
            switch self {
            case .capture(let error): error.description
            case .output(let error): error.description
            case .system(let text): text
            }
        }
    }

    /// What the caller hears of the loop's life (a service manager, say).
    public struct Events {
        /// The group is bound and reading has begun.
        public var ready: () -> Void = {}
        /// Each pass of the loop: at least every 250 ms, however quiet the traffic.
        public var tick: (Microseconds) -> Void = { _ in }
        /// Reading has stopped; open connections are being written.
        public var stopping: () -> Void = {}

        public init(ready: @escaping () -> Void = {}, tick: @escaping (Microseconds) -> Void = { _ in },
                    stopping: @escaping () -> Void = {}) {
            self.ready = ready
            self.tick = tick
            self.stopping = stopping
        }
    }

    /// Runs until SIGINT or SIGTERM; then finalizes every open connection, writes, and
    /// returns.
    public func run(events: Events = Events()) throws(RunError) {
        let signals = try SignalDescriptor([SIGINT, SIGTERM, SIGHUP])
        let output: RecordFile
        do { output = try RecordFile(path: options.output) } catch { throw .output(error) }
        let socket: NflogSocket
        do { socket = try NflogSocket(options.nflog) } catch { throw .capture(error) }
        log("reading NFLOG group \(options.nflog.group) (receive buffer \(socket.receiveBufferBytes) bytes); records to \(output.path ?? "standard output")")
        events.ready()

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: options.nflog.datagramBufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        var running = true
        while running {
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 250)
            if ready < 0 && errno != EINTR { throw .system("poll: \(String(cString: strerror(errno)))") }
            if fds[1].revents != 0 {
                switch signals.read() {
                case SIGHUP:
                    do { try output.reopen(); log("reopened \(output.path ?? "standard output")") }
                    catch { log("cannot reopen the output, still writing to the old file: \(error)") }
                case SIGINT, SIGTERM:
                    running = false
                default: break
                }
            }
            if fds[0].revents != 0 {
                try drain(socket, into: buffer, output: output)
            }
            let now = Self.now()
            classifier.advance(to: now) { record in write(record, to: output) }
            output.flush()
            events.tick(now)
        }
        events.stopping()
        log("stopping: finalizing \(classifier.openConnections) open connections")
        classifier.finishAll { record in write(record, to: output) }
        if let window = aggregator.flush() { log(Self.describe(window, counters: counters)) }
        counters.classifier = classifier.counters
        output.flush()
    }

    /// Reads datagrams until the socket is empty (at most 256 per wake-up, so that
    /// signals and timeouts are looked at under load too).
    private func drain(_ socket: NflogSocket, into buffer: UnsafeMutableRawBufferPointer, output: RecordFile) throws(RunError) {
        for _ in 0..<256 {
            let received: NflogSocket.Received
            do { received = try socket.receive(into: buffer) } catch { throw .capture(error) }
            switch received {
            case .empty:
                return
            case .overrun:
                counters.overruns += 1
                let grown = socket.receiveBufferBytes < options.nflog.maximumReceiveBufferBytes
                    ? socket.setReceiveBuffer(min(socket.receiveBufferBytes * 2, options.nflog.maximumReceiveBufferBytes)) : nil
                let now = Self.now()
                if now - lastOverrunLog > 10_000_000 {
                    lastOverrunLog = now
                    log("the kernel dropped NFLOG messages (ENOBUFS, \(counters.overruns) times so far)"
                        + (grown.map { "; receive buffer now \($0) bytes" } ?? "; receive buffer at its maximum"))
                }
            case .datagram(let length):
                counters.datagrams += 1
                counters.bytes += UInt64(length)
                process(RawSpan(_unsafeBytes: UnsafeRawBufferPointer(rebasing: buffer[0..<length])), output: output)
            }
        }
    }

    /// Parses one datagram in place and feeds its packets to the classifier.
    private func process(_ datagram: RawSpan, output: RecordFile) {
        let now = Self.now()
        var messages = NetlinkMessages(datagram)
        while true {
            do throws(WireError) {
                guard let message = try messages.next() else { return }
                guard message.type == NflogPacketMessage.messageType else { continue }
                counters.messages += 1
                let nflog = try NflogPacketMessage(checking: message)
                if let seq = nflog.attributes.sequence { counters.lost += sequence.observe(seq) }
                let packet = try nflog.summary(fallbackTime: now)
                counters.lastPacketTime = packet.time
                classifier.ingest(packet) { record in write(record, to: output) }
            } catch {
                counters.parseErrors.record(error)
                // A framing error leaves nothing after it that can be read.
                if error == .netlinkTruncated || error == .netlinkBadLength { return }
            }
        }
    }

    private func write(_ record: ConnectionRecord, to output: RecordFile) {
        JSONLines.append(record, to: &output.buffer)
        counters.records += 1
        aggregator.add(record) { window in log(Self.describe(window, counters: counters)) }
    }

    static func describe(_ window: WindowSummary, counters: LiveCounters) -> String {
        let shares = Stage.allCases.map { stage in
            let tenths = Int((window.share(stage) * 1000).rounded())
            return "\(stage.name) \(tenths / 10).\(tenths % 10)%"
        }.joined(separator: ", ")
        return "window \(Timestamp.string(window.start).prefix(16))Z: \(window.total) connections (\(shares))"
            + (window.excluded > 0 ? ", \(window.excluded) with multiple SYNs left out" : "")
            + "; lost messages so far \(counters.lost), overruns \(counters.overruns), parse errors \(counters.parseErrors.total)"
    }

    /// Wall-clock time, the same clock as the kernel's packet timestamps.
    static func now() -> Microseconds {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Microseconds(spec.tv_sec) * 1_000_000 + Microseconds(spec.tv_nsec / 1000)
    }
}

/// Signals delivered as readable data on a descriptor (signalfd), blocked otherwise.
final class SignalDescriptor {
    let fd: Int32
    private var previous = sigset_t()

    init(_ signals: [Int32]) throws(LiveSampler.RunError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        var old = sigset_t()
        guard pthread_sigmask(SIG_BLOCK, &mask, &old) == 0 else { throw .system("cannot block signals") }
        let descriptor = signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard descriptor >= 0 else {
            pthread_sigmask(SIG_SETMASK, &old, nil)
            throw .system("signalfd: \(String(cString: strerror(errno)))")
        }
        fd = descriptor
        previous = old
    }

    /// The next pending signal, or 0.
    func read() -> Int32 {
        var info = signalfd_siginfo()
        let n = Glibc.read(fd, &info, MemoryLayout<signalfd_siginfo>.size)
        return n == MemoryLayout<signalfd_siginfo>.size ? Int32(info.ssi_signo) : 0
    }

    deinit {
        close(fd)
        var restore = previous
        pthread_sigmask(SIG_SETMASK, &restore, nil)
    }
}
