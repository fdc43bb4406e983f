import Glibc
import Synchronization
import Testing
@testable import R2
import R2Testing

private typealias Fault = FaultInjectingTransport.Fault

@Suite struct RetryPolicyTests {
    @Test func defaultsAreTheSpecificationsTable() {
        let p = RetryPolicy()
        #expect(p.slowDown == RetryRule(maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000))
        #expect(p.server == RetryRule(maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000))
        #expect(p.network == RetryRule(maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 10_000))
        #expect(p.interrupted.maxAttempts == 2 && p.interrupted.fixed)
    }

    @Test(arguments: [
        (R2Error.Code.slowDown, RetryClass?.some(.slowDown)), (.serverInternal, .server), (.serviceUnavailable, .server),
        (.timeout, .network), (.connectionFailed, .network), (.streamInterrupted, .interrupted), (.incompleteBody, .interrupted),
        (.accessDenied, nil), (.signatureMismatch, nil), (.invalidAccessKey, nil), (.noSuchKey, nil), (.noSuchBucket, nil),
        (.preconditionFailed, nil), (.invalidArgument, nil), (.invalidRequest, nil), (.badDigest, nil), (.notImplemented, nil),
        (.tls, nil), (.aborted, nil), (.circuitOpen, nil), (.http, nil),
    ])
    func classes(code: R2Error.Code, expected: RetryClass?) {
        #expect(RetryClass(R2Error(code, "x")) == expected)
    }

    @Test func exponentialDelaysWithCaps() {
        var p = RetryPolicy()
        p.jitter = 0
        #expect((1...7).map { p.delayMs(.server, retry: $0, retryAfterMs: nil, random: 0.5) }
                == [1000, 2000, 4000, 8000, 16000, 30000, 30000])
        #expect((1...6).map { p.delayMs(.network, retry: $0, retryAfterMs: nil, random: 0.5) } == [500, 1000, 2000, 4000, 8000, 10000])
        #expect((1...4).map { p.delayMs(.slowDown, retry: $0, retryAfterMs: 3000, random: 0.5) } == [3000, 6000, 12000, 24000])
        #expect((1...3).map { p.delayMs(.interrupted, retry: $0, retryAfterMs: nil, random: 0.9) } == [500, 500, 500])
        #expect(p.delayMs(.slowDown, retry: 1, retryAfterMs: 120_000, random: 0) == 30_000, "the cap bounds Retry-After too")
    }

    @Test func jitterStaysInRangeAndNeverUndercutsRetryAfter() {
        let p = RetryPolicy()  // jitter 0.5
        for r in stride(from: 0.0, to: 1.0, by: 0.05) {
            let d = p.delayMs(.server, retry: 2, retryAfterMs: nil, random: r)
            #expect((1000...2000).contains(d))
            #expect(p.delayMs(.slowDown, retry: 1, retryAfterMs: 2000, random: r) == 2000)
            #expect((2000...4000).contains(p.delayMs(.slowDown, retry: 2, retryAfterMs: 2000, random: r)))
        }
        #expect(p.delayMs(.server, retry: 1, retryAfterMs: nil, random: 0) == 1000)
        #expect(p.delayMs(.server, retry: 1, retryAfterMs: nil, random: 0.999) == 500)
    }

    @Test func invalidPoliciesAreConfigErrors() {
        var o = ResilienceOptions()
        o.retry.server.maxAttempts = 0
        #expect(throws: R2Error.self) { try o.validate() }
        o = ResilienceOptions()
        o.retry.jitter = 1.5
        #expect(throws: R2Error.self) { try o.validate() }
        o = ResilienceOptions()
        o.rateLimit = -1
        #expect(throws: R2Error.self) { try o.validate() }
    }
}

@Suite struct RetryTests {
    let bucket = "bkt"
    let body = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    /// Success under 30 % injected 500s: every call either succeeds within
    /// its 3 attempts or fails after exactly 3 injected 500s, and the metrics
    /// count exactly what happened.
    @Test func successUnder30PercentInjected500s() throws {
        let clock = ManualClock()
        var o = FaultInjectingTransport.Options()
        o.failureRate = 0.3
        o.faults = [.internalError]
        o.seed = 20_240_501
        let mem = MemoryS3()
        for i in 0..<100 { _ = mem.put("/bkt/k\(i)", body) }  // a failed put must not turn the get into a NoSuchKey
        let faults = FaultInjectingTransport(wrapping: mem, options: o)
        let client = try testClient(faults, clock: clock)
        var succeeded = 0, failed = 0, retries = 0
        for i in 0..<100 {
            for op in 0..<2 {
                let before = faults.log.count
                do {
                    if op == 0 { try client.putObject(bucket: bucket, key: "k\(i)", body: body) }
                    else { #expect(try client.getObject(bucket: bucket, key: "k\(i)").body == body) }
                    succeeded += 1
                } catch {
                    #expect(error.code == .serverInternal && error.httpStatus == 500)
                    failed += 1
                }
                let attempts = faults.log[before...]
                #expect(attempts.count <= 3, "within the attempt budget")
                let last = attempts.last!
                if last.fault == nil { #expect(attempts.dropLast().allSatisfy { $0.fault == .internalError }) }
                else { #expect(attempts.count == 3 && attempts.allSatisfy { $0.fault == .internalError }) }
                retries += attempts.count - 1
            }
        }
        let injected = faults.count(.internalError)
        #expect(injected > 40, "about 30 % of some 270 requests: \(injected)")
        #expect(succeeded >= 190, "3 attempts at 30 % fail 2.7 % of calls: \(failed) of \(succeeded + failed) failed")
        #expect(client.metric("r2_errors_total", ["error_type": "ServerInternal"]) == Double(injected))
        #expect(client.metric("r2_requests_total", ["status": "500"]) == Double(injected))
        #expect(client.metric("r2_requests_total") == Double(faults.log.count))
        #expect(client.metric("r2_retries_total") == Double(retries))
        #expect(clock.sleepsMs.count == retries)
        #expect(clock.sleepsMs.allSatisfy { (500...2000).contains($0) }, "1 s then 2 s, with up to 50 % jitter")
    }

    @Test func retryAfterIsHonouredInRealTime() throws {
        let mem = MemoryS3()
        _ = mem.put("/bkt/k", [1, 2, 3])
        let faults = scripted(mem, [.slowDown], retryAfter: 1)
        let client = try testClient(faults)
        let start = monotonicNanos()
        #expect(try client.getObject(bucket: bucket, key: "k").body == [1, 2, 3])
        let elapsedMs = Double(monotonicNanos() - start) / 1e6
        #expect(elapsedMs >= 1000, "Retry-After: 1 means at least a second, waited \(elapsedMs) ms")
        #expect(elapsedMs < 2500, "and not much more: \(elapsedMs) ms")
        #expect(faults.log.count == 2)
    }

    @Test func slowDownBacksOffFromRetryAfterForFiveAttempts() throws {
        let clock = ManualClock()
        let faults = scripted(MemoryS3(), Array(repeating: .slowDown, count: 6), retryAfter: 2, clock: clock)
        let client = try testClient(faults, clock: clock) { $0.resilience.retry.jitter = 0 }
        do { _ = try client.getObject(bucket: bucket, key: "k"); Issue.record("must fail") } catch {
            #expect(error.code == .slowDown && error.retryAfterMs == 2000 && error.isRetryable)
        }
        #expect(faults.log.count == 5)
        #expect(clock.sleepsMs == [2000, 4000, 8000, 16000])
    }

    @Test func networkFailuresRetryFrom500Ms() throws {
        let clock = ManualClock()
        let faults = scripted(MemoryS3(), [.timeout, .connectionReset], clock: clock)
        let client = try testClient(faults, clock: clock) { $0.resilience.retry.jitter = 0 }
        try client.putObject(bucket: bucket, key: "k", body: body)
        #expect(faults.log.count == 3)
        #expect(clock.sleepsMs == [500, 1000])
        #expect(client.metric("r2_requests_total", ["status": "none"]) == 2)
        #expect(client.metric("r2_errors_total", ["error_type": "Timeout"]) == 1)
        #expect(client.metric("r2_errors_total", ["error_type": "ConnectionFailed"]) == 1)
    }

    @Test(arguments: [
        (403, "AccessDenied", R2Error.Code.accessDenied), (403, "SignatureDoesNotMatch", .signatureMismatch),
        (403, "InvalidAccessKeyId", .invalidAccessKey), (401, "Unauthorized", .unauthorized), (404, "NoSuchKey", .noSuchKey),
        (404, "NoSuchBucket", .noSuchBucket), (412, "PreconditionFailed", .preconditionFailed),
        (400, "InvalidArgument", .invalidRequest), (400, "BadDigest", .badDigest), (416, "InvalidRange", .invalidRange),
        (501, "NotImplemented", .notImplemented), (400, "EntityTooLarge", .entityTooLarge), (418, "", .http),
    ])
    func nonRetryableErrorsAreTriedExactlyOnce(status: Int, code: String, expected: R2Error.Code) throws {
        let clock = ManualClock()
        let faults = scripted(StaticTransport(status: status, body: { _ in s3Error(code, "no") }), [], clock: clock)
        let client = try testClient(faults, clock: clock)
        for call in [{ try client.getObject(bucket: "bkt", key: "k") as Any },
                     { try client.putObject(bucket: "bkt", key: "k", body: [1]) as Any }] {
            let before = faults.log.count
            do { _ = try call(); Issue.record("must fail") } catch let e as R2Error {
                #expect(e.code == expected)
            }
            #expect(faults.log.count == before + 1, "tried exactly once")
        }
        #expect(clock.sleepsMs.isEmpty)
        #expect(client.metric("r2_retries_total") == 0)
    }

    @Test func invalidArgumentsNeverReachTheTransport() throws {
        let faults = scripted(MemoryS3(), [])
        let client = try testClient(faults)
        #expect(throws: R2Error.self) { try client.putObject(bucket: "Bad_Bucket", key: "k", body: [1]) }
        #expect(throws: R2Error.self) { try client.getObject(bucket: "bkt", key: "") }
        #expect(faults.log.isEmpty)
        #expect(client.metric("r2_requests_total") == 0)
    }

    /// A stream nobody has read from yet can be sent again; one that was
    /// partly sent cannot, and the error says so.
    @Test func streamBodiesAreRetriedOnlyWhenUntouched() throws {
        let clock = ManualClock()
        let mem = MemoryS3()
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        func put(_ client: R2Client) throws(R2Error) {
            var at = 0
            try client.putObject(bucket: bucket, key: "s", length: UInt64(data.count)) { buffer in
                let n = min(buffer.count, data.count - at)
                data[at..<at + n].withUnsafeBytes { buffer.copyMemory(from: $0) }
                at += n
                return n
            }
        }
        // 500 before the body was read: retried, and the object is whole.
        let early = scripted(mem, [.internalError], clock: clock)
        try put(try testClient(early, clock: clock))
        #expect(early.log.count == 2)
        #expect(try testClient(mem).getObject(bucket: bucket, key: "s").body == data)

        // Reset after the body was sent: not retried.
        let late = scripted(mem, [.connectionReset], clock: clock)
        let lateClient = try testClient(late, clock: clock)
        do { try put(lateClient); Issue.record("must fail") } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.message.contains("one-shot stream"))
            #expect(error.message.contains("300000 bytes"))
        }
        #expect(late.log.count == 1)

        // The same reset with a source that can start again (rewind): re-sent whole.
        let rewound = scripted(mem, [.connectionReset], clock: clock)
        var at = 0, rewinds = 0
        try testClient(rewound, clock: clock).putObject(bucket: bucket, key: "r", length: UInt64(data.count),
                                                        rewind: { at = 0; rewinds += 1 }) { buffer in
            let n = min(buffer.count, data.count - at)
            data[at..<at + n].withUnsafeBytes { buffer.copyMemory(from: $0) }
            at += n
            return n
        }
        #expect(rewound.log.count == 2 && rewinds == 1)
        #expect(try testClient(mem).getObject(bucket: bucket, key: "r").body == data)

        // A source that ends early is the caller's error: not retried, not annotated.
        let short = scripted(mem, [], clock: clock)
        let shortClient = try testClient(short, clock: clock)
        do {
            try shortClient.putObject(bucket: bucket, key: "s", length: 10) { _ in 0 }
            Issue.record("must fail")
        } catch {
            #expect(error.code == .incompleteBody && !error.message.contains("replayed"))
        }
        #expect(short.log.count == 1)
    }

    /// A download cut off three times resumes each time from the last byte
    /// delivered, pinned to the ETag; the caller sees one continuous body.
    @Test func interruptedDownloadsResumeWithRangeAndIfMatch() throws {
        let clock = ManualClock()
        let mem = MemoryS3()
        let data = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let etag = mem.put("/bkt/big", data)
        let faults = scripted(mem, [.truncatedBody, .truncatedBody, .truncatedBody], clock: clock)
        let rec = Recorder()
        let client = try testClient(faults, clock: clock) { rec.install(&$0, level: .off) }
        var got: [UInt8] = []
        let info = try client.getObject(bucket: bucket, key: "big") { got += $0; return true }
        #expect(got == data)
        #expect(info.contentLength == Int64(data.count) && info.httpStatus == 200)
        let gets = faults.log
        #expect(gets.count == 4)
        #expect(gets[0].header("range") == nil)
        #expect(gets[1...].map { $0.header("range") } == ["bytes=524288-1048575", "bytes=786432-1048575", "bytes=917504-1048575"])
        #expect(gets[1...].allSatisfy { $0.header("if-match") == etag })
        #expect(client.metric("r2_retries_total", ["operation": "GetObject"]) == 3)
        #expect(rec.traces.count == 1 && rec.traces[0].retries == 3 && rec.traces[0].error == nil)
        #expect(rec.traces[0].bytesReceived == UInt64(data.count))

        // A ranged read resumes inside its range.
        let ranged = scripted(mem, [.truncatedBody], clock: clock)
        var options = GetOptions()
        options.range = "bytes=100-199"
        let part = try testClient(ranged, clock: clock).getObject(bucket: bucket, key: "big", options: options)
        #expect(part.body == Array(data[100...199]))
        #expect(ranged.log.map { $0.header("range") } == ["bytes=100-199", "bytes=150-199"])
    }

    @Test func aDownloadOfAnObjectThatChangesFailsInsteadOfMixingVersions() throws {
        let mem = MemoryS3()
        _ = mem.put("/bkt/k", [UInt8](repeating: 1, count: 200_000))
        let clock = ManualClock()
        let client = try testClient(scripted(mem, [.truncatedBody], clock: clock), clock: clock)
        var replaced = false
        do {
            try client.getObject(bucket: bucket, key: "k") { _ in
                if !replaced { replaced = true; _ = mem.put("/bkt/k", [UInt8](repeating: 2, count: 200_000)) }
                return true
            }
            Issue.record("must fail")
        } catch {
            #expect(error.code == .preconditionFailed)
            #expect(error.message.contains("changed during the download"))
        }
    }

    @Test func theDeadlineEndsRetries() throws {
        let clock = ManualClock()
        let faults = scripted(MemoryS3(), Array(repeating: .slowDown, count: 5), retryAfter: 10, clock: clock)
        let client = try testClient(faults, clock: clock) {
            $0.resilience.retry.jitter = 0
            $0.resilience.retry.deadlineMs = 15_000
        }
        do { _ = try client.getObject(bucket: bucket, key: "k"); Issue.record("must fail") } catch {
            #expect(error.code == .slowDown)
            #expect(error.message.contains("deadline"))
        }
        #expect(faults.log.count == 2, "10 s then 20 s: the second wait would pass 15 s")
        #expect(clock.sleepsMs == [10_000])
        #expect(faults.log[1].timeoutMs == 5_000, "an attempt's timeout never runs past the deadline")
    }

    @Test func timeoutsByOperationClass() throws {
        let list = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
        let faults = scripted(StaticTransport(status: 200, headers: [("ETag", "\"e\"")], body: { $0.method == "GET" && $0.query != nil ? list : "" }), [])
        let client = try testClient(faults) {
            $0.requestTimeoutMs = 11_000
            $0.transferTimeoutMs = 22_000
            $0.resilience.listTimeoutMs = 33_000
        }
        try client.putObject(bucket: bucket, key: "small", body: [1])
        _ = try client.listObjects(bucket: bucket)
        try client.getObject(bucket: bucket, key: "large") { _ in true }
        #expect(faults.log.map(\.timeoutMs) == [11_000, 33_000, 22_000])
    }
}

@Suite struct FaultTransportTests {
    @Test func addsLatencyAndDrawsFaultsReproducibly() throws {
        let clock = ManualClock()
        var o = FaultInjectingTransport.Options()
        o.latencyMs = 250
        o.clock = clock.clock
        let rec = Recorder()
        let client = try testClient(FaultInjectingTransport(wrapping: MemoryS3(), options: o), clock: clock) { rec.install(&$0, level: .off) }
        _ = try? client.headObject(bucket: "bkt", key: "k")
        #expect(clock.sleepsMs == [250] && rec.traces.first?.durationMs == 250)

        func draws(seed: UInt64) -> [FaultInjectingTransport.Fault?] {
            var o = FaultInjectingTransport.Options()
            o.failureRate = 0.5
            o.seed = seed
            let t = FaultInjectingTransport(wrapping: StaticTransport(status: 200), options: o)
            var sink = BufferSink()
            for _ in 0..<50 { try? t.send(HTTPRequest(method: "HEAD", baseURL: "http://x", path: "/b/k", headers: [], operation: .headObject),
                                          body: .empty, sink: &sink) }
            return t.log.map(\.fault)
        }
        #expect(draws(seed: 7) == draws(seed: 7), "the same seed, the same faults")
        #expect(draws(seed: 7) != draws(seed: 8))
        #expect(Set(draws(seed: 7).compactMap { $0 }).count >= 4, "every kind gets drawn")
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensFailsFastHalfOpensAndCloses() throws {
        let clock = ManualClock()
        let mem = MemoryS3()
        _ = mem.put("/bkt/k", [7])
        let faults = scripted(mem, Array(repeating: .internalError, count: 5) + [nil, .internalError], clock: clock)
        let rec = Recorder()
        let client = try testClient(faults, clock: clock) {
            $0.resilience.retry = .none
            rec.install(&$0, level: .info)
        }
        for _ in 0..<4 { #expect(throws: R2Error.self) { try client.getObject(bucket: "bkt", key: "k") } }
        #expect(client.circuitState == .closed)
        #expect(throws: R2Error.self) { try client.getObject(bucket: "bkt", key: "k") }
        #expect(client.circuitState == .open, "open after 5 consecutive failures")
        #expect(client.metric("r2_circuit_breaker_state") == 1)

        // Open: fail fast, nothing sent.
        clock.advance(ms: 29_000)
        do { _ = try client.getObject(bucket: "bkt", key: "k"); Issue.record("must fail fast") } catch {
            #expect(error.code == .circuitOpen && error.retryAfterMs == 1_000)
        }
        #expect(faults.log.count == 5)
        #expect(client.metric("r2_errors_total", ["error_type": "CircuitOpen"]) == 1)

        // Half-open after the reset timeout: a trial goes through; a failed trial opens it again.
        clock.advance(ms: 1_000)
        #expect(client.circuitState == .halfOpen)
        #expect(try client.getObject(bucket: "bkt", key: "k").body == [7])
        #expect(client.circuitState == .halfOpen)
        #expect(throws: R2Error.self) { try client.getObject(bucket: "bkt", key: "k") }
        #expect(client.circuitState == .open)
        #expect(faults.log.count == 7)

        // Three successful trials close it.
        clock.advance(ms: 30_000)
        for i in 0..<3 {
            #expect(client.circuitState == .halfOpen, "after \(i) successes")
            #expect(try client.getObject(bucket: "bkt", key: "k").body == [7])
        }
        #expect(client.circuitState == .closed)
        #expect(client.metric("r2_circuit_breaker_state") == 0)
        #expect(rec.logs.map(\.message).filter { $0.hasPrefix("circuit breaker") }
                == ["circuit breaker is now open", "circuit breaker is now open", "circuit breaker is now closed"])
    }

    @Test func clientErrorsAndSlowDownDoNotOpenIt() throws {
        let clock = ManualClock()
        let script: [Fault?] = [.internalError, .internalError, .internalError, .internalError, nil,
                                .slowDown, .slowDown, .slowDown, .slowDown, .slowDown, .slowDown]
        let faults = scripted(MemoryS3(), script, clock: clock)
        let client = try testClient(faults, clock: clock) { $0.resilience.retry = .none }
        for _ in 0..<4 { #expect(throws: R2Error.self) { try client.headObject(bucket: "bkt", key: "k") } }
        // A 404 is an answer: the service is up, the count starts again.
        #expect(throws: R2Error.self) { try client.headObject(bucket: "bkt", key: "missing") }
        for _ in 0..<6 { #expect(throws: R2Error.self) { try client.getObject(bucket: "bkt", key: "k") } }
        #expect(client.circuitState == .closed)
    }

    @Test func callsCountNotAttempts() throws {
        let clock = ManualClock()
        // Each call fails twice and then succeeds: 10 failed attempts, no failed call.
        let faults = scripted(MemoryS3(), Array(repeating: [Fault?.some(.internalError), .internalError, nil], count: 5).flatMap { $0 },
                              clock: clock)
        let client = try testClient(faults, clock: clock)
        for _ in 0..<5 { #expect(throws: R2Error.self) { try client.headObject(bucket: "bkt", key: "k") } }  // 404 in the end
        #expect(client.circuitState == .closed && faults.log.count == 15)
    }

    /// Other calls opened the circuit while this one was retrying: it stops.
    @Test func aRetryingCallStopsWhenTheCircuitOpens() throws {
        let clock = ManualClock()
        let box = Mutex<R2Client?>(nil)
        let sent = Mutex(0)
        let hook = HookTransport(inner: scripted(MemoryS3(), [.internalError, .internalError, .internalError], clock: clock)) {
            guard sent.withLock({ $0 += 1; return $0 }) == 2, let client = box.withLock({ $0 }) else { return }
            for _ in 0..<5 { client.resilience.breaker.record(.failure, trial: false) }
        }
        let client = try testClient(hook, clock: clock)
        box.withLock { $0 = client }
        do { _ = try client.headObject(bucket: "bkt", key: "k"); Issue.record("must fail") } catch {
            #expect(error.code == .circuitOpen)
        }
        #expect(sent.withLock { $0 } == 2, "no third attempt")
    }

    @Test func disabledWithAZeroThreshold() throws {
        let faults = scripted(MemoryS3(), Array(repeating: .internalError, count: 10))
        let client = try testClient(faults) {
            $0.resilience.retry = .none
            $0.resilience.circuitBreaker.failureThreshold = 0
        }
        for _ in 0..<10 { #expect(throws: R2Error.self) { try client.headObject(bucket: "bkt", key: "k") } }
        #expect(faults.log.count == 10 && client.circuitState == .closed)
    }
}

@Suite struct RateLimiterTests {
    @Test func spacesRequestsAndAdaptsToSlowDown() throws {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 10, clock: clock.clock)
        for _ in 0..<11 { limiter.acquire() }
        #expect(clock.sleepsMs == Array(repeating: 100, count: 10), "10 per second, evenly spaced")
        limiter.slowDown()
        #expect(limiter.currentRate == 5)
        limiter.acquire()
        limiter.acquire()
        #expect(clock.sleepsMs.suffix(2) == [100, 200], "the slot already given keeps its time; the next is 200 ms later")
        for _ in 0..<5 { limiter.success() }
        #expect(abs(limiter.currentRate - 10) < 1e-9, "recovers a tenth per success")
        for _ in 0..<20 { limiter.slowDown() }
        #expect(limiter.currentRate == 10.0 / 64, "never below 1/64 of the configured rate")
    }

    @Test func theClientBacksOffOnSlowDown() throws {
        let clock = ManualClock()
        let faults = scripted(MemoryS3(), [.slowDown], clock: clock)
        let client = try testClient(faults, clock: clock) {
            $0.resilience.rateLimit = 4
            $0.resilience.retry.jitter = 0
        }
        _ = try? client.getObject(bucket: "bkt", key: "k")
        #expect(abs((client.resilience.limiter?.currentRate ?? 0) - 2.4) < 1e-9, "halved by the SlowDown, a tenth back after the success")
        #expect(clock.sleepsMs == [1000], "the retry's 1 s wait covers the limiter's spacing")
    }
}

@Suite struct MetricsTests {
    @Test func countsEqualTheEvents() throws {
        let clock = ManualClock()
        let mem = MemoryS3()
        let faults = scripted(mem, [nil, .internalError, .internalError, nil, nil, .slowDown, nil], clock: clock)
        let client = try testClient(faults, clock: clock)
        let body = [UInt8](repeating: 9, count: 5000)
        try client.putObject(bucket: "bkt", key: "k", body: body)
        _ = try client.getObject(bucket: "bkt", key: "k")
        #expect(throws: R2Error.self) { try client.headObject(bucket: "bkt", key: "missing") }
        _ = try client.getObject(bucket: "bkt", key: "k")
        client.recordMultipartPart(bucket: "bkt", succeeded: true)
        client.recordMultipartPart(bucket: "bkt", succeeded: true)
        client.recordMultipartPart(bucket: "bkt", succeeded: false)

        let text = client.metricsPrometheus()
        let lines = Set(text.split(separator: "\n").map(String.init))
        let errorXML = { (code: String, message: String) in
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>".utf8.count }
        let received = 2 * 5000 + 2 * errorXML("InternalError", "We encountered an internal error. Please try again.")
            + errorXML("SlowDown", "Please reduce your request rate.")
        for expected in [
            "r2_requests_total{operation=\"PutObject\",bucket=\"bkt\",status=\"200\"} 1",
            "r2_requests_total{operation=\"GetObject\",bucket=\"bkt\",status=\"200\"} 2",
            "r2_requests_total{operation=\"GetObject\",bucket=\"bkt\",status=\"500\"} 2",
            "r2_requests_total{operation=\"GetObject\",bucket=\"bkt\",status=\"503\"} 1",
            "r2_requests_total{operation=\"HeadObject\",bucket=\"bkt\",status=\"404\"} 1",
            "r2_errors_total{operation=\"GetObject\",error_type=\"ServerInternal\"} 2",
            "r2_errors_total{operation=\"GetObject\",error_type=\"SlowDown\"} 1",
            "r2_errors_total{operation=\"HeadObject\",error_type=\"NoSuchKey\"} 1",
            "r2_retries_total{operation=\"GetObject\",attempt=\"2\"} 2",
            "r2_retries_total{operation=\"GetObject\",attempt=\"3\"} 1",
            "r2_bytes_transferred_total{operation=\"PutObject\",bucket=\"bkt\",direction=\"sent\"} 5000",
            "r2_bytes_transferred_total{operation=\"GetObject\",bucket=\"bkt\",direction=\"received\"} \(received)",
            "r2_request_duration_seconds_count{operation=\"GetObject\"} 5",
            "r2_request_duration_seconds_bucket{operation=\"GetObject\",le=\"0.01\"} 5",
            "r2_request_duration_seconds_bucket{operation=\"GetObject\",le=\"+Inf\"} 5",
            "r2_multipart_parts_total{bucket=\"bkt\",status=\"success\"} 2",
            "r2_multipart_parts_total{bucket=\"bkt\",status=\"failure\"} 1",
            "r2_circuit_breaker_state 0",
            "r2_signing_key_cache_hits_total 6",
            "# TYPE r2_request_duration_seconds histogram",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(client.metric("r2_requests_total") == 7, "one per request sent")
        #expect(!text.contains("PutObject\",error_type"), "no error series for a call that never failed")

        // The JSON snapshot carries the same numbers.
        let json = try R2.JSON.parse(Array(client.metricsJSON().utf8))
        let families = try #require(json["metrics"]?.array)
        let requests = try #require(families.first { $0["name"]?.string == "r2_requests_total" }?["samples"]?.array)
        #expect(requests.reduce(0) { $0 + ($1["value"]?.number ?? 0) } == 7)
        #expect(families.map { $0["name"]?.string ?? "" } == ["r2_requests_total", "r2_request_duration_seconds",
            "r2_bytes_transferred_total", "r2_errors_total", "r2_retries_total", "r2_multipart_parts_total",
            "r2_circuit_breaker_state", "r2_signing_key_cache_hits_total"])
    }

    @Test func histogramBucketsAreCumulative() throws {
        let store = MetricsStore()
        for s in [0.005, 0.02, 0.3, 0.3, 7, 100] {
            store.request(operation: "Op", bucket: "b", status: "200", seconds: s, sent: 0, received: 0)
        }
        let samples = store.families(breakerState: .closed, signingKeyCacheHits: 0)[1].samples
        let buckets = samples.filter { $0.name.hasSuffix("_bucket") }.map { ($0.label("le")!, $0.value) }
        #expect(buckets.map(\.0) == ["0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"])
        #expect(buckets.map(\.1) == [1, 2, 2, 2, 2, 4, 4, 4, 4, 5, 5, 5, 6])
        #expect(samples.first { $0.name.hasSuffix("_sum") }?.value == 0.005 + 0.02 + 0.3 + 0.3 + 7 + 100)
    }
}

@Suite struct ObservabilityTests {
    /// Every operation, logging at trace level, against a server that refuses
    /// the signature and echoes the Authorization header and the token back in
    /// its error message: no secret, signature, Authorization value or token
    /// may appear in any log record, error, trace or metric.
    @Test func nothingSecretAppearsAnywhere() throws {
        let token = "FQoGZXIvYXdzEBYaDEXAMPLESESSIONTOKEN0123456789"
        let echo = StaticTransport(status: 403, body: { request in
            let auth = request.header("authorization") ?? ""
            let sig = auth.split(separator: "=").last.map(String.init) ?? ""
            return "<Error><Code>SignatureDoesNotMatch</Code><Message>you sent \(auth) token \(request.header("x-amz-security-token") ?? "")"
                + "</Message><SignatureProvided>\(sig)</SignatureProvided><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>"
        })
        let faults = scripted(echo, [])
        let rec = Recorder()
        let client = try testClient(faults, sessionToken: token) { rec.install(&$0, level: .trace) }
        var errors: [R2Error] = []
        func run(_ body: () throws(R2Error) -> Void) {
            do { try body(); Issue.record("must fail") } catch { errors.append(error) }
        }
        run { () throws(R2Error) in try client.putObject(bucket: "bkt", key: "a", body: [1, 2, 3]) }
        run { () throws(R2Error) in try client.putObject(bucket: "bkt", key: "a", length: 3) { b in b.storeBytes(of: 0, as: UInt8.self); return 1 } }
        run { () throws(R2Error) in _ = try client.getObject(bucket: "bkt", key: "a") }
        run { () throws(R2Error) in try client.getObject(bucket: "bkt", key: "a") { _ in true } }
        run { () throws(R2Error) in _ = try client.headObject(bucket: "bkt", key: "a") }
        run { () throws(R2Error) in try client.deleteObject(bucket: "bkt", key: "a") }
        run { () throws(R2Error) in _ = try client.deleteObjects(bucket: "bkt", keys: ["a", "b"]) }
        run { () throws(R2Error) in _ = try client.copyObject(sourceBucket: "bkt", sourceKey: "a", bucket: "bkt", key: "b") }
        run { () throws(R2Error) in _ = try client.listObjects(bucket: "bkt") }
        run { () throws(R2Error) in var it = client.listAllObjects(bucket: "bkt"); _ = try it.next() }
        #expect(errors.count == 10 && errors.allSatisfy { $0.code == .signatureMismatch || $0.code == .accessDenied })

        let signatures = faults.log.compactMap { $0.header("authorization") }.compactMap { $0.split(separator: "=").last.map(String.init) }
        #expect(signatures.count == faults.log.count && signatures.allSatisfy { $0.count == 64 })
        let authorizations = faults.log.compactMap { $0.header("authorization") }
        let forbidden = [testSecret, token, "Signature="] + signatures + authorizations
        var texts = errors.map(\.description) + errors.map(\.message)
        for l in rec.logs { texts += [l.message, l.operation, l.bucket, l.key, l.requestID] }
        for t in rec.traces { texts += [t.operation, t.bucket, t.key, t.requestID, t.traceparent, t.error?.description ?? ""] }
        texts += [client.metricsPrometheus(), client.metricsJSON()]
        for text in texts {
            for secret in forbidden { #expect(!text.contains(secret), "leaked in: \(text)") }
        }
        // The test saw what it guards: trace lines with headers, and messages that had to be scrubbed.
        #expect(rec.logs.contains { $0.level == .trace && $0.message.contains("Authorization: <redacted>") })
        #expect(rec.logs.contains { $0.level == .trace && $0.message.contains("X-Amz-Security-Token: <redacted>") })
        #expect(errors.filter { $0.message.contains("you sent <redacted> token <redacted>") }.count == 9, "all but HEAD, which has no body")
        #expect(Set(rec.logs.map(\.level)) == [.error, .debug, .trace])
        #expect(rec.traces.count == 10)
    }

    @Test func offByDefaultAndFilteredByLevel() throws {
        let quiet = Recorder()
        let config = ClientConfig(accountID: "", credentials: Credentials(accessKeyID: "a", secretAccessKey: "b"))
        #expect(config.observability.logLevel == .off && config.observability.logger == nil)
        let client = try testClient(scripted(MemoryS3(), [.internalError])) {
            quiet.install(&$0, level: .off)
            $0.resilience.retry.jitter = 0
            $0.resilience.retry.server.baseDelayMs = 1
        }
        _ = try? client.headObject(bucket: "bkt", key: "k")
        #expect(quiet.logs.isEmpty && quiet.traces.count == 1, "level off: no logs; traces are separate")

        let warn = Recorder()
        let client2 = try testClient(scripted(MemoryS3(), [.internalError])) {
            warn.install(&$0, level: .warn)
            $0.resilience.retry.server.baseDelayMs = 1
        }
        _ = try? client2.headObject(bucket: "bkt", key: "missing")
        #expect(warn.logs.map(\.level) == [.warn, .error])
        let retry = warn.logs[0]
        #expect(retry.operation == "HeadObject" && retry.bucket == "bkt" && retry.key == "missing")
        #expect(retry.attempt == 1 && retry.httpStatus == 500 && retry.requestID == "fault-0" && retry.error == .serverInternal)
        #expect(warn.logs[1].attempt == 2 && warn.logs[1].httpStatus == 404 && warn.logs[1].error == .noSuchKey)
    }

    @Test func traceRecordsAndTraceparent() throws {
        let clock = ManualClock()
        let mem = MemoryS3()
        _ = mem.put("/bkt/k", [UInt8](repeating: 5, count: 100))
        let faults = scripted(mem, [.internalError, nil, nil], clock: clock)
        let rec = Recorder()
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let client = try testClient(faults, clock: clock) {
            rec.install(&$0, level: .off)
            $0.resilience.retry.jitter = 0
            $0.observability.propagateTraceparent = true
        }
        #expect(try client.getObject(bucket: "bkt", key: "k").body.count == 100)
        let t = try #require(rec.traces.first)
        #expect(t.operation == "GetObject" && t.bucket == "bkt" && t.key == "k" && t.httpStatus == 200)
        #expect(t.retries == 1 && t.bytesReceived > 100 && t.requestID == "mem-get" && t.durationMs == 1000)
        let sent = faults.log.map { $0.header("traceparent") }
        #expect(sent[0] != nil && sent[0] == sent[1], "one traceparent for all attempts of a call")
        #expect(Traceparent.parse(sent[0]!) != nil && t.traceparent == sent[0])

        let child = try testClient(faults, clock: clock) {
            $0.observability.propagateTraceparent = true
            $0.observability.parentTraceparent = { parent }
        }
        _ = try child.headObject(bucket: "bkt", key: "k")
        let joined = try #require(faults.log.last?.header("traceparent"))
        #expect(joined.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && !joined.contains("00f067aa0ba902b7"))

        let plainFaults = scripted(mem, [])
        _ = try testClient(plainFaults).headObject(bucket: "bkt", key: "k")
        #expect(plainFaults.log.count == 1 && plainFaults.log[0].header("traceparent") == nil, "off by default")
        #expect(Traceparent.parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01") == nil)
    }
}
