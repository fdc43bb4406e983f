import Synchronization

/// An optional client-side limit on requests per second, shared by every
/// thread using the client. Requests are spaced evenly (no bursts), so a
/// client never hits R2 faster than asked. It adapts like TCP congestion
/// control (AIMD): each SlowDown halves the rate (down to 1/64 of the
/// configured one) and each success gives back a tenth of it, so the client
/// backs off together with the server and recovers once the pressure is gone.
package final class RateLimiter: Sendable {
    private struct State {
        /// When the next request may start (nanoseconds on the clock).
        var nextAt: UInt64 = 0
        /// Share of the configured rate in use, 1/64 ... 1.
        var factor = 1.0
    }

    package let requestsPerSecond: Double
    private let clock: MonotonicClock
    private let state = Mutex(State())
    private static let minFactor = 1.0 / 64
    private static let recoveryStep = 0.1

    package init(requestsPerSecond: Double, clock: MonotonicClock) {
        self.requestsPerSecond = requestsPerSecond
        self.clock = clock
    }

    /// The rate in effect now.
    package var currentRate: Double { requestsPerSecond * state.withLock { $0.factor } }

    /// Waits until this request's turn.
    package func acquire() {
        let wait = reserve()
        if wait > 0 { clock.sleep(wait) }
    }

    /// Takes the next turn and returns how long to wait for it (nanoseconds; 0: now).
    package func reserve() -> UInt64 {
        let now = clock.now()
        let wait: UInt64 = state.withLock { s in
            // Clamped: a tiny rate must not overflow the conversion (at most one request a day).
            let interval = UInt64(min(1e9 / (requestsPerSecond * s.factor), 86_400e9))
            let start = max(s.nextAt, now)
            s.nextAt = start + interval
            return start - now
        }
        return wait
    }

    package func slowDown() { state.withLock { $0.factor = max($0.factor / 2, Self.minFactor) } }

    package func success() {
        state.withLock { s in if s.factor < 1 { s.factor = min(1, s.factor + Self.recoveryStep) } }
    }
}
