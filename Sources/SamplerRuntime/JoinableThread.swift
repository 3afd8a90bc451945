import CLinux
import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// A joinable POSIX thread running one closure: the pipeline's threads are long-lived,
/// owned, and joined at shutdown, which Foundation's Thread cannot do.
public final class JoinableThread {
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
    /// Fails only when the system is out of threads or memory (EAGAIN).
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(Errno) {
        let context = Unmanaged.passRetained(Body(String(name.prefix(15)), body))
        do {
            try checkReturned {
                pthread_create(&thread, nil, { context in
                    let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                    sampler_name_thread(body.name)
                    // Process signals go to the thread that waits for them (the loop's
                    // signalfd), never to one of these: a SIGTERM taken here would kill
                    // the process before it writes what it holds.
                    var all = sigset_t()
                    sigfillset(&all)
                    pthread_sigmask(SIG_BLOCK, &all, nil)
                    body.run()
                    return nil
                }, context.toOpaque())
            }
        } catch {
            context.release()
            throw error
        }
    }

    /// Waits for the thread to end.
    public func join() { pthread_join(thread, nil) }
}
