@_exported import struct SystemPackage.Errno
#if canImport(Glibc)
import Glibc
#endif

// The system-call layer, in the style of apple/swift-system, whose `Errno` it re-exports:
// a failed call becomes an `Errno` value at once and stays one until it is printed
// (`Errno.description` is strerror's text), and a call interrupted by a signal is retried
// here, in one place. swift-system's `FileDescriptor` is not used because its methods
// throw untyped errors; `Descriptor` below is the same idea with `throws(Errno)`.

extension Errno {
    /// The calling thread's errno, as a value.
    public static var last: Errno { Errno(rawValue: errno) }
}

/// Runs `call`, a system call that returns -1 and sets errno when it fails, again for as
/// long as a signal interrupts it (EINTR); any other failure is thrown as its `Errno`.
@inlinable
public func retryOnInterrupt<Result: BinaryInteger>(_ call: () -> Result) throws(Errno) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno(rawValue: errno)
        if error != .interrupted { throw error }
    }
}

/// Runs a call that returns an error number instead of setting errno (pthread_create,
/// posix_spawn); a non-zero result is thrown as its `Errno`.
@inlinable
public func checkReturned(_ call: () -> Int32) throws(Errno) {
    let result = call()
    if result != 0 { throw Errno(rawValue: result) }
}
