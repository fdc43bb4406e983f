import Glibc

/// A mutex with a condition variable, for the transfer workers. (Swift's
/// `Mutex` has no condition variable; Dispatch would pull Foundation's stack.)
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func locked<T>(_ body: () throws(R2Error) -> T) throws(R2Error) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Waits (the mutex held) until signalled or `milliseconds` pass.
    func wait(milliseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = Int(ts.tv_nsec) + milliseconds * 1_000_000
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        pthread_cond_timedwait(cond, mutex, &ts)
    }

    func broadcast() { pthread_cond_broadcast(cond) }
}

/// Threads started for one transfer; `join` waits for them all.
struct ThreadGroup {
    private var threads: [pthread_t] = []

    /// Starts `body(index)` on a new thread with a 512 KiB stack (they only run
    /// request loops). Returns false when the system refuses a new thread.
    @discardableResult
    mutating func start(_ index: Int, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
        final class Box: @unchecked Sendable {
            let body: @Sendable (Int) -> Void
            let index: Int
            init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
        }
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 512 * 1024)
        defer { pthread_attr_destroy(&attr) }
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body, index)).toOpaque()
        let rc = pthread_create(&t, &attr, { p in
            let b = Unmanaged<Box>.fromOpaque(p!).takeRetainedValue()
            b.body(b.index)
            return nil
        }, box)
        guard rc == 0 else { Unmanaged<Box>.fromOpaque(box).release(); return false }
        threads.append(t)
        return true
    }

    var count: Int { threads.count }

    mutating func join() {
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }
}

/// Starts `body` on a detached thread (for the async API). Returns false when
/// the system refuses a new thread.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    defer { pthread_attr_destroy(&attr) }
    var t = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&t, &attr, { p in
        Unmanaged<Box>.fromOpaque(p!).takeRetainedValue().body()
        return nil
    }, box)
    if rc != 0 { Unmanaged<Box>.fromOpaque(box).release() }
    return rc == 0
}
