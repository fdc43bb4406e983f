/// An asynchronous operation in flight on the engine: the loop it runs on,
/// its cancel switch, and the calls it is waiting on (to cancel or resume
/// them). Cancel and resume may come from any thread; everything else runs on
/// the loop's thread.
package final class AsyncOp: @unchecked Sendable {
    package let loop: EventLoop
    package let cancellation: Cancellation
    /// Calls in flight (several for a transfer's parts). Loop thread only.
    private var calls: [ObjectIdentifier: any Interruptible] = [:]

    package init(loop: EventLoop = Engine.shared.nextLoop(), cancellation: Cancellation = Cancellation()) {
        self.loop = loop
        self.cancellation = cancellation
    }

    /// Stops the operation soon: a transfer in flight is aborted and a wait
    /// ends at once; the operation completes with `.cancelled`.
    package func cancel() {
        cancellation.cancel()
        loop.submit { [self] in
            for call in Array(calls.values) { call.interrupt() }
        }
    }

    /// Continues transfers their sink or source paused.
    package func resume() {
        loop.submit { [self] in
            for call in Array(calls.values) { call.unpause() }
        }
    }

    /// Runs `work` on the operation's loop.
    package func submit(_ work: @escaping () -> Void) { loop.submit(work) }

    func enter(_ call: any Interruptible) { calls[ObjectIdentifier(call)] = call }
    func leave(_ call: any Interruptible) { calls[ObjectIdentifier(call)] = nil }
}

/// A call the operation can interrupt (cancel) or unpause. Loop thread only.
protocol Interruptible: AnyObject {
    func interrupt()
    func unpause()
}
