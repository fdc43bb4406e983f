import Glibc
import Synchronization

/// Record and replay of HTTP exchanges, so tests (in every language) run
/// without a server.
///
/// The cassette is one JSON file:
///
///     { "format": "r2-cassette/1",
///       "interactions": [
///         { "operation": "GetObject",
///           "request":  { "method": "GET", "path": "/bucket/key", "query": "list-type=2",
///                         "headers": [["range", "bytes=0-9"]], "body_size": 0 },
///           "response": { "status": 206, "headers": [["ETag", "\"…\""]],
///                         "body_base64": "…" | "body_file": "NAME.bodies/3.bin", "body_size": 10 },
///           "latency_ms": 2.5 } ] }
///
/// Bodies up to 64 KiB are inline (base64); larger ones are side files next
/// to the cassette. Recording never writes a secret: Authorization,
/// X-Amz-Security-Token, the X-Amz-Signature/Credential/Security-Token query
/// parameters and the signing headers are left out (the secret key itself
/// never reaches the transport). Replay matches by method, path (bucket and
/// key) and the query parameters that matter, serves repeated identical
/// requests in recorded order, and throws `.replayUnmatched` naming the
/// request when nothing matches.
package enum Cassette {
    package static let format = "r2-cassette/1"
    static let inlineLimit = 64 * 1024

    /// Headers that are never written to a cassette.
    static let redactedHeaders: Set<String> = Set(["authorization", "x-amz-security-token", "x-amz-date",
                                                   "x-amz-content-sha256", "user-agent"]).union(SSECustomerKey.secretHeaders)
    /// Query parameters that are never written and never matched on.
    static let redactedQuery: Set<String> = ["x-amz-signature", "x-amz-credential", "x-amz-security-token",
                                             "x-amz-date", "x-amz-algorithm", "x-amz-expires", "x-amz-signedheaders"]

    /// The query in a stable form: auth parameters removed, sorted, encoded.
    static func matchQuery(_ raw: String?) -> String {
        let params = SigV4Signer.parseQueryBytes(raw).filter {
            !redactedQuery.contains(asciiLowercase(String(decoding: $0.0, as: UTF8.self)))
        }
        var out = [UInt8]()
        SigV4Signer.appendCanonicalQuery(params, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func matchKey(method: String, path: String, query: String?) -> String {
        method + " " + path + (matchQuery(query).isEmpty ? "" : "?" + matchQuery(query))
    }
}

// MARK: Recording

/// Wraps a transport and appends every exchange to a cassette file. The file
/// is rewritten after each exchange, so it is complete whenever a call returns.
package final class RecordingTransport: Transport, AsyncTransport {
    private let inner: any Transport
    private let path: String
    private let state = Mutex<(interactions: [JSON], sideFiles: Int)>(([], 0))

    package init(wrapping inner: any Transport, path: String) throws(R2Error) {
        self.inner = inner
        self.path = path
        try FileIO.write(path, Array(JSON.object([("format", .string(Cassette.format)), ("interactions", .array([]))]).serialized().utf8))
    }

    package func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        var tee = TeeSink(inner: sink)
        let start = monotonicNanos()
        defer { sink = tee.inner }
        do {
            try inner.send(request, body: body, sink: &tee)
        } catch {
            tee.capture.discard()
            throw error
        }
        try append(request, bodyLength: body.length, tee.capture, latencyMs: Double(monotonicNanos() - start) / 1e6)
    }

    /// Records an exchange of an asynchronous operation: the inner transport's
    /// transfer with a copy of the response taken as the receiver accepts it.
    package func start(_ request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, on loop: EventLoop,
                       completed: @escaping (R2Error?) -> Void) -> any TransferControl {
        let tee = TeeReceiver(inner: receiver)
        let started = monotonicNanos()
        let async = inner as? any AsyncTransport ?? BlockingTransportOnLoop(inner)
        return async.start(request, body: body, receiver: tee, on: loop) { [self] error in
            if let error {
                tee.capture.discard()
                return completed(error)
            }
            do throws(R2Error) {
                try append(request, bodyLength: body.length, tee.capture, latencyMs: Double(monotonicNanos() - started) / 1e6)
                completed(nil)
            } catch {
                completed(error)
            }
        }
    }

    /// Appends one exchange to the cassette and rewrites the file.
    private func append(_ request: HTTPRequest, bodyLength: UInt64, _ capture: Capture, latencyMs latency: Double) throws(R2Error) {
        capture.close()
        let headers = request.headers.filter { !Cassette.redactedHeaders.contains(asciiLowercase($0.name)) }
        var req: [(String, JSON)] = [("method", .string(request.method)), ("path", .string(request.path))]
        let q = Cassette.matchQuery(request.query)
        if !q.isEmpty { req.append(("query", .string(q))) }
        req.append(("headers", .array(headers.map { .array([.string(asciiLowercase($0.name)), .string($0.value)]) })))
        req.append(("body_size", .number(Double(bodyLength))))
        var resp: [(String, JSON)] = [("status", .number(Double(capture.head.status))),
                                      ("headers", .array(capture.head.headers.map { .array([.string($0.name), .string($0.value)]) }))]
        let bodyBytes = capture.captured
        try state.withLock { (s) throws(R2Error) in
            if bodyBytes.count > Cassette.inlineLimit || capture.spilled != nil {
                s.sideFiles += 1
                let name = Self.basename(path) + ".bodies/\(s.sideFiles).bin"
                let dir = Self.dirname(path)
                _ = mkdir(dir + "/" + Self.basename(path) + ".bodies", 0o755)
                if let spilled = capture.spilled {
                    guard rename(spilled, dir + "/" + name) == 0 else {
                        throw R2Error(.libraryBug, "cannot move the recorded body to \(dir)/\(name)")
                    }
                } else {
                    try FileIO.write(dir + "/" + name, bodyBytes)
                }
                resp.append(("body_file", .string(name)))
            } else if !bodyBytes.isEmpty {
                resp.append(("body_base64", .string(Base64.encode(bodyBytes))))
            }
            resp.append(("body_size", .number(Double(capture.total))))
            let entry = JSON.object([("operation", .string(request.operation.name)), ("request", .object(req)),
                                     ("response", .object(resp)), ("latency_ms", .number((latency * 100).rounded() / 100))])
            s.interactions.append(entry)
            let doc = JSON.object([("format", .string(Cassette.format)), ("interactions", .array(s.interactions))])
            try FileIO.write(path, Array(doc.serialized().utf8))
        }
    }

    static func basename(_ p: String) -> String { p.split(separator: "/").last.map(String.init) ?? p }
    static func dirname(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// A copy of one response: the body in memory up to the inline limit,
    /// then spilled to a temporary file (bounded memory).
    private final class Capture {
        var head = ResponseHead(status: 0, headers: [])
        var captured: [UInt8] = []
        var total = 0
        var spilled: String?
        var file: UnsafeMutablePointer<FILE>?

        func add(_ chunk: UnsafeRawBufferPointer) {
            total += chunk.count
            if file == nil && captured.count + chunk.count > Cassette.inlineLimit {
                var template = Array("/tmp/r2-cassette-XXXXXX".utf8CString)
                let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
                if fd >= 0 {
                    file = fdopen(fd, "wb")
                    spilled = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                    _ = captured.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                    captured = []
                }
            }
            if let file {
                if chunk.count > 0 { fwrite(chunk.baseAddress, 1, chunk.count, file) }
            } else {
                captured.append(contentsOf: chunk)
            }
        }

        func close() {
            if let f = file { fclose(f); file = nil }
        }

        func discard() {
            close()
            if let spilled { unlink(spilled) }
        }
    }

    /// Passes everything through and keeps a copy.
    private struct TeeSink<Inner: ResponseSink>: ResponseSink {
        var inner: Inner
        let capture = Capture()

        init(inner: Inner) { self.inner = inner }

        mutating func head(_ head: ResponseHead) {
            capture.head = head
            inner.head(head)
        }

        mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
            capture.add(chunk)
            return inner.body(chunk)
        }
    }

    /// As TeeSink, for an asynchronous transfer: a paused chunk is copied when it is taken.
    private final class TeeReceiver: ResponseReceiver {
        let inner: any ResponseReceiver
        let capture = Capture()

        init(inner: any ResponseReceiver) { self.inner = inner }

        func head(_ head: ResponseHead) {
            capture.head = head
            inner.head(head)
        }

        func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict {
            let verdict = inner.offer(chunk)
            if verdict == .accepted { capture.add(chunk) }
            return verdict
        }
    }
}

// MARK: Replay

/// Serves responses from a cassette; never touches the network.
package final class ReplayTransport: Transport, AsyncTransport {
    private struct Interaction: @unchecked Sendable {
        let key: String
        let status: Int
        let headers: [(name: String, value: String)]
        let inlineBody: [UInt8]
        let bodyFile: String?
        let latencyMs: Double
    }

    private let interactions: [Interaction]
    private let used: Mutex<[Bool]>
    private let path: String
    private let simulateLatency: Bool

    package convenience init(path: String, simulateLatency: Bool = false) throws(R2Error) {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw R2Error(.config, "cannot read cassette \(path): \(error.message)") }
        try self.init(cassette: bytes, path: path, simulateLatency: simulateLatency)
    }

    /// A cassette's bytes as read from `path` (which names it in errors and
    /// locates its body files); the fuzz harness feeds this directly.
    package init(cassette bytes: [UInt8], path: String, simulateLatency: Bool = false) throws(R2Error) {
        self.path = path
        self.simulateLatency = simulateLatency
        let doc: JSON
        do { doc = try JSON.parse(bytes) } catch { throw R2Error(.config, "cassette \(path) is not valid JSON: \(error.message)") }
        guard doc["format"]?.string == Cassette.format, let items = doc["interactions"]?.array else {
            throw R2Error(.config, "cassette \(path) is not in format \(Cassette.format)")
        }
        var list: [Interaction] = []
        let dir = RecordingTransport.dirname(path)
        for (i, item) in items.enumerated() {
            guard let req = item["request"], let resp = item["response"], let method = req["method"]?.string,
                  let p = req["path"]?.string, let status = resp["status"]?.int else {
                throw R2Error(.config, "cassette \(path): interaction \(i) lacks request/response fields")
            }
            let headers: [(name: String, value: String)] = (resp["headers"]?.array ?? []).compactMap { pair in
                guard let a = pair.array, a.count == 2, let n = a[0].string, let v = a[1].string else { return nil }
                return (n, v)
            }
            var inline: [UInt8] = []
            if let b64 = resp["body_base64"]?.string {
                guard let decoded = Base64.decode(b64) else { throw R2Error(.config, "cassette \(path): interaction \(i) has bad base64") }
                inline = decoded
            }
            list.append(Interaction(key: Cassette.matchKey(method: method, path: p, query: req["query"]?.string),
                                    status: status, headers: headers, inlineBody: inline,
                                    bodyFile: resp["body_file"]?.string.map { dir + "/" + $0 },
                                    latencyMs: item["latency_ms"]?.number ?? 0))
        }
        interactions = list
        used = Mutex([Bool](repeating: false, count: list.count))
    }

    /// The first unused interaction that matches `request`, now used.
    private func take(_ request: HTTPRequest) throws(R2Error) -> Interaction {
        let key = Cassette.matchKey(method: request.method, path: request.path, query: request.query)
        let interactions = self.interactions
        guard let index = used.withLock({ used -> Int? in
            guard let i = interactions.indices.first(where: { !used[$0] && interactions[$0].key == key }) else { return nil }
            used[i] = true
            return i
        }) else {
            throw R2Error(.replayUnmatched, "unmatched request: \(key) (no unused interaction in cassette \(path))")
        }
        return interactions[index]
    }

    package func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        let it = try take(request)
        // Consume the request body as a real transport would (sources see the same reads).
        if case .stream(let length, let read) = body {
            var remaining = length
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { scratch.deallocate() }
            while remaining > 0 {
                let want = Int(min(UInt64(scratch.count), remaining))
                let n = try read(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
                if n <= 0 { throw R2Error(.incompleteBody, "the body source ended \(remaining) bytes early") }
                remaining -= UInt64(n)
            }
        }
        if simulateLatency && it.latencyMs > 0 { usleep(UInt32(min(it.latencyMs * 1000, 60_000_000))) }
        sink.head(ResponseHead(status: it.status, headers: it.headers))
        if let file = it.bodyFile {
            guard let f = fopen(file, "rb") else { throw R2Error(.config, "cassette body file \(file) is missing") }
            defer { fclose(f) }
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
                if n == 0 { break }
                let ok = buffer.withUnsafeBytes { sink.body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                if !ok { throw R2Error(.aborted, "the response body consumer stopped the transfer") }
            }
        } else if !it.inlineBody.isEmpty {
            let ok = it.inlineBody.withUnsafeBytes { sink.body($0) }
            if !ok { throw R2Error(.aborted, "the response body consumer stopped the transfer") }
        }
    }

    /// Serves an exchange of an asynchronous operation on `loop`, with the
    /// same reads of the body and the same chunks as `send`; the recorded
    /// latency (when simulated) is a timer, and a sink or source may pause it.
    package func start(_ request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, on loop: EventLoop,
                       completed: @escaping (R2Error?) -> Void) -> any TransferControl {
        let transfer = ReplayTransfer(body: body, receiver: receiver, loop: loop, completed: completed)
        loop.submit { [self] in
            do throws(R2Error) {
                transfer.interaction = try take(request)
                transfer.latencyMs = simulateLatency ? transfer.interaction!.latencyMs : 0
                transfer.run()
            } catch {
                transfer.abort(error)
            }
        }
        return transfer
    }

    /// One replayed exchange of an asynchronous operation; loop thread only.
    private final class ReplayTransfer: TransferControl {
        private enum Phase { case reading, waiting, delivering, over }
        var interaction: Interaction?
        var latencyMs = 0.0
        private let body: RequestBody
        private let receiver: any ResponseReceiver
        private let loop: EventLoop
        private var completed: ((R2Error?) -> Void)?
        private var phase = Phase.reading
        private var read: UInt64 = 0
        private var paused = false
        private var file: UnsafeMutablePointer<FILE>?
        /// The chunk being delivered (kept while the sink pauses), and whether the inline body went.
        private var chunk: [UInt8] = []
        private var inlineSent = false
        private var timer: UInt64?
        private var scratch: UnsafeMutableRawBufferPointer?

        deinit { scratch?.deallocate() }

        init(body: RequestBody, receiver: any ResponseReceiver, loop: EventLoop, completed: @escaping (R2Error?) -> Void) {
            self.body = body
            self.receiver = receiver
            self.loop = loop
            self.completed = completed
        }

        func run() {
            guard let it = interaction, completed != nil else { return }
            do throws(R2Error) {
                while !paused {
                    switch phase {
                    case .reading:
                        guard case .stream(let length, let readBody) = body, read < length else {
                            phase = .waiting
                            if latencyMs > 0 {
                                timer = loop.schedule(afterNanos: UInt64(min(latencyMs, 60_000) * 1e6)) { [self] in
                                    timer = nil
                                    phase = .delivering
                                    receiver.head(ResponseHead(status: it.status, headers: it.headers))
                                    run()
                                }
                                return
                            }
                            continue
                        }
                        if scratch == nil { scratch = .allocate(byteCount: 64 * 1024, alignment: 16) }
                        let want = Int(min(64 * 1024, length - read))
                        let n = try readBody(UnsafeMutableRawBufferPointer(rebasing: scratch![0..<want]))
                        if n == RequestBody.readPaused { paused = true; return }
                        if n <= 0 { throw R2Error(.incompleteBody, "the body source ended \(length - read) bytes early") }
                        read += UInt64(n)
                    case .waiting:
                        phase = .delivering
                        receiver.head(ResponseHead(status: it.status, headers: it.headers))
                    case .delivering:
                        if chunk.isEmpty {
                            if let path = it.bodyFile {
                                if file == nil {
                                    guard let f = fopen(path, "rb") else { throw R2Error(.config, "cassette body file \(path) is missing") }
                                    file = f
                                }
                                chunk = [UInt8](repeating: 0, count: 256 * 1024)
                                let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                                chunk.removeLast(chunk.count - n)
                            } else if !inlineSent {
                                inlineSent = true
                                chunk = it.inlineBody
                            }
                            if chunk.isEmpty { return finish(nil) }
                        }
                        switch chunk.withUnsafeBytes({ receiver.offer($0) }) {
                        case .accepted: chunk = []
                        case .paused: paused = true
                        case .aborted: throw R2Error(.aborted, "the response body consumer stopped the transfer")
                        }
                    case .over:
                        return
                    }
                }
            } catch {
                finish(error)
            }
        }

        private func finish(_ error: R2Error?) {
            phase = .over
            if let f = file { fclose(f); file = nil }
            if let timer { loop.cancelTimer(timer); self.timer = nil }
            guard let completed else { return }
            self.completed = nil
            completed(error)
        }

        func abort(_ error: R2Error) { finish(error) }

        func unpause() {
            guard paused else { return }
            paused = false
            run()
        }
    }

    /// Interactions not served yet (a test can assert the cassette was used up).
    package var unusedCount: Int { used.withLock { $0.filter { !$0 }.count } }
}

/// Whole-file reads and atomic writes, without Foundation.
package enum FileIO {
    package static func read(_ path: String) throws(R2Error) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw R2Error(.config, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    package static func write(_ path: String, _ bytes: [UInt8]) throws(R2Error) {
        let tmp = path + ".tmp"
        guard let f = fopen(tmp, "wb") else { throw R2Error(.config, "cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        guard n == bytes.count, rename(tmp, path) == 0 else { throw R2Error(.config, "cannot write \(path)") }
    }
}
