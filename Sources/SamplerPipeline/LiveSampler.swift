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
    public private(set) var counters: LiveCounters
    private let log: (String) -> Void
    private let startedAt: Microseconds
    private var classifier: Classifier
    private var aggregator: WindowAggregator
    private var lastWindow: WindowSummary?
    private var sequence = SequenceTracker()
    private var lastOverrunLog: Microseconds = 0
    private var receiveBufferBytes = 0
    /// The counters when the clock's current window began, and the window before it
    /// (for the per-window figures of `status`).
    private var atIntervalStart: (start: Microseconds, counters: LiveCounters)
    private var lastInterval: IntervalCounters?

    public init(options: Options, log: @escaping (String) -> Void) {
        self.options = options
        self.log = log
        startedAt = Self.now()
        counters = LiveCounters(start: startedAt)
        classifier = Classifier(configuration: options.classifier)
        aggregator = WindowAggregator(length: options.window, excludeMultipleSYNs: options.excludeMultipleSYNs)
        atIntervalStart = (aggregator.windowStart(of: startedAt), counters)
    }

    public enum RunError: Error, CustomStringConvertible {
        case capture(CaptureError)
        case output(RecordFile.OpenError)
        case system(String)
        /// A status or metrics endpoint could not be opened.
        case endpoint(String)

        public var description: String {
            switch self {
            case .capture(let error): error.description
            case .output(let error): error.description
            case .system(let text), .endpoint(let text): text
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
    /// returns. `attachments` are waited on alongside the socket (status, metrics).
    public func run(events: Events = Events(), attachments: [any LoopAttachment] = []) throws(RunError) {
        let signals = try SignalDescriptor([SIGINT, SIGTERM, SIGHUP])
        let output: RecordFile
        do { output = try RecordFile(path: options.output) } catch { throw .output(error) }
        let socket: NflogSocket
        do { socket = try NflogSocket(options.nflog) } catch { throw .capture(error) }
        receiveBufferBytes = socket.receiveBufferBytes
        log("reading NFLOG group \(options.nflog.group) (receive buffer \(socket.receiveBufferBytes) bytes); records to \(output.path ?? "standard output")")
        events.ready()

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: options.nflog.datagramBufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        var running = true
        var descriptors: [PollDescriptor] = []
        var fds: [pollfd] = []
        while running {
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(PollDescriptor(fd: socket.fd))
            descriptors.append(PollDescriptor(fd: signals.fd))
            var ranges: [Range<Int>] = []
            for attachment in attachments {
                let first = descriptors.count
                attachment.addDescriptors(to: &descriptors)
                ranges.append(first..<descriptors.count)
            }
            try Self.poll(&descriptors, fds: &fds, timeoutMilliseconds: 250)
            if descriptors[1].readable {
                switch signals.read() {
                case SIGHUP:
                    do { try output.reopen(); log("reopened \(output.path ?? "standard output")") }
                    catch { log("cannot reopen the output, still writing to the old file: \(error)") }
                case SIGINT, SIGTERM:
                    running = false
                default: break
                }
            }
            if descriptors[0].readable || descriptors[0].failed {
                try drain(socket, into: buffer, output: output)
            }
            let now = Self.now()
            classifier.advance(to: now) { record in write(record, to: output) }
            output.flush()
            rotateInterval(at: now)
            for (attachment, range) in zip(attachments, ranges) {
                attachment.handle(descriptors[range], now: now) { snapshot(at: now) }
            }
            events.tick(now)
        }
        events.stopping()
        log("stopping: finalizing \(classifier.openConnections) open connections")
        classifier.finishAll { record in write(record, to: output) }
        if let window = aggregator.flush() { log(Self.describe(window, counters: counters)) }
        counters.classifier = classifier.counters
        output.flush()
    }

    /// The loop's state now, for status and metrics.
    public func snapshot(at now: Microseconds) -> LiveSnapshot {
        var counters = counters
        counters.classifier = classifier.counters
        let windowStart = aggregator.windowStart(of: now)
        var current = WindowSummary(start: windowStart, length: aggregator.length)
        var last = lastWindow
        if let open = aggregator.current {
            // The aggregator hands a window out only when a later record arrives, so on
            // a quiet host its open window may already be over.
            if open.start >= windowStart { current = open } else { last = open }
        }
        return LiveSnapshot(
            startedAt: startedAt, takenAt: now, group: options.nflog.group, output: options.output,
            receiveBufferBytes: receiveBufferBytes, maximumReceiveBufferBytes: options.nflog.maximumReceiveBufferBytes,
            counters: counters, openConnections: classifier.openConnections,
            maximumOpenConnections: options.classifier.maximumOpenConnections,
            currentWindow: current, lastWindow: last,
            currentInterval: IntervalCounters(start: atIntervalStart.start, from: atIntervalStart.counters, to: counters),
            lastInterval: lastInterval)
    }

    /// Starts a new interval when the clock enters a new window.
    private func rotateInterval(at now: Microseconds) {
        let start = aggregator.windowStart(of: now)
        guard start > atIntervalStart.start else { return }
        var counters = counters
        counters.classifier = classifier.counters
        lastInterval = IntervalCounters(start: atIntervalStart.start, from: atIntervalStart.counters, to: counters)
        atIntervalStart = (start, counters)
    }

    /// poll(2) over `descriptors`, retrying on EINTR; fills in what each is ready for.
    private static func poll(_ descriptors: inout [PollDescriptor], fds: inout [pollfd], timeoutMilliseconds: Int32) throws(RunError) {
        fds.removeAll(keepingCapacity: true)
        for d in descriptors {
            fds.append(pollfd(fd: d.fd, events: Int16((d.wantsInput ? POLLIN : 0) | (d.wantsOutput ? POLLOUT : 0)), revents: 0))
        }
        if Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds) < 0 {
            if errno == EINTR { return }
            throw .system("poll: \(String(cString: strerror(errno)))")
        }
        for i in descriptors.indices {
            let revents = Int32(fds[i].revents)
            descriptors[i].readable = revents & Int32(POLLIN) != 0
            descriptors[i].writable = revents & Int32(POLLOUT) != 0
            descriptors[i].failed = revents & Int32(POLLERR | POLLHUP | POLLNVAL) != 0
        }
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
        counters.outcomes.add(record)
        aggregator.add(record) { window in
            lastWindow = window
            log(Self.describe(window, counters: counters))
        }
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
