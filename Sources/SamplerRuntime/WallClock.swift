import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time, the same clock as the kernel's packet timestamps.
@inlinable
public func wallClock() -> Microseconds {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Microseconds(spec.tv_sec) * 1_000_000 + Microseconds(spec.tv_nsec / 1000)
}
