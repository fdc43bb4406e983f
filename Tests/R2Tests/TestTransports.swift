import Synchronization
@testable import R2
import R2Testing

/// A tiny in-memory S3 for tests: PUT, GET (Range, If-Match), HEAD, DELETE,
/// sending bodies in 64 KiB chunks like a network would.
final class MemoryS3: Transport {
    private let objects = Mutex<(items: [String: (body: [UInt8], etag: String)], version: Int)>(([:], 0))

    func put(_ path: String, _ body: [UInt8]) -> String {
        objects.withLock { s in
            s.version += 1
            let etag = "\"etag-\(s.version)\""
            s.items[path] = (body, etag)
            return etag
        }
    }

    func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        switch request.method {
        case "PUT":
            var bytes: [UInt8] = []
            switch body {
            case .empty: break
            case .bytes(let b): bytes = Array(b)
            case .stream(let length, let read):
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
                defer { buffer.deallocate() }
                while bytes.count < Int(length) {
                    let want = min(buffer.count, Int(length) - bytes.count)
                    let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
                    if n <= 0 { throw R2Error(.incompleteBody, "the body source ended early") }
                    bytes += buffer[0..<n]
                }
            }
            sink.head(ResponseHead(status: 200, headers: [("ETag", put(request.path, bytes)), ("x-amz-request-id", "mem-put")]))
        case "GET", "HEAD":
            guard let object = objects.withLock({ $0.items[request.path] }) else {
                return respond(&sink, 404, "NoSuchKey", head: request.method == "HEAD")
            }
            if let ifMatch = request.header("if-match"), ifMatch != object.etag {
                return respond(&sink, 412, "PreconditionFailed", head: request.method == "HEAD")
            }
            var lo = 0, hi = object.body.count - 1, status = 200
            var headers: [(name: String, value: String)] = [("ETag", object.etag), ("x-amz-request-id", "mem-get")]
            if let range = request.header("range"), range.hasPrefix("bytes=") {
                let parts = range.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
                lo = Int(parts[0]) ?? 0
                if parts.count > 1, let h = Int(parts[1]) { hi = min(h, hi) }
                status = 206
                headers.append(("Content-Range", "bytes \(lo)-\(hi)/\(object.body.count)"))
            }
            headers.append(("Content-Length", String(hi - lo + 1)))
            sink.head(ResponseHead(status: status, headers: headers))
            if request.method == "HEAD" { return }
            var at = lo
            while at <= hi {
                let end = min(at + 64 * 1024, hi + 1)
                let ok = object.body[at..<end].withUnsafeBytes { sink.body($0) }
                if !ok { throw R2Error(.aborted, "the response body consumer stopped the transfer") }
                at = end
            }
        case "DELETE":
            _ = objects.withLock { $0.items.removeValue(forKey: request.path) }
            sink.head(ResponseHead(status: 204, headers: []))
        default:
            respond(&sink, 501, "NotImplemented", head: false)
        }
    }

    private func respond<S: ResponseSink>(_ sink: inout S, _ status: Int, _ code: String, head: Bool) {
        let xml = Array("<Error><Code>\(code)</Code><Message>\(code)</Message></Error>".utf8)
        sink.head(ResponseHead(status: status, headers: [("x-amz-request-id", "mem-\(status)")]))
        if !head { xml.withUnsafeBytes { _ = sink.body($0) } }
    }
}

/// Answers every request with the same status and body (reading the request body first).
struct StaticTransport: Transport {
    var status: Int
    var headers: [(name: String, value: String)] = []
    /// Builds the body from the request (e.g. to echo what it was sent).
    var body: @Sendable (HTTPRequest) -> String = { _ in "" }

    func send<S: ResponseSink>(_ request: HTTPRequest, body requestBody: RequestBody, sink: inout S) throws(R2Error) {
        if case .stream(var remaining, let read) = requestBody {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            defer { buffer.deallocate() }
            while remaining > 0 {
                let want = Int(min(UInt64(buffer.count), remaining))
                let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
                if n <= 0 { throw R2Error(.incompleteBody, "the body source ended early") }
                remaining -= UInt64(n)
            }
        }
        let bytes = Array(body(request).utf8)
        sink.head(ResponseHead(status: status, headers: headers + [("x-amz-request-id", "static-\(status)")]))
        if !bytes.isEmpty && request.method != "HEAD" { bytes.withUnsafeBytes { _ = sink.body($0) } }
    }
}

/// Calls `hook` before passing each request on.
struct HookTransport: Transport {
    let inner: any Transport
    let hook: @Sendable () -> Void

    func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        hook()
        try inner.send(request, body: body, sink: &sink)
    }
}

func s3Error(_ code: String, _ message: String = "") -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
}

let testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYSECRET"

/// A client over `transport` on virtual time (or real time without `clock`).
func testClient(_ transport: any Transport, clock: ManualClock? = nil, sessionToken: String? = nil,
                configure: (inout ClientConfig) -> Void = { _ in }) throws -> R2Client {
    var config = ClientConfig(accountID: "", credentials: Credentials(accessKeyID: "AKIDRESILIENCE", secretAccessKey: testSecret,
                                                                      sessionToken: sessionToken),
                              endpoint: "http://127.0.0.1:9")
    config.allowHTTP = true
    configure(&config)
    return try R2Client(config: config, clock: systemClock, transport: transport, monotonic: clock?.clock ?? .system)
}

/// A fault-injecting transport over `inner` with a script and no random faults.
func scripted(_ inner: any Transport, _ script: [FaultInjectingTransport.Fault?], retryAfter: Int = 1,
              clock: ManualClock? = nil) -> FaultInjectingTransport {
    var o = FaultInjectingTransport.Options()
    o.script = script
    o.retryAfterSeconds = retryAfter
    if let clock { o.clock = clock.clock }
    return FaultInjectingTransport(wrapping: inner, options: o)
}

extension R2Client {
    /// The sum of the samples of `name` whose labels include `labels`.
    func metric(_ name: String, _ labels: [String: String] = [:]) -> Double {
        metrics().flatMap(\.samples).filter { s in
            s.name == name && labels.allSatisfy { s.label($0.key) == $0.value }
        }.reduce(0) { $0 + $1.value }
    }
}

/// Collects log and trace records from any thread.
final class Recorder: Sendable {
    private let state = Mutex<(logs: [LogRecord], traces: [TraceRecord])>(([], []))
    var logs: [LogRecord] { state.withLock { $0.logs } }
    var traces: [TraceRecord] { state.withLock { $0.traces } }

    func install(_ config: inout ClientConfig, level: LogLevel) {
        config.observability.logLevel = level
        config.observability.logger = { [self] r in state.withLock { $0.logs.append(r) } }
        config.observability.tracer = { [self] t in state.withLock { $0.traces.append(t) } }
    }
}
