import Synchronization

/// Circuit breaker settings. Defaults: open after 5 consecutive failures,
/// stay open 30 s, close again after 3 consecutive successful trials.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Consecutive failed requests that open the circuit; 0 disables the breaker.
    public var failureThreshold: UInt32 = 5
    /// Consecutive successful trials (half-open) that close it again.
    public var successThreshold: UInt32 = 3
    /// How long the circuit stays open before trials are allowed.
    public var resetTimeoutMs: UInt32 = 30_000

    public init() {}

    package func validate() throws(R2Error) {
        guard failureThreshold == 0 || (1...1000).contains(successThreshold) else {
            throw R2Error.config("circuit breaker success threshold must be 1 to 1000")
        }
        guard failureThreshold == 0 || resetTimeoutMs > 0 else {
            throw R2Error.config("circuit breaker reset timeout must be above 0 ms")
        }
    }
}

/// The state of a client's circuit breaker; the raw values are the C ABI's
/// `r2_breaker_state` and the `r2_circuit_breaker_state` gauge.
public enum CircuitState: Int32, Sendable {
    /// Requests flow; failures are counted.
    case closed = 0
    /// Requests fail fast with `.circuitOpen` until the reset timeout passes.
    case open = 1
    /// One trial request at a time goes through; others fail fast.
    case halfOpen = 2
}

/// One per client. It counts calls, not attempts: a call that succeeded
/// after a retry is a success, so a service failing now and then (which
/// retries absorb) does not open the circuit, while one that is down opens
/// it after a few calls. A *failure* is a call that failed, retries
/// included, with a 5xx or a network error. SlowDown is not one (the service
/// is up and asked us to slow down; the retry policy and rate limiter handle
/// it) and neither are 4xx answers, which count as successes because the
/// service answered. Cancelled and aborted calls do not count at all.
package final class CircuitBreaker: Sendable {
    private struct State {
        var state = CircuitState.closed
        var failures: UInt32 = 0
        var successes: UInt32 = 0
        var openedAt: UInt64 = 0
        var trialInFlight = false
    }

    package let policy: CircuitBreakerPolicy
    private let clock: MonotonicClock
    private let state = Mutex(State())

    package init(policy: CircuitBreakerPolicy, clock: MonotonicClock) {
        self.policy = policy
        self.clock = clock
    }

    package enum Outcome { case success, failure, neutral }

    package static func outcome(of error: R2Error?) -> Outcome {
        guard let error else { return .success }
        switch error.code {
        case .serverInternal, .serviceUnavailable, .connectionFailed, .timeout, .tls, .streamInterrupted, .incompleteBody:
            return .failure
        case .http:
            return error.httpStatus >= 500 ? .failure : .success
        case .slowDown, .aborted, .cancelled, .circuitOpen:
            return .neutral
        default:
            return .success
        }
    }

    /// The state now (an open circuit whose timeout has passed reads as half-open).
    package var current: CircuitState {
        let now = clock.now()
        return state.withLock { s in
            if s.state == .open && now - s.openedAt >= UInt64(policy.resetTimeoutMs) * 1_000_000 { return .halfOpen }
            return s.state
        }
    }

    /// Asks to start a call. Returns true when it is the half-open trial (the
    /// only call then allowed); throws `.circuitOpen` while open, or while
    /// half-open with the trial in flight. Every call that was let in must
    /// report its outcome with `record`.
    package func permit() throws(R2Error) -> Bool {
        guard policy.failureThreshold > 0 else { return false }
        let reset = UInt64(policy.resetTimeoutMs) * 1_000_000
        enum Decision { case pass, trial, open(waitMs: Int64), busy }
        let decision: Decision = state.withLock { s in
            if s.state == .closed { return .pass }
            if s.state == .open {
                let elapsed = clock.now() - s.openedAt
                if elapsed < reset { return .open(waitMs: Int64((reset - elapsed) / 1_000_000)) }
                s.state = .halfOpen
                s.successes = 0
            }
            guard s.state == .halfOpen else { return .pass }
            if s.trialInFlight { return .busy }
            s.trialInFlight = true
            return .trial
        }
        switch decision {
        case .pass: return false
        case .trial: return true
        case .open(let waitMs):
            throw R2Error(.circuitOpen, "the circuit breaker is open after \(policy.failureThreshold) consecutive failures; "
                          + "trial requests start in \(waitMs) ms", retryAfterMs: waitMs)
        case .busy:
            throw R2Error(.circuitOpen, "the circuit breaker is half-open and its trial request is still in flight")
        }
    }

    /// Asks to retry within a call that was let in: a trial always may; any
    /// other call only while the circuit is still closed (it may have opened
    /// since the call started).
    package func permitRetry(trial: Bool) throws(R2Error) {
        guard policy.failureThreshold > 0, !trial else { return }
        let state = current
        if state != .closed {
            throw R2Error(.circuitOpen, "the circuit breaker opened while this call was retrying (state \(state))")
        }
    }

    /// Reports a call's outcome. Returns the new state when it changed.
    @discardableResult
    package func record(_ outcome: Outcome, trial: Bool) -> CircuitState? {
        guard policy.failureThreshold > 0 else { return nil }
        let now = clock.now()
        return state.withLock { s in
            if trial { s.trialInFlight = false }
            let before = s.state
            switch (s.state, outcome) {
            case (_, .neutral):
                break
            case (.closed, .success):
                s.failures = 0
            case (.closed, .failure):
                s.failures += 1
                if s.failures >= policy.failureThreshold { s.state = .open; s.openedAt = now }
            case (.halfOpen, _) where !trial:
                break  // a call from before the circuit opened: only trials decide now
            case (.halfOpen, .success):
                s.successes += 1
                if s.successes >= policy.successThreshold { s.state = .closed; s.failures = 0 }
            case (.halfOpen, .failure):
                s.state = .open
                s.openedAt = now
                s.successes = 0
            case (.open, _):
                break  // a request that started before the circuit opened
            }
            return s.state == before ? nil : s.state
        }
    }
}
