import R2
import Synchronization

/// A virtual clock: `sleep` advances time at once and is recorded.
package final class ManualClock: Sendable {
    private let state = Mutex<(now: UInt64, sleeps: [UInt64])>((1_000_000_000, []))

    package init() {}

    package var clock: MonotonicClock {
        MonotonicClock(now: { [self] in state.withLock { $0.now } },
                       sleep: { [self] ns in state.withLock { $0.now += ns; $0.sleeps.append(ns) } })
    }

    package func advance(ms: UInt64) { state.withLock { $0.now += ms * 1_000_000 } }
    /// Every sleep so far, in milliseconds.
    package var sleepsMs: [UInt64] { state.withLock { $0.sleeps.map { $0 / 1_000_000 } } }
    package var nowNanos: UInt64 { state.withLock { $0.now } }
}
