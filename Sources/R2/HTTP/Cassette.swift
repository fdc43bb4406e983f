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
package final class RecordingTransport: Transport {
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
            if let f = tee.file { fclose(f) }
            if let spilled = tee.spilled { unlink(spilled) }
            throw error
        }
        if let f = tee.file { fclose(f); tee.file = nil }
        let latency = Double(monotonicNanos() - start) / 1e6
        let headers = request.headers.filter { !Cassette.redactedHeaders.contains(asciiLowercase($0.name)) }
        var req: [(String, JSON)] = [("method", .string(request.method)), ("path", .string(request.path))]
        let q = Cassette.matchQuery(request.query)
        if !q.isEmpty { req.append(("query", .string(q))) }
        req.append(("headers", .array(headers.map { .array([.string(asciiLowercase($0.name)), .string($0.value)]) })))
        req.append(("body_size", .number(Double(body.length))))
        var resp: [(String, JSON)] = [("status", .number(Double(tee.head.status))),
                                      ("headers", .array(tee.head.headers.map { .array([.string($0.name), .string($0.value)]) }))]
        let bodyBytes = tee.captured
        let interaction: JSON = try state.withLock { (s) throws(R2Error) -> JSON in
            if bodyBytes.count > Cassette.inlineLimit || tee.spilled != nil {
                s.sideFiles += 1
                let name = Self.basename(path) + ".bodies/\(s.sideFiles).bin"
                let dir = Self.dirname(path)
                _ = mkdir(dir + "/" + Self.basename(path) + ".bodies", 0o755)
                if let spilled = tee.spilled {
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
            resp.append(("body_size", .number(Double(tee.total))))
            let entry = JSON.object([("operation", .string(request.operation)), ("request", .object(req)),
                                     ("response", .object(resp)), ("latency_ms", .number((latency * 100).rounded() / 100))])
            s.interactions.append(entry)
            let doc = JSON.object([("format", .string(Cassette.format)), ("interactions", .array(s.interactions))])
            try FileIO.write(path, Array(doc.serialized().utf8))
            return entry
        }
        _ = interaction
    }

    static func basename(_ p: String) -> String { p.split(separator: "/").last.map(String.init) ?? p }
    static func dirname(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// Passes everything through and keeps a copy of the body: in memory up
    /// to the inline limit, then spilled to a temporary file (bounded memory).
    private struct TeeSink<Inner: ResponseSink>: ResponseSink {
        var inner: Inner
        var head = ResponseHead(status: 0, headers: [])
        var captured: [UInt8] = []
        var total = 0
        var spilled: String?
        var file: UnsafeMutablePointer<FILE>?

        init(inner: Inner) { self.inner = inner }

        mutating func head(_ head: ResponseHead) {
            self.head = head
            inner.head(head)
        }

        mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
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
            let ok = inner.body(chunk)
            return ok
        }
    }
}

// MARK: Replay

/// Serves responses from a cassette; never touches the network.
package final class ReplayTransport: Transport {
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

    package func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        let key = Cassette.matchKey(method: request.method, path: request.path, query: request.query)
        let interactions = self.interactions
        guard let index = used.withLock({ used -> Int? in
            guard let i = interactions.indices.first(where: { !used[$0] && interactions[$0].key == key }) else { return nil }
            used[i] = true
            return i
        }) else {
            throw R2Error(.replayUnmatched, "unmatched request: \(key) (no unused interaction in cassette \(path))")
        }
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
        let it = interactions[index]
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
