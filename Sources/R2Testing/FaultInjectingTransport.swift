import R2
import Synchronization

/// A transport that wraps another and makes some requests fail, for tests of
/// everything above the transport (retries, resumption, the breaker,
/// metrics). Faults come from a script (one entry per request, in order)
/// and then at random with a seeded generator, so a run is reproducible.
package final class FaultInjectingTransport: Transport {
    package enum Fault: String, Sendable, CaseIterable {
        /// The request is sent (its body read) and no answer comes: `.timeout`.
        case timeout
        /// The request is sent and the connection is reset before a response: `.connectionFailed`.
        case connectionReset
        /// 500 InternalError, before the body is read.
        case internalError
        /// 503 SlowDown with Retry-After, before the body is read.
        case slowDown
        /// The real response, cut off half way through its body: `.streamInterrupted`.
        /// Applies only to a 2xx response with at least 2 body bytes; otherwise the
        /// response passes untouched and the log says no fault was injected.
        case truncatedBody
    }

    package struct Options: Sendable {
        /// Share of requests (after the script) that fail, 0 ... 1.
        package var failureRate = 0.0
        /// The faults drawn from, uniformly.
        package var faults: [Fault] = Fault.allCases
        /// Faults for the first requests, in order; nil lets that request through.
        package var script: [Fault?] = []
        /// Added before every request.
        package var latencyMs: UInt32 = 0
        /// The Retry-After of injected SlowDowns.
        package var retryAfterSeconds = 1
        package var seed: UInt64 = 1
        package var clock = MonotonicClock.system
        package init() {}
    }

    /// One request as it went by.
    package struct Entry: Sendable {
        package let operation: String
        package let method: String
        package let path: String
        package let headers: [(name: String, value: String)]
        package let timeoutMs: UInt32?
        /// The fault injected, or nil when the request went to the inner transport untouched.
        package var fault: Fault?

        package func header(_ name: String) -> String? { headers.first { asciiEqualsIgnoringCase($0.name, name) }?.value }
    }

    private let inner: any Transport
    private let options: Options
    private let state: Mutex<(random: SeededRandom, next: Int, log: [Entry])>

    package init(wrapping inner: any Transport, options: Options) {
        self.inner = inner
        self.options = options
        state = Mutex((SeededRandom(seed: options.seed), 0, []))
    }

    /// Every request so far, in order.
    package var log: [Entry] { state.withLock { $0.log } }

    /// How many times `fault` was injected.
    package func count(_ fault: Fault) -> Int { state.withLock { $0.log.filter { $0.fault == fault }.count } }

    package func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        let (index, planned): (Int, Fault?) = state.withLock { s in
            let i = s.next
            s.next += 1
            var fault: Fault? = nil
            if i < options.script.count {
                fault = options.script[i]
            } else if !options.faults.isEmpty && s.random.unit() < options.failureRate {
                fault = options.faults[Int(s.random.next() % UInt64(options.faults.count))]
            }
            s.log.append(Entry(operation: request.operation.name, method: request.method, path: request.path,
                               headers: request.headers, timeoutMs: request.timeoutMs, fault: fault))
            return (s.log.count - 1, fault)
        }
        if options.latencyMs > 0 { options.clock.sleep(UInt64(options.latencyMs) * 1_000_000) }
        let id = "fault-\(index)"
        switch planned {
        case nil:
            try inner.send(request, body: body, sink: &sink)
        case .timeout:
            try Self.consume(body)
            throw R2Error(.timeout, "\(request.method) \(request.baseURL): injected: no response (timed out)")
        case .connectionReset:
            try Self.consume(body)
            throw R2Error(.connectionFailed, "\(request.method) \(request.baseURL): injected: connection reset by peer")
        case .internalError:
            Self.respond(&sink, status: 500, headers: [("x-amz-request-id", id)], code: "InternalError",
                         message: "We encountered an internal error. Please try again.", isHead: request.method == "HEAD")
        case .slowDown:
            Self.respond(&sink, status: 503, headers: [("x-amz-request-id", id), ("Retry-After", String(options.retryAfterSeconds))],
                         code: "SlowDown", message: "Please reduce your request rate.", isHead: request.method == "HEAD")
        case .truncatedBody:
            var cut = CutSink(inner: sink)
            defer { sink = cut.inner }
            do {
                try inner.send(request, body: body, sink: &cut)
            } catch {
                guard cut.didCut else { throw error }
            }
            guard cut.didCut else {
                state.withLock { $0.log[index].fault = nil }
                return
            }
            throw R2Error(.streamInterrupted, "\(request.method) \(request.baseURL): injected: connection reset after "
                          + "\(cut.delivered) of \(cut.length) body bytes")
        }
    }

    private static func consume(_ body: RequestBody) throws(R2Error) {
        guard case .stream(var remaining, let read) = body else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { scratch.deallocate() }
        while remaining > 0 {
            let n = try read(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<Int(min(UInt64(scratch.count), remaining))]))
            if n <= 0 { throw R2Error(.incompleteBody, "the body source ended \(remaining) bytes early") }
            remaining -= UInt64(n)
        }
    }

    private static func respond<S: ResponseSink>(_ sink: inout S, status: Int, headers: [(name: String, value: String)],
                                                 code: String, message: String, isHead: Bool) {
        let xml = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>".utf8)
        sink.head(ResponseHead(status: status, headers: headers + [("Content-Type", "application/xml"),
                                                                   ("Content-Length", String(xml.count))]))
        if !isHead { xml.withUnsafeBytes { _ = sink.body($0) } }
    }

    /// Passes a 2xx response through up to half its Content-Length, then stops it.
    private struct CutSink<Inner: ResponseSink>: ResponseSink {
        var inner: Inner
        var length = 0
        var delivered = 0
        var didCut = false
        private var cutAt = Int.max

        init(inner: Inner) { self.inner = inner }

        mutating func head(_ head: ResponseHead) {
            length = head.header("content-length").flatMap { Int($0.trimmingSpaces()) } ?? 0
            if (200..<300).contains(head.status) && length >= 2 { cutAt = length / 2 }
            inner.head(head)
        }

        mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
            let n = min(chunk.count, cutAt - delivered)
            if n > 0 {
                guard inner.body(UnsafeRawBufferPointer(rebasing: chunk[0..<n])) else { return false }
                delivered += n
            }
            if delivered >= cutAt { didCut = true; return false }
            return true
        }
    }
}
