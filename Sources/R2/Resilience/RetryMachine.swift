/// One call's way through the resilience layer, as a small state machine:
///
///     admit ─▶ attempt ─▶ (limiter wait) ─▶ send ─▶ outcome ─┬─▶ finish (success or failure)
///                ▲                                          ├─▶ retry after a delay ─┐
///                └──────────────────────────────────────────┴─▶ resume a download ───┘
///
/// It never blocks and never sends: it tells its driver what to do next
/// (`Step`), and the driver reports back. Two drivers run it: the blocking
/// one (`R2Client.performResilient`: sleeps and sends on the calling thread)
/// and the engine's (`EngineCall`: timer events and asynchronous transfers on
/// an engine loop), so both modes have the same retries, Retry-After,
/// resumption, breaker, rate limit, metrics, logs and traces.
package final class RetryMachine<S: ResponseSink> {
    /// What the driver does next.
    package enum Step {
        /// Wait this long, then call `advance()`.
        case wait(nanos: UInt64)
        /// Send this request with `sendBody` into `attemptSink()`, then call `attemptEnded`.
        case send(HTTPRequest)
        /// The call is over: the head to return (the first response's, for a resumed download), or the error.
        case finish(Result<ResponseHead, R2Error>)
    }

    /// Where the call is.
    private enum State {
        case admitting
        /// Starting attempt `attempt + 1`.
        case attempting
        /// The rate limiter's wait before the attempt is over.
        case limited
        case sending
        /// The retry delay is over.
        case backingOff
        case finished
    }

    private let client: R2Client
    private let call: R2Client.Call
    private let r: Resilience
    private let policy: RetryPolicy
    private let start: UInt64
    private let deadline: UInt64?
    private let traceparent: String
    private let tracker = BodyTracker()
    /// The body as the transport reads it (counted, so a failed stream is known).
    package let sendBody: RequestBody
    /// The caller's sink: whole between attempts, inside the attempt sink during one.
    package private(set) var sink: S
    private let pristine: S
    private let resumable: Bool
    private var state = State.admitting
    private var resume: Resume? = nil
    private var firstHead: ResponseHead? = nil
    private var attempt = 0
    /// Attempts before this one do not count against the budget (a resume made progress).
    private var budgetStart = 0
    private var sent: UInt64 = 0, received: UInt64 = 0
    private var lastHead = ResponseHead(status: 0, headers: [])
    private var outcome = CircuitBreaker.Outcome.neutral
    private var trial = false
    private var request: HTTPRequest? = nil
    private var attemptStart: UInt64 = 0
    /// An attempt failed on the network once it had started: the server may
    /// have done the work and only its answer was lost.
    private var answerLost = false

    package init(client: R2Client, call: R2Client.Call, body: RequestBody, sink: S) {
        self.client = client
        self.call = call
        r = client.resilience
        policy = r.options.retry
        start = r.clock.now()
        deadline = policy.deadlineMs > 0 ? start + UInt64(policy.deadlineMs) * 1_000_000 : nil
        traceparent = r.observability.propagateTraceparent ? r.newTraceparent() : ""
        sendBody = tracker.wrap(body)
        self.sink = sink
        pristine = sink
        resumable = call.method == "GET" && call.key != nil
    }

    /// The sink of the attempt about to be sent (holds the caller's sink until `attemptEnded`).
    package func attemptSink() -> AttemptSink<S> {
        AttemptSink(inner: sink, resumeAt: resume.map { $0.offset })
    }

    /// Moves the call on after admission or a wait.
    package func advance() -> Step {
        switch state {
        case .admitting:
            // The breaker lets the call in (or fails it fast) and hears its outcome once, at the end.
            do { trial = try r.breaker.permit() } catch {
                r.metrics.error(operation: call.operation.name, type: error.code.name)
                return fail(error)
            }
            state = .attempting
            return beginAttempt()
        case .backingOff, .attempting:
            return beginAttempt()
        case .limited:
            if let c = call.cancellation, c.isCancelled { return fail(R2Error(.cancelled, "\(call.operation) cancelled")) }
            return send()
        case .sending, .finished:
            preconditionFailure("RetryMachine.advance() in state \(state)")
        }
    }

    private func beginAttempt() -> Step {
        if let c = call.cancellation, c.isCancelled { return fail(R2Error(.cancelled, "\(call.operation) cancelled")) }
        attempt += 1
        if attempt > 1 {
            do { try r.breaker.permitRetry(trial: trial) } catch {
                r.metrics.error(operation: call.operation.name, type: error.code.name)
                return fail(error)
            }
        }
        if let wait = r.limiter?.reserve(), wait > 0 {
            state = .limited
            return .wait(nanos: wait)
        }
        return send()
    }

    private func send() -> Step {
        var attemptCall = call
        if let resume { attemptCall.headers = resume.headers(replacing: call.headers) }
        var request = client.request(for: attemptCall)
        request.timeoutMs = client.attemptTimeoutMs(call, deadline: deadline)
        if !traceparent.isEmpty { request.headers.append(("traceparent", traceparent)) }
        if r.logs(.trace) {
            record(.trace, "\(request.method) \(request.path)\(request.query.map { "?" + Redact.query($0) } ?? "") "
                   + "[\(Redact.headers(request.headers))]", attempt: attempt)
        }
        self.request = request
        attemptStart = r.clock.now()
        state = .sending
        return .send(request)
    }

    /// The attempt is over: the transport returned (nil) or failed (`transportError`); `routing` is its sink.
    package func attemptEnded(_ routing: AttemptSink<S>, _ transportError: R2Error?) -> Step {
        precondition(state == .sending, "RetryMachine.attemptEnded() in state \(state)")
        let request = self.request!
        self.request = nil
        var failure = transportError
        sink = routing.inner
        let head = routing.head
        if let problem = routing.resumeProblem {
            failure = R2Error(.malformedResponse, problem, httpStatus: head.status, requestID: head.requestID)
        } else if failure == nil && !(200..<300).contains(head.status) {
            var e = R2Client.error(from: head, body: routing.errorBody, isHead: call.method == "HEAD")
            if let resume, e.code == .preconditionFailed {
                e = e.withMessage("the object changed during the download: If-Match \(resume.etag) failed when resuming at byte \(resume.offset)")
            }
            failure = e
        }
        if let f = failure { failure = f.withMessage(Redact.scrub(f.message, Redact.secrets(of: request))) }
        if let f = transportError, head.status == 0, RetryClass(f) == .network { answerLost = true }
        let seconds = Double(r.clock.now() - attemptStart) / 1e9
        let bodySent = head.status > 0 ? sendBody.length : tracker.consumed
        sent += bodySent
        received += routing.receivedBytes
        lastHead = head
        r.metrics.request(operation: call.operation.name, bucket: call.bucket, status: head.status > 0 ? String(head.status) : "none",
                          seconds: seconds, sent: bodySent, received: routing.receivedBytes)
        // Any answer but SlowDown shows the server is not throttling us.
        if failure?.code == .slowDown { r.limiter?.slowDown() } else if head.status > 0 { r.limiter?.success() }
        if r.logs(.trace) && head.status > 0 {
            record(.trace, "HTTP \(head.status) [\(Redact.headers(head.headers))]", attempt: attempt, status: head.status,
                   requestID: head.requestID, ms: seconds * 1000)
        }

        guard let error = failure else {
            record(.debug, "\(call.operation) attempt \(attempt): HTTP \(head.status)", attempt: attempt, status: head.status,
                   requestID: head.requestID, ms: seconds * 1000)
            record(.info, "\(call.operation) done: HTTP \(head.status) after \(attempt) attempt\(attempt == 1 ? "" : "s")",
                   attempt: attempt, status: head.status, requestID: head.requestID, ms: elapsedMs())
            return succeed(firstHead ?? head)
        }
        if error.code != .notModified { r.metrics.error(operation: call.operation.name, type: error.code.name) }
        if error.code == .signatureMismatch || error.code == .unauthorized, r.logs(.debug) {
            record(.debug, R2Client.authDiagnostics(request, region: client.config.region), attempt: attempt, status: error.httpStatus,
                   requestID: error.requestID)
        }
        record(.debug, "\(call.operation) attempt \(attempt) failed: \(error)", attempt: attempt, status: error.httpStatus,
               requestID: error.requestID, ms: seconds * 1000, error: error)
        return retryOrFail(error, routing: routing, seconds: seconds)
    }

    /// The outcome was a failure: retry it after a delay (resuming a download
    /// where it stopped), or fail the call.
    private func retryOrFail(_ error: R2Error, routing: AttemptSink<S>, seconds: Double) -> Step {
        guard let retryClass = RetryClass(error), call.retries, !tracker.sourceFailed else { return fail(error) }
        let mustRewind = tracker.consumed > 0
        if mustRewind && call.rewindBody == nil {
            return fail(error.withMessage(error.message + " (not retried: \(tracker.consumed) bytes of the request body were read "
                                          + "from a one-shot stream, which cannot be read again; upload from a file, a seekable stream or bytes to get retries)"))
        }
        if routing.forwardedHead || resume != nil {
            if resumable {
                if resume == nil {
                    guard let first = Resume(head: routing.head) else {
                        return fail(error.withMessage(error.message + " (not resumed: the response had no ETag or length)"))
                    }
                    resume = first
                    firstHead = routing.head
                }
                resume!.delivered += routing.forwardedBytes
                // Progress at the stall check's minimum rate or better earns a fresh
                // budget; a server trickling bytes (below it) must not keep a call alive forever.
                let minRate = Double(r.options.stallMinBytesPerSecond)
                if routing.forwardedBytes > 0 && Double(routing.forwardedBytes) >= minRate * seconds { budgetStart = attempt - 1 }
                if resume!.offset > resume!.end {  // everything arrived before the connection failed
                    return succeed(firstHead!)
                }
            } else {
                sink = pristine
            }
        }
        let rule = policy[retryClass]
        let made = attempt - budgetStart
        guard made < Int(rule.maxAttempts) else { return fail(error) }
        let delayMs = policy.delayMs(retryClass, retry: made, retryAfterMs: error.retryAfterMs, random: Double.random(in: 0..<1))
        if let deadline, r.clock.now() + UInt64(delayMs) * 1_000_000 >= deadline {
            return fail(error.withMessage(error.message + " (gave up: a retry in \(delayMs) ms would pass the call's deadline of \(policy.deadlineMs) ms)"))
        }
        if mustRewind, let rewind = call.rewindBody {
            do { try rewind() } catch { return fail(error) }
            tracker.consumed = 0
        }
        r.metrics.retry(operation: call.operation.name, attempt: attempt + 1)
        record(.warn, "\(call.operation) retrying in \(delayMs) ms"
               + (resume.map { " from byte \($0.offset)" } ?? "") + " after \(error.code.name): \(error.message)",
               attempt: attempt, status: error.httpStatus, requestID: error.requestID, error: error)
        state = .backingOff
        return .wait(nanos: UInt64(delayMs) * 1_000_000)
    }

    private func succeed(_ head: ResponseHead) -> Step {
        outcome = .success
        trace(nil)
        return finish(.success(head))
    }

    private func fail(_ error: R2Error) -> Step {
        var error = error
        if answerLost && error.code == .preconditionFailed && call.method != "GET" && call.method != "HEAD" {
            // The condition may have failed on this call's own earlier write.
            error = error.withMessage(error.message + " (an earlier attempt's answer was lost: that attempt may have taken effect)")
            error.afterLostAnswer = true
        }
        outcome = CircuitBreaker.outcome(of: error)
        if error.code == .notModified {
            // A conditional GET's 304 is an answer (not modified), not a failure.
            record(.info, "\(call.operation) done: not modified (HTTP 304)", attempt: attempt, status: error.httpStatus,
                   requestID: error.requestID, ms: elapsedMs())
            trace(nil)
        } else {
            record(.error, "\(call.operation) failed after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(error)",
                   attempt: attempt, status: error.httpStatus, requestID: error.requestID, ms: elapsedMs(), error: error)
            trace(error)
        }
        return finish(.failure(error))
    }

    private func finish(_ result: Result<ResponseHead, R2Error>) -> Step {
        // A call the breaker never admitted (it failed fast) reports nothing to it.
        if state != .admitting, let changed = r.breaker.record(outcome, trial: trial) {
            record(changed == .open ? .warn : .info, "circuit breaker is now \(changed)")
        }
        state = .finished
        return .finish(result)
    }

    // Arguments are autoclosures: with logging off (the default) nothing is formatted or timed.
    private func record(_ level: LogLevel, _ message: @autoclosure () -> String, attempt: Int = 0, status: Int = 0,
                        requestID: @autoclosure () -> String = "", ms: @autoclosure () -> Double = 0, error: R2Error? = nil) {
        let call = self.call
        r.log(level) {
            var l = LogRecord(level: level, message: message())
            l.operation = call.operation.name; l.bucket = call.bucket; l.key = call.key ?? ""
            l.attempt = attempt; l.httpStatus = status; l.requestID = requestID(); l.durationMs = ms(); l.error = error?.code
            return l
        }
    }

    private func elapsedMs() -> Double { Double(r.clock.now() - start) / 1e6 }

    private func trace(_ error: R2Error?) {
        guard let tracer = r.observability.tracer else { return }
        var t = TraceRecord()
        t.operation = call.operation.name; t.bucket = call.bucket; t.key = call.key ?? ""
        t.httpStatus = lastHead.status; t.requestID = error?.requestID.isEmpty == false ? error!.requestID : lastHead.requestID
        t.durationMs = elapsedMs(); t.bytesSent = sent; t.bytesReceived = received
        t.retries = max(attempt - 1, 0); t.error = error; t.traceparent = traceparent
        tracer(t)
    }
}
