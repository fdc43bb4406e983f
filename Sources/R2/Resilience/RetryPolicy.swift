import Glibc
import Synchronization

/// How many times, and how long apart, one class of failure is retried.
public struct RetryRule: Sendable, Equatable {
    /// Attempts in all, the first included; 1 means "never retry".
    public var maxAttempts: UInt32
    /// The first retry's delay; each later one doubles it (unless `fixed`).
    public var baseDelayMs: UInt32
    /// No delay is longer than this.
    public var maxDelayMs: UInt32
    /// Every retry waits `baseDelayMs` (no doubling, no jitter).
    public var fixed: Bool

    public init(maxAttempts: UInt32, baseDelayMs: UInt32, maxDelayMs: UInt32, fixed: Bool = false) {
        self.maxAttempts = maxAttempts
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
        self.fixed = fixed
    }
}

/// Which rule a failure falls under. Everything else (auth, NotFound,
/// PreconditionFailed, validation, other 4xx, TLS, aborts) is never retried:
/// trying again cannot change the answer, or would hide a caller's mistake.
public enum RetryClass: String, Sendable, CaseIterable {
    /// 503 SlowDown and HTTP 429 (TooManyRequests, TooMuchConcurrency).
    case slowDown
    /// InternalError (500) and ServiceUnavailable (503).
    case server
    /// Timeouts and connection failures (nothing, or not all, was received).
    case network
    /// A response body cut off mid-way (reset, short read, IncompleteBody).
    case interrupted

    /// The class of `error`, or nil when it must not be retried.
    public init?(_ error: R2Error) {
        switch error.code {
        case .slowDown: self = .slowDown
        case .serverInternal, .serviceUnavailable: self = .server
        case .timeout, .connectionFailed: self = .network
        case .streamInterrupted, .incompleteBody: self = .interrupted
        default: return nil
        }
    }
}

/// The retry policy, per failure class. The defaults are the specification's
/// table: R2 asks clients to slow down together on SlowDown/429 (so that class
/// gets the most patience and starts from the server's Retry-After), 5xx
/// errors are usually short-lived overload, and network failures are retried
/// sooner but capped lower because the next connection often just works.
public struct RetryPolicy: Sendable, Equatable {
    /// SlowDown and 429: 5 attempts from Retry-After (or 1 s), doubling, capped at 30 s.
    public var slowDown = RetryRule(maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000)
    /// InternalError, ServiceUnavailable: 3 attempts from 1 s, capped at 30 s.
    public var server = RetryRule(maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000)
    /// Timeouts and connection failures: 3 attempts from 500 ms, capped at 10 s.
    public var network = RetryRule(maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 10_000)
    /// Interrupted streams: 2 attempts, 500 ms apart. A download that resumes
    /// and delivers new bytes (at the stall check's minimum rate or better) starts a fresh budget.
    public var interrupted = RetryRule(maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 500, fixed: true)
    /// Each exponential delay is drawn from [(1 - jitter) * d, d], so clients
    /// that failed together do not retry together. 0 disables jitter.
    public var jitter = 0.5
    /// The whole call, every attempt and wait included, ends by this many
    /// milliseconds after it started; 0 means no deadline (large transfers
    /// have no natural bound, so the default is off: the attempt budget and
    /// per-class timeouts bound a call instead).
    public var deadlineMs: UInt32 = 0

    public init() {}

    /// One attempt only, for every class.
    public static var none: RetryPolicy {
        var p = RetryPolicy()
        for c in RetryClass.allCases { p[c].maxAttempts = 1 }
        return p
    }

    public subscript(_ c: RetryClass) -> RetryRule {
        get {
            switch c {
            case .slowDown: return slowDown
            case .server: return server
            case .network: return network
            case .interrupted: return interrupted
            }
        }
        set {
            switch c {
            case .slowDown: slowDown = newValue
            case .server: server = newValue
            case .network: network = newValue
            case .interrupted: interrupted = newValue
            }
        }
    }

    package func validate() throws(R2Error) {
        for c in RetryClass.allCases {
            let r = self[c]
            guard (1...100).contains(r.maxAttempts) else {
                throw R2Error.config("retry \(c.rawValue): max attempts must be 1 to 100, not \(r.maxAttempts)")
            }
            guard r.baseDelayMs <= r.maxDelayMs || r.fixed else {
                throw R2Error.config("retry \(c.rawValue): base delay \(r.baseDelayMs) ms is above the cap \(r.maxDelayMs) ms")
            }
        }
        guard jitter >= 0, jitter <= 1 else { throw R2Error.config("retry jitter must be between 0 and 1, not \(jitter)") }
    }

    /// The wait before retry number `retry` (1 for the first retry) of a
    /// failure of class `c`. `random` is uniform in [0, 1). The server's
    /// Retry-After is both the base (SlowDown) and a floor: retrying sooner
    /// than asked would only earn another SlowDown. The cap wins over both.
    package func delayMs(_ c: RetryClass, retry: Int, retryAfterMs: Int64?, random: Double) -> Int64 {
        let rule = self[c]
        let cap = Int64(rule.maxDelayMs)
        if rule.fixed { return Int64(rule.baseDelayMs) }
        var base = Int64(rule.baseDelayMs)
        if c == .slowDown, let ra = retryAfterMs, ra > 0 { base = ra }
        let exponent = min(retry - 1, 30)
        let d = min(cap, base.multipliedReportingOverflow(by: Int64(1) << exponent).overflow ? cap : base << exponent)
        var delay = Int64((Double(d) * (1 - jitter * random)).rounded())
        if let ra = retryAfterMs, ra > 0 {
            // A Retry-After at or above the cap would make every client wait exactly
            // the cap and come back together: draw from below the cap instead.
            delay = ra >= cap ? Int64((Double(cap) * (1 - jitter * random)).rounded()) : max(delay, ra)
        }
        return min(max(delay, 0), cap)
    }
}

/// Monotonic time and sleeping, injectable so tests of retries, the breaker
/// and the rate limiter run on virtual time.
package struct MonotonicClock: Sendable {
    /// Nanoseconds from an arbitrary origin.
    package var now: @Sendable () -> UInt64
    /// Blocks the calling thread for the given nanoseconds.
    package var sleep: @Sendable (UInt64) -> Void

    package init(now: @escaping @Sendable () -> UInt64, sleep: @escaping @Sendable (UInt64) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    package static let system = MonotonicClock(now: { monotonicNanos() }, sleep: { ns in
        var want = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        var left = timespec()
        while nanosleep(&want, &left) != 0 && errno == EINTR { want = left }
    })
}

/// SplitMix64: small, fast and seedable (the fault transport and jitter use it).
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    package mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
