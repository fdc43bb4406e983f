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

    /// CPU time of this thread per call: steadier than wall time on a shared machine.
    func nsPerCall(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
        func cpu() -> UInt64 {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        }
        let start = cpu()
        for _ in 0..<n { try body() }
        return Double(cpu() - start) / Double(n)
    }

    @Test func overheadOnACachedSmallGet() throws {
        let transport = Canned()
        let plain = try testClient(transport)
        let observed = try testClient(transport) {
            $0.observability.logLevel = .info
            $0.observability.logger = { _ in }
            $0.observability.tracer = { _ in }
            $0.observability.propagateTraceparent = true
        }
        // What getObject did before the resilience layer: validate, sign, send
        // into the same streaming sink, check, map.
        func baseline() throws {
            try Validate.bucket("bkt")
            try Validate.key("photos/cat.jpg")
            var call = R2Client.Call(operation: .getObject, method: "GET", bucket: "bkt", key: "photos/cat.jpg")
            call.headers = try R2Client.getHeaders(GetOptions())
            call.isLargeTransfer = true
            var body: [UInt8] = []
            var sink = StreamingGetSink(write: { body.append(contentsOf: $0); return .accepted }, validate: false)
            try transport.send(plain.request(for: call), body: .empty, sink: &sink)
            let info = ObjectInfo(transport.head)
            guard info.httpStatus == 200, sink.received == info.contentLength else { throw R2Error(.http, "unexpected") }
            _ = GetObjectOutput(info: info, body: body)
        }
        func full(_ c: R2Client) throws { _ = try c.getObject(bucket: "bkt", key: "photos/cat.jpg") }
        let n = 30_000, rounds = 9
        var base: [Double] = [], all: [Double] = [], obs: [Double] = []
        _ = try nsPerCall(n) { try baseline(); try full(plain); try full(observed) }  // warm up
        for _ in 0..<rounds {  // interleaved, so drift in the machine's load hits all three alike
            base.append(try nsPerCall(n, baseline))
            all.append(try nsPerCall(n) { try full(plain) })
            obs.append(try nsPerCall(n) { try full(observed) })
        }
        func median(_ v: [Double]) -> Int { Int(v.sorted()[v.count / 2]) }
        print("""
            resilience benchmark: getObject of 1 KiB from memory (\(n) calls x \(rounds) rounds, median CPU ns per call):
              validate + sign + send + map, no resilience layer: \(median(base))
              getObject, defaults (logging off):                 \(median(all))   overhead \(median(zip(all, base).map { $0 - $1 })) ns
              getObject, info logs + traces + traceparent:       \(median(obs))   overhead \(median(zip(obs, base).map { $0 - $1 })) ns
            """)
        #expect(plain.metric("r2_requests_total") == Double((rounds + 1) * n), "every call was counted once")
    }
}
