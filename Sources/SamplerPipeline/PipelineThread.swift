import CNetfilter
#if canImport(Glibc)
import Glibc
#endif

/// A joinable POSIX thread running one closure: the pipeline's threads are long-lived,
/// owned, and joined at shutdown, which Foundation's Thread cannot do.
public final class PipelineThread {
    private var thread = pthread_t()
    private final class Body {
        let name: String
        let run: () -> Void
        init(_ name: String, _ run: @escaping () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts `body` on a new thread named `name` (shown by top -H and in core dumps).
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(String(name.prefix(15)), body)).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            sampler_name_thread(body.name)
            body.run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create: \(String(cString: strerror(result)))")
    }

    /// Waits for the thread to end.
    public func join() { pthread_join(thread, nil) }
}
