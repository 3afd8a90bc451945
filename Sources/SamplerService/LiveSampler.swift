import CLinux
import SamplerStatus
import SamplerCapture
import SamplerPipeline
import SamplerRuntime
import SamplerClassifier
import SamplerSinks
import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// `sampler run`: NFLOG -> parse in place -> classify -> JSON lines, with a summary per
/// window in the log, until SIGINT or SIGTERM. The calling thread is the reader: poll(2)
/// waits on the socket, a signalfd and the attachments (status, metrics), so a signal is
/// handled between batches, never inside one. Classification and writing run on the
/// pipeline's own threads (`Pipeline`).
public final class LiveSampler {
    public struct Options: Sendable {
        public var nflog: NflogConfiguration
        public var pipeline: Pipeline.Options
        public var output: String? = nil

        public init(nflog: NflogConfiguration, pipeline: Pipeline.Options) {
            self.nflog = nflog
            self.pipeline = pipeline
        }
    }

    public let options: Options
    /// Where records go besides the file (ClickHouse), if anywhere.
    public let sink: (any RecordSink)?
    private let log: @Sendable (String) -> Void
    private let startedAt: Microseconds
    private var pipeline: Pipeline?
    private var lastOverrunLog: Microseconds = 0
    private var ringDrops = RingDropNotice()
    private var receiveBufferBytes = 0
    /// The NFLOG group, once bound (`bind()`, or the start of `run`).
    private var socket: NflogSocket?
    /// The counters when the clock's current window began, and the window before it
    /// (for the per-window figures of `status`).
    private var atIntervalStart: (start: Microseconds, counters: LiveCounters)
    private var lastInterval: IntervalCounters?

    public init(options: Options, sink: (any RecordSink)? = nil, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.sink = sink
        self.log = log
        startedAt = wallClock()
        let window = options.pipeline.window
        atIntervalStart = (WindowAggregator.windowStart(of: startedAt, length: window), LiveCounters(start: startedAt))
    }

    /// What the run counted, once it has stopped (or so far).
    public var counters: LiveCounters { pipeline?.counters() ?? LiveCounters(start: startedAt) }

    public enum RunError: Error, CustomStringConvertible {
        case capture(CaptureError)
        case output(RecordFile.OpenError)
        /// A system call the loop needs failed.
        case system(call: String, Errno)

        public var description: String {
            switch self {
            case .capture(let error): error.description
            case .output(let error): error.description
            case .system(let call, let error): "\(call): \(error)"
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
        /// SIGHUP came: the caller re-reads its configuration and returns the classifier's
        /// part to apply live, or nil to keep the one running.
        public var reload: () -> ClassifierConfiguration? = { nil }

        public init(ready: @escaping () -> Void = {}, tick: @escaping (Microseconds) -> Void = { _ in },
                    stopping: @escaping () -> Void = {}, reload: @escaping () -> ClassifierConfiguration? = { nil }) {
            self.ready = ready
            self.tick = tick
            self.stopping = stopping
            self.reload = reload
        }
    }

    /// Takes the NFLOG group now, before anything that another daemon on the group
    /// would see (`run --install-rules` installing the rules): a start refused here changes
    /// nothing. `run` binds it itself if this was not called.
    public func bind() throws(RunError) { _ = try boundSocket() }

    private func boundSocket() throws(RunError) -> NflogSocket {
        if let socket { return socket }
        let bound: NflogSocket
        do { bound = try NflogSocket(options.nflog) } catch { throw .capture(error) }
        socket = bound
        return bound
    }

    /// Runs until SIGINT or SIGTERM; then finalizes every open connection, writes, and
    /// returns. `attachments` are waited on alongside the socket (status, metrics).
    public func run(events: Events = Events(), attachments: [any LoopAttachment] = []) throws(RunError) {
        let signals = try SignalDescriptor([SIGINT, SIGTERM, SIGHUP])
        // A closed standard output (`| head`) is then an EPIPE (and the loop, watching the
        // descriptor, stops cleanly), instead of a death by SIGPIPE that loses the open
        // connections.
        signal(SIGPIPE, SIG_IGN)
        // The group first: a start refused there (the group is taken, no permission)
        // leaves no empty records file behind.
        let socket = try boundSocket()
        let output: RecordFile
        do { output = try RecordFile(path: options.output) } catch { throw .output(error) }
        if let cut = output.cutMessage { log(cut) }
        receiveBufferBytes = socket.receiveBufferBytes
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(options: options.pipeline, output: output, sink: sink, start: startedAt, log: log, describe: Self.describe)
            self.pipeline = pipeline
            try pipeline.start()
        } catch {
            throw .system(call: "starting the classifier threads", error)
        }
        log("reading NFLOG group \(options.nflog.group) (receive buffer \(socket.receiveBufferBytes) bytes, "
            + "\(options.pipeline.shards) classifier shard\(options.pipeline.shards == 1 ? "" : "s")); "
            + "records to \(output.path ?? "standard output")")
        events.ready()

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: options.nflog.datagramBufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        var running = true
        // Records to standard output: a reader that goes away (`| head`) shows as an error
        // on the descriptor at once, not only at the next write.
        let watchOutput = options.output == nil || options.output == "-"
        var descriptors: [PollDescriptor] = []
        var fds: [pollfd] = []
        while running {
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(PollDescriptor(fd: socket.fd))
            descriptors.append(PollDescriptor(fd: signals.fd))
            if watchOutput { descriptors.append(PollDescriptor(fd: STDOUT_FILENO, input: false)) }
            var ranges: [Range<Int>] = []
            for attachment in attachments {
                let first = descriptors.count
                attachment.addDescriptors(to: &descriptors)
                ranges.append(first..<descriptors.count)
            }
            do throws(RunError) {
                try Self.poll(&descriptors, fds: &fds, timeoutMilliseconds: 250)
                if descriptors[1].readable {
                    switch signals.read() {
                    case SIGHUP:
                        if let classifier = events.reload() { pipeline.requestReconfigure(classifier) }
                        pipeline.requestReopen()
                    case SIGINT, SIGTERM: running = false
                    default: break
                    }
                }
                if descriptors[0].readable || descriptors[0].failed {
                    try drain(socket, into: buffer, pipeline: pipeline)
                }
                if watchOutput && descriptors[2].failed && running {
                    log("standard output was closed (its reader went away): stopping")
                    running = false
                }
            } catch {
                // Stop the threads and write what they hold before giving up.
                pipeline.finish()
                throw error
            }
            let now = wallClock()
            rotateInterval(at: now, pipeline: pipeline)
            noteRingDrops(at: now, pipeline: pipeline)
            for (attachment, range) in zip(attachments, ranges) {
                attachment.handle(descriptors[range], now: now) { snapshot(at: now) }
            }
            events.tick(now)
        }
        events.stopping()
        log("stopping: finalizing \(counted(pipeline.shardStates().reduce(0) { $0 + $1.openConnections }, "open connection"))")
        pipeline.finish()
    }

    /// The loop's state now, for status and metrics.
    public func snapshot(at now: Microseconds) -> LiveSnapshot {
        let counters = counters
        let published = pipeline?.windows
        let length = options.pipeline.window
        let windowStart = WindowAggregator.windowStart(of: now, length: length)
        var current = WindowSummary(start: windowStart, length: length)
        var last = published?.lastEmitted
        for open in [published?.previous, published?.current].compactMap({ $0 }) {
            // The writer hands a window out only when later records arrive or its
            // lateness passes, so on a quiet host an open window may already be over.
            if open.start >= windowStart { current = open } else if open.start > (last?.start ?? .min) { last = open }
        }
        let shards = pipeline?.shardStates() ?? []
        return LiveSnapshot(
            startedAt: startedAt, takenAt: now, group: options.nflog.group, output: options.output,
            receiveBufferBytes: receiveBufferBytes, maximumReceiveBufferBytes: options.nflog.maximumReceiveBufferBytes,
            counters: counters, openConnections: shards.reduce(0) { $0 + $1.openConnections },
            maxConnections: options.pipeline.classifier.maxConnections,
            currentWindow: current, lastWindow: last,
            currentInterval: IntervalCounters(start: atIntervalStart.start, from: atIntervalStart.counters, to: counters),
            lastInterval: lastInterval, shards: shards, shipping: sink?.status())
    }

    private func noteRingDrops(at now: Microseconds, pipeline: Pipeline) {
        guard ringDrops.isDue(at: now) else { return }
        if let line = ringDrops.line(dropped: pipeline.counters()[.ringDrops], at: now) { log(line) }
    }

    /// Starts a new interval when the clock enters a new window.
    private func rotateInterval(at now: Microseconds, pipeline: Pipeline) {
        let start = WindowAggregator.windowStart(of: now, length: options.pipeline.window)
        guard start > atIntervalStart.start else { return }
        let counters = pipeline.counters()
        lastInterval = IntervalCounters(start: atIntervalStart.start, from: atIntervalStart.counters, to: counters)
        atIntervalStart = (start, counters)
    }

    /// poll(2) over `descriptors`; fills in what each is ready for.
    static func poll(_ descriptors: inout [PollDescriptor], fds: inout [pollfd], timeoutMilliseconds: Int32) throws(RunError) {
        fds.removeAll(keepingCapacity: true)
        for d in descriptors {
            fds.append(pollfd(fd: d.fd, events: Int16((d.wantsInput ? POLLIN : 0) | (d.wantsOutput ? POLLOUT : 0)), revents: 0))
        }
        do {
            // A signal ends the wait early; the loop comes back with what is pending.
            _ = try retryOnInterrupt { Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds) }
        } catch {
            throw .system(call: "poll", error)
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
    private func drain(_ socket: NflogSocket, into buffer: UnsafeMutableRawBufferPointer, pipeline: Pipeline) throws(RunError) {
        for _ in 0..<256 {
            let received: NflogSocket.Received
            do { received = try socket.receive(into: buffer) } catch { throw .capture(error) }
            switch received {
            case .empty:
                return
            case .overrun:
                pipeline.noteOverrun()
                // Doubled in the units it was asked in (the kernel reports twice that).
                let asked = socket.requestedReceiveBufferBytes
                let grown = asked < options.nflog.maximumReceiveBufferBytes
                    ? socket.setReceiveBuffer(min(asked * 2, options.nflog.maximumReceiveBufferBytes)) : nil
                receiveBufferBytes = socket.receiveBufferBytes
                let now = wallClock()
                if now - lastOverrunLog > 10_000_000 {
                    lastOverrunLog = now
                    log("the kernel dropped NFLOG messages (ENOBUFS)"
                        + (grown.map { "; receive buffer now \($0) bytes" }
                            ?? "; receive buffer at its maximum (max_receive_buffer \(options.nflog.maximumReceiveBufferBytes), which the kernel counts twice)"))
                }
            case .datagram(let length):
                pipeline.dispatch(RawSpan(_unsafeBytes: UnsafeRawBufferPointer(rebasing: buffer[0..<length])), now: wallClock())
            }
        }
    }

    @Sendable static func describe(_ window: WindowSummary, counters: LiveCounters) -> String {
        let shares = Stage.allCases.map { stage in "\(stage.name) \(percent(window.share(stage)))" }.joined(separator: ", ")
        return "window \(Timestamp.windowLabel(window.start, seconds: window.length % 60_000_000 != 0, separator: UInt8(ascii: "T")))Z: \(counted(window.total, "connection")) (\(shares))"
            + (window.excluded > 0 ? ", \(window.excluded) \(WindowSummary.excludedNote)" : "")
            + (window.count(.evicted) > 0 ? ", \(window.count(.evicted)) evicted (table full)" : "")
            + "; lost messages so far \(counters[.lost]), overruns \(counters[.overruns]), ring drops \(counters[.ringDrops]), parse errors \(counters[.parseErrorsTotal])"
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
        do { try checkReturned { pthread_sigmask(SIG_BLOCK, &mask, &old) } } catch { throw .system(call: "pthread_sigmask", error) }
        let descriptor = signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard descriptor >= 0 else {
            let error = Errno.last
            pthread_sigmask(SIG_SETMASK, &old, nil)
            throw .system(call: "signalfd", error)
        }
        fd = descriptor
        previous = old
        // A signal ignored when sampler started (a shell's `&` ignores SIGINT) would be
        // discarded, not queued for the descriptor.
        for signal in signals { Glibc.signal(signal, SIG_DFL) }
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

/// Packets dropped at full shard rings are logged as they happen, at most every ten
/// seconds (looked for once a second), as the kernel's own drops are: the stop line alone
/// would say it only when the damage is done.
struct RingDropNotice {
    private var lookedAt: Microseconds = .min
    private var saidAt: Microseconds?
    private var said: UInt64 = 0

    /// Whether a second has passed since the last look (then the counters are read).
    mutating func isDue(at now: Microseconds) -> Bool {
        guard lookedAt == .min || now - lookedAt >= 1_000_000 else { return false }
        lookedAt = now
        return true
    }

    /// The line to log for `dropped` (since the start), or nil: none new, or one said
    /// less than ten seconds ago.
    mutating func line(dropped: UInt64, at now: Microseconds) -> String? {
        guard dropped > said, saidAt.map({ now - $0 >= 10_000_000 }) ?? true else { return nil }
        defer { (saidAt, said) = (now, dropped) }
        return "\(dropped - said) packets dropped at full classifier rings"
            + (saidAt.map { " in the last \((now - $0) / 1_000_000) s" } ?? "")
            + " (\(dropped) since the start): the shards cannot keep up with the kernel; "
            + "give them more cores (shards) or sample less (probability)"
    }
}
