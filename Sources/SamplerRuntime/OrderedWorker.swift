import SamplerSystem
import Synchronization

/// A stage of work on a thread of its own: it applies `body` to its state and each
/// element one producer hands it, in the order handed, never dropping one, and gives the
/// state back at `finish()`. Offline `classify` reads on one thread, classifies on a
/// second and writes the records on a third, so that two cores share the work one did
/// (docs/benchmarks.md).
///
/// The elements cross an `SPSCRing`. The producer wakes the worker once per `batch`
/// elements rather than per element (a wake-up is a fence and, when it sleeps, a system
/// call), and once more at `finish()`; the worker wakes a producer that waits for room
/// once per `batch` elements it has taken. A producer that sleeps through a missed
/// wake-up looks again after a millisecond; an idle worker after one to 64 (so fewer
/// than `batch` elements pushed into a quiet ring wait at most that long). A full ring
/// makes the producer wait, never drop: offline there is no kernel to outrun, only a
/// disk to wait for.
///
/// The state lives on the worker's stack while it runs, so `body` reaches it without the
/// dynamic exclusivity check that a captured variable costs on every element. Where the
/// system has no thread to give (or no descriptor for a wake-up), `push` runs `body` on
/// the producer's thread instead: slower, the same result.
///
/// `@inlinable` throughout, like `SPSCRing`: unspecialized, every element would be
/// copied and destroyed through its type's metadata.
public final class OrderedWorker<Element: Sendable, State>: @unchecked Sendable {
    // @unchecked: the state belongs to the worker thread from `init` until the join in
    // `finish()`, and to the producer's thread after it (or throughout, inline); the ring
    // and the flag hand everything else over.
    @usableFromInline let ring: SPSCRing<Element>
    @usableFromInline let threaded: Threaded?
    @usableFromInline let batch: Int
    /// Pushes left before the next wake-up (the producer's only; unchecked like the
    /// ring's indices): a count down rather than a division per push.
    @exclusivity(unchecked) @usableFromInline var untilWake: Int
    @usableFromInline let box: StateBox<State>
    @usableFromInline let body: Body
    @usableFromInline var thread: JoinableThread?

    /// The stage's closures, carried to its thread: only one thread calls them at a time.
    @usableFromInline final class Body: @unchecked Sendable {
        @usableFromInline let apply: (inout State, Element) -> Void
        @usableFromInline let idle: ((inout State) -> Void)?
        @usableFromInline let ahead: Ahead?
        @usableFromInline init(_ apply: @escaping (inout State, Element) -> Void, idle: ((inout State) -> Void)?, ahead: Ahead?) {
            self.apply = apply
            self.idle = idle
            self.ahead = ahead
        }
    }

    /// A look at the elements a few places before `body` takes them (a prefetch), which
    /// should change nothing. It takes the state `inout` only because a borrowed state
    /// was copied (a retain of each of its buffers) on every call.
    public struct Ahead {
        @usableFromInline let distance: Int
        @usableFromInline let look: (inout State, borrowing Element) -> Void
        public init(distance: Int, _ look: @escaping (inout State, borrowing Element) -> Void) {
            self.distance = max(1, distance)
            self.look = look
        }
    }

    /// What only a threaded worker has: its wake-ups and its flag.
    @usableFromInline final class Threaded: Sendable {
        @usableFromInline let wakeup: Wakeup
        /// Where the producer sleeps while the ring is full.
        @usableFromInline let room: Wakeup
        @usableFromInline let done = Atomic<Bool>(false)

        @usableFromInline init(wakeup: Wakeup, room: Wakeup) {
            self.wakeup = wakeup
            self.room = room
        }
    }

    /// Starts the worker thread, named `name`, with `state`. `idle`, if given, runs on
    /// the worker each time it finds the ring empty, before it sleeps (every 1 to 64 ms
    /// while nothing comes): a writer flushes there what waits. `ahead`, if given, sees
    /// each element its distance before `body` does, within what the ring holds (on the
    /// producer's thread, inline, it sees nothing).
    @inlinable
    public init(name: String, capacity: Int = 2048, batch: Int = 256, state: State, ahead: Ahead? = nil,
                body: @escaping (inout State, Element) -> Void, idle: ((inout State) -> Void)? = nil) {
        ring = SPSCRing(capacity: capacity)
        let batch = max(1, min(batch, ring.capacity / 2))
        self.batch = batch
        untilWake = batch
        let body = Body(body, idle: idle, ahead: ahead)
        self.body = body
        box = StateBox(state)
        guard let wakeup = try? Wakeup(), let room = try? Wakeup() else {
            threaded = nil
            return
        }
        let threaded = Threaded(wakeup: wakeup, room: room)
        let (ring, box) = (ring, box)
        thread = try? JoinableThread(name: name) {
            var state = box.take()
            // How long to sleep with nothing to do: a millisecond, doubling while nothing
            // comes (a stream that pauses) up to 64, so that an idle worker does not wake
            // a thousand times a second; the producer's wake-up ends any sleep at once.
            var sleep: Int32 = 1
            while true {
                // Read `done` before draining: whatever was pushed before it was set is
                // drained on this pass or an earlier one.
                let done = threaded.done.load(ordering: .acquiring)
                let taken = if let ahead = body.ahead {
                    ring.drain(limit: batch, ahead: ahead.distance, { ahead.look(&state, $0) }) { body.apply(&state, $0) }
                } else {
                    ring.drain(limit: batch) { body.apply(&state, $0) }
                }
                if taken > 0 {
                    threaded.room.signal()
                    sleep = 1
                    continue
                }
                if done { break }
                body.idle?(&state)
                threaded.wakeup.wait(timeoutMilliseconds: sleep) { ring.count > 0 || threaded.done.load(ordering: .acquiring) }
                sleep = min(sleep * 2, 64)
            }
            box.put(state)
        }
        self.threaded = thread == nil ? nil : threaded
    }

    /// Hands `element` to the worker (from the producer's thread only), waiting while the
    /// ring is full.
    ///
    /// The common case, room in a threaded worker's ring, reads no reference into a local:
    /// binding `threaded` here retained and released it on every element, 5% of classify's
    /// reading thread. The rest is out of line.
    @inlinable
    public func push(_ element: Element) {
        if threaded != nil, ring.push(element) {
            untilWake -= 1
            if untilWake == 0 { wakeWorker() }
            return
        }
        pushSlowly(element)
    }

    /// A ring that is full, or no thread: wait for room, or apply `body` here.
    @usableFromInline @inline(never)
    func pushSlowly(_ element: Element) {
        guard let threaded else {
            box.withState { body.apply(&$0, element) }
            return
        }
        while !ring.push(element) {
            threaded.wakeup.signal()
            threaded.room.wait(timeoutMilliseconds: 1) { ring.count < ring.capacity }
        }
        untilWake -= 1
        if untilWake == 0 { wakeWorker() }
    }

    /// Once per `batch` elements pushed.
    @usableFromInline @inline(never)
    func wakeWorker() {
        untilWake = batch
        threaded?.wakeup.signal()
    }

    /// Waits until the worker has applied `body` to every element pushed, ends its
    /// thread, and returns the state (from the producer's thread, once).
    @inlinable
    public func finish() -> State {
        stop()
        return box.take()
    }

    @inlinable func stop() {
        guard let threaded, let thread else { return }
        threaded.done.store(true, ordering: .releasing)
        threaded.wakeup.signal()
        thread.join()
        self.thread = nil
    }

    deinit { stop() }
}

/// Carries a stage's state to its thread and back; the thread's start and join order the
/// two hand-overs, so it needs no lock.
@usableFromInline final class StateBox<State>: @unchecked Sendable {
    @usableFromInline var state: State?
    @usableFromInline init(_ state: State) { self.state = state }
    @inlinable func take() -> State {
        defer { state = nil }
        return state!
    }
    @inlinable func put(_ state: State) { self.state = state }
    @inlinable func withState(_ body: (inout State) -> Void) { body(&state!) }
}
