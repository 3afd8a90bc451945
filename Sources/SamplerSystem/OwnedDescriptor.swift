/// A descriptor with exactly one owner, which closes it exactly once. Not copyable, so
/// that no second copy can close it again (or close a number the kernel has since given
/// to another file): `close()` consumes the owner and returns the failure, which on a file
/// just written can be the write's own error arriving late (NFS, a full disk); an owner
/// dropped without `close()` closes in its deinit, for the paths that have nothing to say.
///
/// `Descriptor` stays the copyable value the calls take (`owner.descriptor.read(...)`),
/// as swift-system's `FileDescriptor` is: ownership is this type's one job. Where many
/// descriptors are kept in an Array (the request server's clients) they stay values,
/// closed by hand, because the standard library's Array cannot hold a non-copyable type.
public struct OwnedDescriptor: ~Copyable, Sendable {
    public private(set) var descriptor: Descriptor

    /// Takes ownership of `descriptor`: nothing else may close it.
    public init(_ descriptor: Descriptor) { self.descriptor = descriptor }

    /// Closes it; the failure, if close(2) reported one.
    public consuming func close() -> Errno? {
        let descriptor = self.descriptor
        discard self
        return descriptor.close()
    }

    /// Closes the one owned now and owns `fresh` instead (a file reopened after a
    /// rotation); the old one's close failure, if any.
    public mutating func replace(with fresh: Descriptor) -> Errno? {
        let old = descriptor
        descriptor = fresh
        return old.close()
    }

    deinit { descriptor.close() }
}
