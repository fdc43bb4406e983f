import CCurl
import Glibc
import Synchronization

/// The asynchronous engine: one per process, started on first use, with a
/// small fixed set of r2-owned event-loop threads (`R2_ENGINE_THREADS`,
/// default 2, at most 4). Each loop drives a libcurl multi handle with
/// `curl_multi_poll`; other threads hand it work through a queue and
/// `curl_multi_wakeup`. Timers (retry delays, rate-limiter waits, deadlines)
/// are events in the loop's min-heap, which bounds the poll's timeout: no
/// thread sleeps for a request. An operation stays on the loop it started on,
/// so its state is touched by that one thread only.
package final class Engine: Sendable {
    package static let shared = Engine(threads: Engine.threadsFromEnvironment())

    package static let defaultThreads = 2
    package static let maxThreads = 4

    package let loops: [EventLoop]
    private let next = Atomic<Int>(0)

    private init(threads: Int) {
        var loops: [EventLoop] = []
        for i in 0..<threads { loops.append(EventLoop(index: i)) }
        self.loops = loops
    }

    /// `R2_ENGINE_THREADS` (1 to 4), else 2.
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
    private let inbox = Mutex<[Work]>([])
    private let multi: UnsafeMutableRawPointer
    private var thread = pthread_t()
    package let index: Int

    // Owned by the loop's thread.
    private var timers = TimerHeap()
    private var active: [UnsafeMutableRawPointer: any LoopTransfer] = [:]
    private var waiting: [any LoopTransfer] = []
    private var waitingHead = 0
    private var idle: [UnsafeMutableRawPointer] = []
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
        inbox.withLock { $0.append(w) }
        curl_multi_wakeup(multi)
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

    private func run() {
        var running: Int32 = 0
        while true {
            let work = inbox.withLock { q -> [Work] in
                let w = q
                q.removeAll(keepingCapacity: true)
                return w
            }
            for w in work { w.run() }
            timers.runDue(now: monotonicNanos())
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                let code = msg.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                guard let transfer = active.removeValue(forKey: easy) else { continue }
                if transfer.ended(code) && idle.count < slots { idle.append(easy) } else { curl_easy_cleanup(easy) }
            }
            admitWaiting()
            // Sleep until curl's next event, the next timer, or a wake-up.
            var timeoutMs: Int32 = 1000
            if let at = timers.nextDeadline {
                let now = monotonicNanos()
                timeoutMs = at <= now ? 0 : Int32(min((at - now + 999_999) / 1_000_000, 1000))
            }
            if inbox.withLock({ !$0.isEmpty }) { timeoutMs = 0 }
            curl_multi_poll(multi, nil, 0, timeoutMs, nil)
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
