import Glibc
import Testing
@testable import R2

/// The cost of the resilience layer on a small GET whose signing key is
/// cached, with the network taken out (an in-memory answer): the whole
/// request path (`perform`) against signing and sending alone. Prints ns
/// per call; asserts nothing about time. Run with `make bench-resilience`.
@Suite(.enabled(if: getenv("R2_BENCH") != nil), .serialized)
struct ResilienceBenchmark {
    /// Answers every request with the same 200 and 1 KiB body.
    struct Canned: Transport {
        let head = ResponseHead(status: 200, headers: [("Content-Length", "1024"), ("ETag", "\"e\""), ("x-amz-request-id", "bench")])
        let body = [UInt8](repeating: 7, count: 1024)
        func send<S: ResponseSink>(_ request: HTTPRequest, body _: RequestBody, sink: inout S) throws(R2Error) {
            sink.head(head)
            _ = body.withUnsafeBytes { sink.body($0) }
        }
    }

    func nsPerCall(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
        let start = monotonicNanos()
        for _ in 0..<n { try body() }
        return Double(monotonicNanos() - start) / Double(n)
    }

    @Test func overheadOnACachedSmallGet() throws {
        let transport = Canned()
        let call = R2Client.Call(operation: "GetObject", method: "GET", bucket: "bkt", key: "photos/cat.jpg")
        let plain = try testClient(transport)
        let observed = try testClient(transport) {
            $0.observability.logLevel = .info
            $0.observability.logger = { _ in }
            $0.observability.tracer = { _ in }
            $0.observability.propagateTraceparent = true
        }
        func baseline() throws {
            var sink = BufferSink()
            try transport.send(plain.request(for: call), body: .empty, sink: &sink)
            if sink.head.status != 200 { throw R2Error(.http, "unexpected") }
        }
        func full(_ c: R2Client) throws {
            var sink = BufferSink()
            try c.perform(call, body: .empty, sink: &sink)
        }
        let n = 50_000
        var rounds: [(base: Double, full: Double, observed: Double)] = []
        _ = try nsPerCall(n) { try baseline(); try full(plain) }  // warm up
        for _ in 0..<5 {
            rounds.append((try nsPerCall(n, baseline), try nsPerCall(n) { try full(plain) }, try nsPerCall(n) { try full(observed) }))
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let base = median(rounds.map(\.base)), all = median(rounds.map(\.full)), obs = median(rounds.map(\.observed))
        print("""
            resilience benchmark (\(n) calls x 5 rounds, median ns per call):
              sign + send (no resilience layer):        \(Int(base))
              perform, defaults (logging off):          \(Int(all))   overhead \(Int(all - base)) ns
              perform, info logs + traces + traceparent: \(Int(obs))   overhead \(Int(obs - base)) ns
            """)
        #expect(plain.metric("r2_requests_total") == Double(6 * n), "every full call was counted once")
    }
}
