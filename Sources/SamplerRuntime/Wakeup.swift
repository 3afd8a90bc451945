import CLinux
import SamplerSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a pipeline thread with nothing to do sleeps, and how another thread wakes it: an
/// eventfd(2), written only when the sleeper said it is going to sleep, so that a busy
/// pipeline makes no system call per batch. A wake-up that races with falling asleep is
/// caught by the sleeper's re-check, and at worst by the wait's timeout.
public final class Wakeup: Sendable {
    private let owner: OwnedDescriptor
    private var fd: Int32 { owner.descriptor.rawValue }
    private let sleeping = Atomic<Bool>(false)

    /// Fails only when the process is out of descriptors or memory (EMFILE, ENOMEM).
    public init() throws(Errno) {
        owner = OwnedDescriptor(Descriptor(rawValue: try retryOnInterrupt { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }))
    }

    /// Wakes the sleeper, if it sleeps (from any thread).
    public func signal() {
        // The producer's store into the ring must be visible before we read `sleeping`,
        // and the sleeper's store to `sleeping` before it re-checks the ring: a full
        // fence on each side (Dekker's pattern).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard sleeping.load(ordering: .relaxed) else { return }
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Sleeps until `signal()` or `timeoutMilliseconds`, unless `hasWork()` (checked after
    /// announcing the sleep) says there is something to do already.
    public func wait(timeoutMilliseconds: Int32, unless hasWork: () -> Bool) {
        sleeping.store(true, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if !hasWork() {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, timeoutMilliseconds)
        }
        sleeping.store(false, ordering: .relaxed)
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }
}
