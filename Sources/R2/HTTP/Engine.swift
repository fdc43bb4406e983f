import CCurl
import Glibc
import Synchronization

/// The asynchronous engine: one per process, started on first use, with a
/// small fixed set of r2-owned event-loop threads (`R2_ENGINE_THREADS`, at
/// most 4; by default one, two on machines with four or more CPUs). Each loop
/// drives a libcurl multi handle through `curl_multi_socket_action`, waiting
/// in epoll for the sockets curl names, so curl touches only the transfers
/// whose sockets are ready; other threads hand it work through a queue and an
/// eventfd. Timers (retry delays, rate-limiter waits, deadlines) are events in
/// the loop's min-heap, which bounds the wait: no
/// thread sleeps for a request. An operation stays on the loop it started on,
/// so its state is touched by that one thread only.
package final class Engine: Sendable {
    package static let shared = Engine(threads: Engine.threadsFromEnvironment())

    /// One loop keeps thousands of requests in flight and batches their events;
    /// on a small machine a second one costs more CPU per request than it gives
    /// (4 KiB PUTs at 16 in flight, 2 CPUs: 140 µs/op with one loop, 172 with two).
    package static let defaultThreads = sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 4 ? 2 : 1
    package static let maxThreads = 4

    package let loops: [EventLoop]
    private let next = Atomic<Int>(0)

    private init(threads: Int) {
        var loops: [EventLoop] = []
        for i in 0..<threads { loops.append(EventLoop(index: i)) }
        self.loops = loops
    }

    /// `R2_ENGINE_THREADS` (1 to 4), else `defaultThreads`.
    static func threadsFromEnvironment() -> Int {
        guard let p = getenv("R2_ENGINE_THREADS"), let n = Int(String(cString: p)) else { return defaultThreads }
        return min(max(n, 1), maxThreads)
    }

    /// The loop for a new operation (round robin).
    package func nextLoop() -> EventLoop {
        loops[next.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }
}

/// A transfer a loop runs on one of its easy handles.
protocol LoopTransfer: AnyObject {
    /// Configures the (reset) easy handle; the transfer then joins the multi handle.
    func attach(_ easy: UnsafeMutableRawPointer)
    /// curl finished it (the handle has left the multi handle). Returns whether
    /// the handle may be reused for another transfer.
    func ended(_ code: CURLcode) -> Bool
}

/// One engine thread: a multi handle, a work queue, timers and transfers.
package final class EventLoop: @unchecked Sendable {
    /// Work handed over by other threads (closures run on the loop's thread).
    private struct Work: @unchecked Sendable { let run: () -> Void }
    /// The queue, and whether the loop is (about to be) asleep in `epoll_wait`:
    /// only then does a submitter write the eventfd (a syscall here and a
    /// wake-up there); a running loop looks at the queue before it sleeps.
    private struct Inbox {
        var work: [Work] = []
        var asleep = false
    }
    private let inbox = Mutex(Inbox())
    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    /// Written by `submit` to wake the loop from `epoll_wait`.
    private let wakeFD: Int32
    private var thread = pthread_t()
    package let index: Int

    // Owned by the loop's thread.
    private var timers = TimerHeap()
    private var active: [UnsafeMutableRawPointer: any LoopTransfer] = [:]
    private var waiting: [any LoopTransfer] = []
    private var waitingHead = 0
    private var idle: [UnsafeMutableRawPointer] = []
    /// When curl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)` (its timer callback).
    private var curlDeadline: UInt64? = nil
    /// Transfers on easy handles at once; more wait (cheaply) for a slot. The
    /// multi handle keeps their connections open for the next ones.
    private let slots: Int

    fileprivate init(index: Int) {
        self.index = index
        _ = CurlTransport.globalInit
        multi = curl_multi_init()!
        var slots = 64
        if let p = getenv("R2_ENGINE_CONNECTIONS"), let n = Int(String(cString: p)), n > 0 { slots = min(n, 4096) }
        self.slots = slots
        _ = r2_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, slots)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wakeFD >= 0, "r2: cannot make an engine loop's epoll/eventfd (errno \(errno))")
        _ = r2_epoll_watch(epoll, EPOLL_CTL_ADD, wakeFD, EPOLLIN.rawValue)
        // Curl's callbacks run inside curl_multi_socket_action on this loop's thread.
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = r2_curl_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = r2_curl_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, me)
        _ = r2_curl_multi_socket_function(multi) { _, fd, what, loop, watched in
            Unmanaged<EventLoop>.fromOpaque(loop!).takeUnretainedValue().watch(fd, what, watched: watched != nil)
            return 0
        }
        _ = r2_curl_multi_timer_function(multi) { _, ms, loop in
            Unmanaged<EventLoop>.fromOpaque(loop!).takeUnretainedValue().curlDeadline =
                ms < 0 ? nil : monotonicNanos() &+ UInt64(ms) &* 1_000_000
            return 0
        }
        let box = Unmanaged.passRetained(self).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attr) }
        let rc = pthread_create(&thread, &attr, { p in
            let loop = Unmanaged<EventLoop>.fromOpaque(p!).takeRetainedValue()
            r2_thread_name("r2-engine-\(loop.index)")
            loop.run()
            return nil
        }, box)
        precondition(rc == 0, "r2: cannot start an engine thread (pthread_create: \(rc))")
    }

    /// Whether the calling thread is this loop's.
    package var isCurrent: Bool { pthread_equal(pthread_self(), thread) != 0 }

    /// Runs `work` on the loop's thread, soon. Callable from any thread.
    package func submit(_ work: @escaping () -> Void) {
        let w = Work(run: work)
        let wake = inbox.withLock { box -> Bool in
            box.work.append(w)
            defer { box.asleep = false }
            return box.asleep
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Runs `action` on the loop's thread after `nanos`; returns the timer's id. Loop thread only.
    @discardableResult
    package func schedule(afterNanos nanos: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        timers.add(at: monotonicNanos() &+ nanos, action)
    }

    /// Runs a pending timer's action now (false when it already ran or was cancelled). Loop thread only.
    @discardableResult
    package func fireNow(_ timer: UInt64) -> Bool {
        guard let action = timers.take(timer) else { return false }
        action()
        return true
    }

    /// Forgets a pending timer. Loop thread only.
    package func cancelTimer(_ timer: UInt64) { _ = timers.take(timer) }

    /// Starts `transfer` when a slot is free. Loop thread only.
    func admit(_ transfer: any LoopTransfer) {
        if active.count < slots { attach(transfer) } else { waiting.append(transfer) }
    }

    /// Takes `transfer` out (waiting or running) without ending it. Loop thread only.
    func detach(_ transfer: any LoopTransfer) {
        if let (easy, _) = active.first(where: { $0.value === transfer }) {
            active[easy] = nil
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)  // mid-transfer: its connection is not reusable
            admitWaiting()
        } else if let i = waiting[waitingHead...].firstIndex(where: { $0 === transfer }) {
            waiting.remove(at: i)
        }
    }

    private func attach(_ transfer: any LoopTransfer) {
        guard let easy = idle.popLast() ?? curl_easy_init() else {
            waiting.append(transfer)  // out of memory now; try again when a transfer ends
            return
        }
        curl_easy_reset(easy)
        transfer.attach(easy)
        active[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func admitWaiting() {
        while active.count < slots && waitingHead < waiting.count {
            let t = waiting[waitingHead]
            waitingHead += 1
            attach(t)
        }
        if waitingHead > 1024 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    /// Curl's socket callback: what to wait for on `fd` (CURL_POLL_IN 1, OUT 2, INOUT 3,
    /// REMOVE 4). `watched`: already in the epoll set (curl keeps that mark for us).
    private func watch(_ fd: Int32, _ what: Int32, watched: Bool) {
        if what == CURL_POLL_REMOVE {
            _ = r2_epoll_watch(epoll, EPOLL_CTL_DEL, fd, 0)  // may be closed already: nothing to undo
            return
        }
        var events: UInt32 = 0
        if what & CURL_POLL_IN != 0 { events |= EPOLLIN.rawValue }
        if what & CURL_POLL_OUT != 0 { events |= EPOLLOUT.rawValue }
        if watched {
            _ = r2_epoll_watch(epoll, EPOLL_CTL_MOD, fd, events)
        } else {
            var rc = r2_epoll_watch(epoll, EPOLL_CTL_ADD, fd, events)
            if rc != 0 && errno == EEXIST { rc = r2_epoll_watch(epoll, EPOLL_CTL_MOD, fd, events) }
            if rc == 0 { curl_multi_assign(multi, fd, UnsafeMutableRawPointer(bitPattern: 1)) }
        }
    }

    private func run() {
        var running: Int32 = 0
        var ready = [r2_epoll_ready](repeating: r2_epoll_ready(), count: Int(R2_EPOLL_BATCH))
        while true {
            let work = inbox.withLock { box -> [Work] in
                box.asleep = false
                let w = box.work
                box.work.removeAll(keepingCapacity: true)
                return w
            }
            for w in work { w.run() }
            timers.runDue(now: monotonicNanos())
            if let at = curlDeadline, at <= monotonicNanos() {
                curlDeadline = nil
                curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            }
            finishTransfers()
            admitWaiting()
            // Sleep until a socket is ready, the next timer (ours or curl's), or a wake-up.
            var timeoutMs: Int32 = 1000
            for at in [timers.nextDeadline, curlDeadline] {
                guard let at else { continue }
                let now = monotonicNanos()
                timeoutMs = min(timeoutMs, at <= now ? 0 : Int32(min((at - now + 999_999) / 1_000_000, 1000)))
            }
            // Asleep from here unless work arrived meanwhile (the flag is set under
            // the queue's lock, so a submitter either sees it or its work is seen).
            if inbox.withLock({ box -> Bool in box.asleep = box.work.isEmpty; return !box.asleep }) { timeoutMs = 0 }
            let n = ready.withUnsafeMutableBufferPointer { r2_epoll_wait(epoll, $0.baseAddress, timeoutMs) }
            for i in 0..<Int(max(n, 0)) {
                let fd = ready[i].fd, events = ready[i].events
                if fd == wakeFD {
                    var count: UInt64 = 0
                    _ = read(wakeFD, &count, 8)
                    continue
                }
                var select: Int32 = 0
                if events & EPOLLIN.rawValue != 0 { select |= CURL_CSELECT_IN }
                if events & EPOLLOUT.rawValue != 0 { select |= CURL_CSELECT_OUT }
                if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { select |= CURL_CSELECT_ERR }
                curl_multi_socket_action(multi, fd, select, &running)
            }
            finishTransfers()
        }
    }

    /// Hands the transfers curl has finished to their owners, keeping reusable handles.
    private func finishTransfers() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            let code = msg.pointee.data.result
            curl_multi_remove_handle(multi, easy)
            guard let transfer = active.removeValue(forKey: easy) else { continue }
            if transfer.ended(code) && idle.count < slots { idle.append(easy) } else { curl_easy_cleanup(easy) }
        }
    }
}

/// Timers of one loop: a binary min-heap of deadlines; cancelled or fired
/// early timers leave their heap entry behind (skipped when it comes up).
struct TimerHeap {
    private var heap: [(at: UInt64, id: UInt64)] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    mutating func add(at: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append((at, id))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[parent].at > heap[i].at else { break }
            heap.swapAt(parent, i)
            i = parent
        }
        return id
    }

    mutating func take(_ id: UInt64) -> (() -> Void)? { actions.removeValue(forKey: id) }

    var nextDeadline: UInt64? {
        mutating get {
            while let top = heap.first, actions[top.id] == nil { popTop() }
            return heap.first?.at
        }
    }

    mutating func runDue(now: UInt64) {
        while let top = heap.first, top.at <= now {
            popTop()
            if let action = actions.removeValue(forKey: top.id) { action() }
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].at < heap[m].at { m = l }
            if r < heap.count && heap[r].at < heap[m].at { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }
}
