import Synchronization

/// Retries, resumable downloads, the circuit breaker, the rate limiter,
/// per-class timeouts, metrics, logs and traces: everything a request goes
/// through between an operation and the transport. `R2Client.perform` calls
/// `performResilient`, so every operation gets all of it.

/// Retry policy, circuit breaker, rate limit and the timeouts not in
/// `ClientConfig` (connect, small-request and large-transfer timeouts are there).
public struct ResilienceOptions: Sendable {
    public var retry = RetryPolicy()
    public var circuitBreaker = CircuitBreakerPolicy()
    /// Client-side limit in requests per second (adaptive, see `RateLimiter`); 0 means none.
    public var rateLimit = 0.0
    /// Per attempt of ListObjectsV2, ListParts and ListMultipartUploads; 0 means none.
    public var listTimeoutMs: UInt32 = 60_000
    /// Per attempt of UploadPart and UploadPartCopy; 0 means none beyond the stall check.
    public var partTimeoutMs: UInt32 = 0
    /// A request in which no byte moved for this long, or which moved under
    /// `stallMinBytesPerSecond` for this long, fails as a timeout (and a
    /// download resumes); the rate check works in whole seconds.
    public var stallTimeoutMs: UInt32 = 60_000
    /// The minimum rate of the stall check (bytes per second, both ways
    /// together); 0 keeps only the "no byte at all" check.
    public var stallMinBytesPerSecond: UInt32 = 1024

    public init() {}

    package func validate() throws(R2Error) {
        try retry.validate()
        try circuitBreaker.validate()
        // Below 0.001 (one request per 1000 s) the spacing no longer fits the limiter's clock arithmetic.
        guard rateLimit == 0 || (rateLimit >= 0.001 && rateLimit <= 1_000_000) else {
            throw R2Error.config("rate limit must be 0 (off) or 0.001 to 1000000 requests per second")
        }
        guard stallTimeoutMs >= 1000 else { throw R2Error.config("stall timeout must be at least 1000 ms") }
    }
}

/// A client's resilience and observability state, shared by its threads.
package final class Resilience: Sendable {
    package let options: ResilienceOptions
    package let observability: ObservabilityOptions
    package let clock: MonotonicClock
    package let breaker: CircuitBreaker
    package let limiter: RateLimiter?
    package let metrics = MetricsStore()
    /// Trace and span ids: a generator seeded from the system once, so a
    /// traceparent costs no system call.
    private let ids = Mutex(SeededRandom(seed: UInt64.random(in: .min ... .max)))

    package func newTraceparent() -> String {
        let parent = observability.parentTraceparent?()
        return ids.withLock { Traceparent.make(parent: parent, rng: &$0) }
    }

    package init(options: ResilienceOptions, observability: ObservabilityOptions, clock: MonotonicClock) {
        self.options = options
        self.observability = observability
        self.clock = clock
        breaker = CircuitBreaker(policy: options.circuitBreaker, clock: clock)
        limiter = options.rateLimit > 0 ? RateLimiter(requestsPerSecond: options.rateLimit, clock: clock) : nil
    }

    @inline(__always) func logs(_ level: LogLevel) -> Bool {
        observability.logger != nil && level <= observability.logLevel
    }

    func log(_ level: LogLevel, _ make: () -> LogRecord) {
        guard logs(level), let logger = observability.logger else { return }
        var record = make()
        record.level = level
        logger(record)
    }
}

extension R2Client {
    /// The circuit breaker's state now.
    public var circuitState: CircuitState { resilience.breaker.current }

    /// Every metric of this client (see `MetricsStore` for names and labels).
    public func metrics() -> [MetricFamily] {
        resilience.metrics.families(breakerState: resilience.breaker.current, signingKeyCacheHits: signer.signingKeyCacheHits)
    }

    /// The metrics in the Prometheus text exposition format.
    public func metricsPrometheus() -> String { MetricsStore.prometheus(metrics()) }

    /// The metrics as one JSON object: `{"metrics":[{"name","type","help","samples":[{"name","labels","value"}]}]}`.
    public func metricsJSON() -> String { MetricsStore.json(metrics()) }

    /// The hook for the multipart orchestrator: one part finished (uploaded, or failed for good).
    package func recordMultipartPart(bucket: String, succeeded: Bool) {
        resilience.metrics.multipartPart(bucket: bucket, succeeded: succeeded)
    }

    /// Sends `call` until it succeeds, fails for good, or runs out of attempts
    /// or time. Between attempts: the retry policy's delay, the circuit
    /// breaker and the rate limiter. A GET of an object that is cut off
    /// mid-body resumes with a Range request from the last byte delivered,
    /// pinned with If-Match to the first response's ETag, so `sink` sees one
    /// continuous body and the returned head is the first response's. Any
    /// other call that is retried after part of a body reached `sink` starts
    /// again from `sink`'s value before the call (sinks are values; one with
    /// effects outside itself belongs to a resumable GET).
    package func performResilient<S: ResponseSink>(_ call: Call, body: RequestBody, sink: inout S) throws(R2Error) -> ResponseHead {
        // The blocking driver of the retry state machine: waits sleep, attempts send, on this thread.
        let machine = RetryMachine(client: self, call: call, body: body, sink: sink)
        defer { sink = machine.sink }
        var step = machine.advance()
        while true {
            switch step {
            case .wait(let nanos):
                if nanos > 0 { resilience.clock.sleep(nanos) }
                step = machine.advance()
            case .send(let request):
                var routing = machine.attemptSink()
                var failure: R2Error? = nil
                do { try transport.send(request, body: machine.sendBody, sink: &routing) } catch { failure = error }
                step = machine.attemptEnded(routing, failure)
            case .finish(let result):
                return try result.get()
            }
        }
    }

    /// What was signed, for an auth failure: R2 answers some unsupported
    /// encodings (aws-chunked trailers, streaming payloads) with misleading
    /// SignatureDoesNotMatch/Unauthorized errors. Method, path, the canonical
    /// request's header names and the payload-hash mode; never a secret, a
    /// signature or a header value.
    static func authDiagnostics(_ request: HTTPRequest, region: String) -> String {
        let authorization = request.header("authorization") ?? ""
        var signed = ""
        if let r = authorization.firstRange(of: "SignedHeaders=") {
            signed = String(authorization[r.upperBound...].prefix { $0 != "," && $0 != " " })
        }
        let hash = request.header("x-amz-content-sha256") ?? "(none)"
        let mode = hash == SigV4Signer.unsignedPayload || hash.hasPrefix("STREAMING-") || hash == "(none)" ? hash : "signed SHA-256 of the body"
        return "auth failure diagnostics: \(request.method) \(request.path), region \"\(region)\", signed headers [\(signed)], "
            + "payload hash \(mode), sent headers [\(request.headers.map { asciiLowercase($0.name) }.joined(separator: ";"))]"
    }

    /// The per-attempt timeout: by operation class, and never past the deadline.
    func attemptTimeoutMs(_ call: Call, deadline: UInt64?) -> UInt32 {
        let byClass: UInt32
        switch call.operation.timeoutClass {
        case .listing: byClass = resilience.options.listTimeoutMs
        case .part: byClass = resilience.options.partTimeoutMs
        case .byBody: byClass = call.isLargeTransfer ? config.transferTimeoutMs : config.requestTimeoutMs
        }
        guard let deadline else { return byClass }
        let now = resilience.clock.now()
        let left = UInt32(clamping: max((deadline > now ? deadline - now : 0) / 1_000_000, 1))
        return byClass == 0 ? left : min(byClass, left)
    }
}

/// Where an interrupted download continues.
struct Resume {
    let etag: String
    /// First and last byte (inclusive) of what the first response carried.
    let start: UInt64
    let end: UInt64
    /// Bytes handed to the caller so far.
    var delivered: UInt64 = 0
    var offset: UInt64 { start + delivered }

    init?(head: ResponseHead) {
        guard let etag = head.header("etag"), !etag.isEmpty else { return nil }
        if head.status == 206 {
            guard let range = head.header("content-range").flatMap(Self.contentRange) else { return nil }
            (start, end) = range
        } else {
            guard let length = head.header("content-length").flatMap({ UInt64($0.trimmingSpaces()) }), length > 0 else { return nil }
            (start, end) = (0, length - 1)
        }
        self.etag = etag
    }

    /// The call's headers with its range and conditions replaced: the rest of
    /// the range, and If-Match on the ETag so a changed object is an error
    /// (412) instead of a mix of two versions.
    func headers(replacing original: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let dropped: Set<String> = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]
        return original.filter { !dropped.contains(asciiLowercase($0.name)) }
            + [("Range", "bytes=\(offset)-\(end)"), ("If-Match", etag)]
    }

    /// `bytes first-last/total` → (first, last).
    static func contentRange(_ value: String) -> (UInt64, UInt64)? {
        let v = value.trimmingSpaces()
        guard v.hasPrefix("bytes ") else { return nil }
        let spec = v.dropFirst(6).split(separator: "/").first ?? ""
        let parts = spec.split(separator: "-")
        guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else { return nil }
        return (a, b)
    }
}

/// Counts what the transport read from a streamed body, and whether the
/// caller's source itself failed (ended early or threw), which is the
/// caller's error, not the network's, and never retried.
final class BodyTracker {
    var consumed: UInt64 = 0
    var sourceFailed = false

    func wrap(_ body: RequestBody) -> RequestBody {
        guard case .stream(let length, let read) = body else { return body }
        return .stream(length: length) { [self] (buffer) throws(R2Error) -> Int in
            let n: Int
            do throws(R2Error) { n = try read(buffer) } catch { sourceFailed = true; throw error }
            if n == RequestBody.readPaused { return n }
            // Transports ask only while bytes remain, so 0 means the source ended early.
            if n <= 0 { sourceFailed = true }
            consumed += UInt64(max(n, 0))
            return n
        }
    }
}

/// One attempt's response: a 2xx body goes to the caller's sink, an error
/// body is kept for mapping. When resuming, the head must be a 206 from the
/// expected byte and is not passed on (the caller has the first one).
package struct AttemptSink<Inner: ResponseSink>: ResponseSink {
    var inner: Inner
    let resumeAt: UInt64?
    var head = ResponseHead(status: 0, headers: [])
    var errorBody: [UInt8] = []
    var forwardedHead = false
    var forwardedBytes: UInt64 = 0
    var receivedBytes: UInt64 = 0
    var resumeProblem: String?
    private var forward = false

    init(inner: Inner, resumeAt: UInt64?) {
        self.inner = inner
        self.resumeAt = resumeAt
    }

    package mutating func head(_ head: ResponseHead) {
        self.head = head
        forward = false
        guard (200..<300).contains(head.status) else { return }
        guard let resumeAt else {
            forward = true
            forwardedHead = true
            inner.head(head)
            return
        }
        let start = head.status == 206 ? head.header("content-range").flatMap(Resume.contentRange)?.0 : nil
        if start == resumeAt {
            forward = true
        } else {
            resumeProblem = "resuming a download at byte \(resumeAt), the server answered HTTP \(head.status)"
                + (head.header("content-range").map { " with Content-Range \($0)" } ?? " without the range")
        }
    }

    package mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool { offer(chunk) == .accepted }

    package mutating func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict {
        if forward {
            let verdict = inner.offer(chunk)
            guard verdict == .accepted else { return verdict }  // a paused chunk comes again
            receivedBytes += UInt64(chunk.count)
            forwardedBytes += UInt64(chunk.count)
            return .accepted
        }
        receivedBytes += UInt64(chunk.count)
        if resumeProblem != nil { return .aborted }
        if errorBody.count < 1024 * 1024 { errorBody.append(contentsOf: chunk) }
        return .accepted
    }
}

extension R2Error {
    /// The same error with another message.
    func withMessage(_ message: String) -> R2Error {
        var e = R2Error(code, message, httpStatus: httpStatus, s3Code: s3Code, requestID: requestID, retryAfterMs: retryAfterMs)
        e.afterLostAnswer = afterLostAnswer
        return e
    }
}
