import CCurl
import Glibc
import Synchronization

/// The libcurl transport: a pool of easy handles, each keeping its own
/// keep-alive connections. A request borrows a handle, runs
/// `curl_easy_perform` on the caller's thread, and returns it. Many threads
/// can be in flight at once (handles beyond the pool size are created on
/// demand and closed after use), and callbacks run on the calling thread,
/// which is what C, Python and Node callers expect.
package final class CurlTransport: Transport, AsyncTransport {
    package struct Options: Sendable {
        package var connectTimeoutMs: UInt32 = 10_000
        package var requestTimeoutMs: UInt32 = 60_000
        package var transferTimeoutMs: UInt32 = 0
        package var poolSize: Int = 20
        /// A request fails as a timeout when no byte moved for this long, or
        /// when it moved under `stallMinBytesPerSecond` for this long.
        package var stallTimeoutMs: UInt32 = 60_000
        /// The minimum rate (libcurl's low-speed limit): a server trickling
        /// bytes slower than this for `stallTimeoutMs` fails the attempt.
        package var stallMinBytesPerSecond: UInt32 = 1024
        package var caBundlePath: String?
        package init() {}
    }

    private let options: Options
    static let bulkReceiveBufferBytes = 512 * 1024
    static let bulkSendBufferBytes = 128 * 1024
    /// Bodies in memory up to this size are sent with the head (curl's limit for that).
    static let inlineBodyBytes = 64 * 1024
    /// An idle easy handle; only one thread holds it at a time.
    private struct Handle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }
    private let idle = Mutex<[Handle]>([])

    static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    package init(options: Options) throws(R2Error) {
        guard Self.globalInit else { throw R2Error(.libraryBug, "curl_global_init failed") }
        self.options = options
    }

    deinit {
        for h in idle.withLock({ $0 }) { curl_easy_cleanup(h.raw) }
    }

    private func acquire() throws(R2Error) -> UnsafeMutableRawPointer {
        if let h = idle.withLock({ $0.popLast() }) { return h.raw }
        guard let h = curl_easy_init() else { throw R2Error(.libraryBug, "curl_easy_init failed") }
        return h
    }

    private func release(_ h: UnsafeMutableRawPointer, reusable: Bool) {
        let handle = Handle(raw: h)
        let limit = options.poolSize
        let kept: Bool = reusable && idle.withLock { pool in
            guard pool.count < limit else { return false }
            pool.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(h) }
    }

    package func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        let h = try acquire()
        var reusable = true
        defer { release(h, reusable: reusable) }
        curl_easy_reset(h)
        let box = SinkBox(sink)
        defer { sink = box.sink }
        let ctx = TransferContext(request: request, body: body, receiver: box, pausable: false)
        let setup = configure(h, ctx)
        defer { setup.release() }
        let code = curl_easy_perform(h)
        if let error = outcome(h, ctx, code: code, detail: setup.detail) {
            reusable = false
            throw error
        }
    }

    /// Starts `request` on `loop` (see `AsyncTransport`): the loop gives it an
    /// easy handle from its own pool when one of its transfer slots is free.
    package func start(_ request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, on loop: EventLoop,
                       completed: @escaping (R2Error?) -> Void) -> any TransferControl {
        let transfer = CurlTransfer(transport: self, loop: loop,
                                    context: TransferContext(request: request, body: body, receiver: receiver, pausable: true),
                                    completed: completed)
        loop.admit(transfer)
        return transfer
    }

    /// What `configure` allocated for one transfer, released when it ends.
    struct Setup {
        let headers: UnsafeMutablePointer<curl_slist>?
        let errorBuffer: UnsafeMutablePointer<CChar>
        let user: Unmanaged<TransferContext>
        var detail: String { String(cString: errorBuffer) }
        func release() {
            curl_slist_free_all(headers)
            errorBuffer.deallocate()
            user.release()
        }
    }

    /// Sets every option of one transfer on `h` (a reset handle).
    func configure(_ h: UnsafeMutableRawPointer, _ ctx: TransferContext) -> Setup {
        let request = ctx.request
        let body = ctx.body
        // A small body in memory goes out with the head in one send (curl sends
        // POSTFIELDS of up to 64 KiB that way); through the read callback it takes
        // a second send, and on the server a second read. Only for an unconditional
        // PUT: curl re-sends a body it can rewind on its own when a reused connection
        // dies before the answer, and only a request that may run twice (not a
        // conditional PUT, not Complete or Create) can be sent that way.
        var inlineBody: UnsafeRawBufferPointer? = nil
        if request.method == "PUT", case .bytes(let b) = body, b.count > 0, b.count <= Self.inlineBodyBytes,
           !request.headers.contains(where: { isConditionalHeader($0.name) }) {
            inlineBody = b
        }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        var hasContentType = false
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name);" : "\(name): \(value)")
            if asciiEqualsIgnoringCase(name, "content-type") { hasContentType = true }
        }
        // Without this, curl would add its form default to an inline body.
        if inlineBody != nil && !hasContentType { headerList = curl_slist_append(headerList, "Content-Type:") }
        // R2 does not support 100-continue; bodies always have a Content-Length.
        headerList = curl_slist_append(headerList, "Expect:")
        headerList = curl_slist_append(headerList, "Accept:")

        let url = request.url
        _ = r2_curl_setopt_str(h, CURLOPT_URL, url)
        // The path is sent exactly as signed: no "/./" or "/../" squashing.
        _ = r2_curl_setopt_long(h, CURLOPT_PATH_AS_IS, 1)
        _ = r2_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = r2_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
        _ = r2_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = r2_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = r2_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        _ = r2_curl_setopt_long(h, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        _ = r2_curl_setopt_long(h, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        // R2 never redirects: a 3xx is an answer, never followed (no Authorization to another host).
        _ = r2_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        if let ca = options.caBundlePath { _ = r2_curl_setopt_str(h, CURLOPT_CAINFO, ca) }
        _ = r2_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeoutMs))
        let timeout = request.timeoutMs ?? (request.isLargeTransfer ? options.transferTimeoutMs : options.requestTimeoutMs)
        if timeout > 0 { _ = r2_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeout)) }
        _ = r2_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
        if request.isBulkBody {
            // Downloads: libcurl's largest receive buffer (its default, 16 KiB,
            // costs a recv, a poll and a write per 16 KiB). Uploads: twice its
            // default send buffer; it is filled by every worker at once, so it
            // stays small (the part is read from its source into it).
            if request.method == "GET" {
                _ = r2_curl_setopt_long(h, CURLOPT_BUFFERSIZE, Self.bulkReceiveBufferBytes)
            } else {
                _ = r2_curl_setopt_long(h, CURLOPT_UPLOAD_BUFFERSIZE, Self.bulkSendBufferBytes)
            }
        }

        switch request.method {
        case "GET": break
        case "HEAD": _ = r2_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        case "PUT", "POST":
            if let b = inlineBody, let base = b.baseAddress {
                _ = r2_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(b.count))
                _ = r2_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                _ = r2_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, "PUT")
                break
            }
            _ = r2_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            _ = r2_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.length))
            if request.method == "POST" { _ = r2_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, "POST") }
        default:
            _ = r2_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, request.method)
        }

        let unmanaged = Unmanaged.passRetained(ctx)
        let user = unmanaged.toOpaque()
        _ = r2_curl_setopt_ptr(h, CURLOPT_READDATA, user)
        _ = r2_curl_setopt_datacb(h, CURLOPT_READFUNCTION, curlRead)
        _ = r2_curl_setopt_ptr(h, CURLOPT_WRITEDATA, user)
        _ = r2_curl_setopt_datacb(h, CURLOPT_WRITEFUNCTION, curlWrite)
        _ = r2_curl_setopt_ptr(h, CURLOPT_HEADERDATA, user)
        _ = r2_curl_setopt_datacb(h, CURLOPT_HEADERFUNCTION, curlHeader)
        if options.stallTimeoutMs > 0 {
            // Two checks on every request: no byte at all for the stall time
            // (the progress callback: quick to see a dead connection), and under
            // the minimum rate for the stall time (curl's low-speed limit, which
            // averages over a few seconds: it catches a server trickling 1 byte/s).
            ctx.stallNanos = UInt64(options.stallTimeoutMs) * 1_000_000
            ctx.lastMoved = monotonicNanos()
            if options.stallMinBytesPerSecond > 0 {
                _ = r2_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, Int(options.stallMinBytesPerSecond))
                _ = r2_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, Int((options.stallTimeoutMs + 999) / 1000))
            }
        }
        // The progress callback watches for stalls and for cancellation.
        if ctx.stallNanos > 0 || request.cancellation != nil {
            _ = r2_curl_setopt_ptr(h, CURLOPT_XFERINFODATA, user)
            _ = r2_curl_setopt_xferinfocb(h, CURLOPT_XFERINFOFUNCTION, curlProgress)
            _ = r2_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = r2_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer)
        return Setup(headers: headerList, errorBuffer: errorBuffer, user: unmanaged)
    }

    /// The error a finished transfer ended with, or nil; delivers the head of a bodiless answer.
    func outcome(_ h: UnsafeMutableRawPointer, _ ctx: TransferContext, code: CURLcode, detail: String) -> R2Error? {
        _ = r2_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, nil)
        let request = ctx.request
        if let error = ctx.sourceError { return error }
        if code == CURLE_ABORTED_BY_CALLBACK, ctx.request.cancellation?.isCancelled == true {
            return R2Error(.cancelled, "\(request.operation) cancelled")
        }
        if ctx.stalled {
            return R2Error(.timeout, "\(request.method) \(request.baseURL): no data moved for \(options.stallTimeoutMs) ms (stalled)")
        }
        if let problem = ctx.headerProblem {
            return R2Error(.malformedResponse, "\(request.method) \(request.baseURL): \(problem)", httpStatus: ctx.status)
        }
        if ctx.sinkAborted { return R2Error(.aborted, "the response body consumer stopped the transfer") }
        guard code == CURLE_OK else {
            if code == CURLE_OPERATION_TIMEDOUT && detail.contains("too slow") {
                return R2Error(.timeout, "\(request.method) \(request.baseURL): under \(options.stallMinBytesPerSecond) bytes/s for "
                               + "\(options.stallTimeoutMs) ms (stalled)")
            }
            return Self.mapError(code, detail: detail, request: request, gotHead: ctx.headDelivered)
        }
        if !ctx.headDelivered {
            var status = 0
            _ = r2_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
            ctx.deliverHead(status: status)
        }
        return nil
    }

    private static func mapError(_ code: CURLcode, detail: String, request: HTTPRequest, gotHead: Bool) -> R2Error {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let message = "\(request.method) \(request.baseURL): \(text)"
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return R2Error(.connectionFailed, message)
        case CURLE_OPERATION_TIMEDOUT:
            return R2Error(.timeout, message)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED:
            return R2Error(.tls, message)
        case CURLE_OUT_OF_MEMORY:
            // curl refuses a response header line over 100 KiB with this code, before our callback sees it.
            return R2Error(.malformedResponse, "\(request.method) \(request.baseURL): the response head could not be read "
                           + "(a header line larger than 100 KiB, or out of memory)")
        case CURLE_PARTIAL_FILE:
            return R2Error(.incompleteBody, message)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return gotHead ? R2Error(.streamInterrupted, message) : R2Error(.connectionFailed, message)
        case CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR, CURLE_READ_ERROR:
            return R2Error(.aborted, message)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return R2Error(.config, message)
        default:
            return R2Error(.connectionFailed, message)
        }
    }
}

/// The state one transfer shares with curl's C callbacks.
final class TransferContext {
    let request: HTTPRequest
    let body: RequestBody
    var bodyOffset = 0
    let receiver: any ResponseReceiver
    /// An asynchronous transfer: its sink and source may pause it.
    let pausable: Bool
    var status = 0
    var headers: [(name: String, value: String)] = []
    /// Bytes of response head seen (all status lines included), and why it was refused.
    var headerBytes = 0
    var headerProblem: String?
    var headDelivered = false
    var sourceError: R2Error?
    var sinkAborted = false
    /// Paused by the sink or the source: the stall check does not count it.
    var paused = false
    /// Stall detection (0: off): when bytes last moved, and how many had.
    var stallNanos: UInt64 = 0
    var lastMoved: UInt64 = 0
    var lastTotal: curl_off_t = 0
    var stalled = false

    init(request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, pausable: Bool) {
        self.request = request
        self.body = body
        self.receiver = receiver
        self.pausable = pausable
    }

    func deliverHead(status: Int) {
        headDelivered = true
        receiver.head(ResponseHead(status: status, headers: headers))
    }
}

/// libcurl's "pause this transfer" return of a read or write callback.
private let curlPause = 0x10000001

private let curlRead: r2_curl_data_cb = { buffer, size, count, user in
    let ctx = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let capacity = size * count
    switch ctx.body {
    case .empty:
        return 0
    case .bytes(let bytes):
        let n = min(capacity, bytes.count - ctx.bodyOffset)
        if n > 0 { memcpy(buffer!, bytes.baseAddress! + ctx.bodyOffset, n) }
        ctx.bodyOffset += n
        return n
    case .stream(let length, let read):
        let remaining = Int(length) - ctx.bodyOffset
        if remaining <= 0 { return 0 }
        let want = min(capacity, remaining)
        do throws(R2Error) {
            let n = try read(UnsafeMutableRawBufferPointer(start: buffer, count: want))
            if n == RequestBody.readPaused {
                guard ctx.pausable else { throw R2Error(.aborted, "the body source paused a blocking call") }
                ctx.paused = true
                return curlPause
            }
            if n == 0 {
                ctx.sourceError = R2Error(.incompleteBody, "the body source ended after \(ctx.bodyOffset) of \(length) bytes")
                return Int(CURL_READFUNC_ABORT)
            }
            ctx.bodyOffset += min(n, want)
            return min(n, want)
        } catch {
            ctx.sourceError = error
            return Int(CURL_READFUNC_ABORT)
        }
    }
}

private let curlWrite: r2_curl_data_cb = { data, size, count, user in
    let ctx = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    if !ctx.headDelivered { ctx.deliverHead(status: ctx.status) }
    switch ctx.receiver.offer(UnsafeRawBufferPointer(start: data, count: n)) {
    case .accepted: return n
    case .paused where ctx.pausable:
        ctx.paused = true
        return curlPause
    case .paused, .aborted:
        ctx.sinkAborted = true
        return 0
    }
}

/// Polled by curl about once a second and on every chunk: non-zero stops the transfer.
private let curlProgress: r2_curl_xferinfo_cb = { user, _, downloaded, _, uploaded in
    let ctx = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    if ctx.request.cancellation?.isCancelled == true { return 1 }
    guard ctx.stallNanos > 0 else { return 0 }
    let now = monotonicNanos()
    if downloaded + uploaded != ctx.lastTotal || ctx.paused {
        ctx.lastTotal = downloaded + uploaded
        ctx.lastMoved = now
    } else if now - ctx.lastMoved > ctx.stallNanos {
        ctx.stalled = true
        return 1
    }
    return 0
}

let maxResponseHeadBytes = 256 * 1024
let maxResponseHeaders = 1000

private let curlHeader: r2_curl_data_cb = { data, size, count, user in
    let ctx = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    let line = UnsafeRawBufferPointer(start: data, count: n)
    // A hostile server cannot grow the head without bound (R2's are a few KiB,
    // user metadata at most 8 KiB), nor slip a NUL or control byte into a value.
    ctx.headerBytes += n
    if ctx.headerBytes > maxResponseHeadBytes || ctx.headers.count >= maxResponseHeaders {
        ctx.headerProblem = "the response head is larger than \(maxResponseHeadBytes) bytes or \(maxResponseHeaders) headers"
        return 0
    }
    var end = n
    while end > 0, line[end - 1] == 0x0d || line[end - 1] == 0x0a { end -= 1 }
    for i in 0..<end {
        let c = line[i]
        if (c < 0x20 && c != 0x09) || c == 0x7f {
            ctx.headerProblem = "a response header contains a control character"
            return 0
        }
    }
    switch HeaderLine.parse(line) {
    case .status(let status):
        // A new status line (after a redirect or an interim 1xx): start over.
        ctx.headers.removeAll()
        ctx.status = status
    case .field(let name, let value): ctx.headers.append((name, value))
    case .other: break
    }
    return n
}

/// A precondition header: a request carrying one must not be re-sent blindly.
func isConditionalHeader(_ name: String) -> Bool {
    asciiEqualsIgnoringCase(name, "if-match") || asciiEqualsIgnoringCase(name, "if-none-match")
        || asciiEqualsIgnoringCase(name, "if-modified-since") || asciiEqualsIgnoringCase(name, "if-unmodified-since")
}

/// One line of a response head as curl hands it over (CRLF included).
enum HeaderLine: Equatable {
    /// `HTTP/x 200 OK`: the status code, 0 when it is not a number.
    case status(Int)
    /// The name lower-cased (ASCII); invalid UTF-8 is repaired, as in the value.
    case field(name: String, value: String)
    /// The blank line that ends the head, or a line without a colon.
    case other

    static func parse(_ line: UnsafeRawBufferPointer) -> HeaderLine {
        if line.starts(with: "HTTP/".utf8) {
            let parts = line.split(separator: 0x20, maxSplits: 2)
            return .status(parts.count >= 2 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0)
        }
        var colon = 0
        while colon < line.count && line[colon] != 0x3a { colon += 1 }
        guard colon < line.count else { return .other }
        // Names lower-cased here, once: every reader compares them without case.
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon { out[i] = asciiLower(line[i]) }
            return colon
        }
        var start = colon + 1, end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x0d || line[end - 1] == 0x0a || line[end - 1] == 0x20 { end -= 1 }
        return .field(name: name, value: String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self))
    }
}

/// One asynchronous curl transfer, owned by its loop (every method runs on
/// the loop's thread): waiting for a slot, then on an easy handle in the
/// loop's multi handle, then over (`completed` has run).
final class CurlTransfer: TransferControl, LoopTransfer {
    private let transport: CurlTransport
    private let loop: EventLoop
    private let context: TransferContext
    private var completed: ((R2Error?) -> Void)?
    private var setup: CurlTransport.Setup?
    private var easy: UnsafeMutableRawPointer?

    init(transport: CurlTransport, loop: EventLoop, context: TransferContext, completed: @escaping (R2Error?) -> Void) {
        self.transport = transport
        self.loop = loop
        self.context = context
        self.completed = completed
    }

    func attach(_ easy: UnsafeMutableRawPointer) {
        self.easy = easy
        setup = transport.configure(easy, context)
    }

    func ended(_ code: CURLcode) -> Bool {
        guard let easy, let setup else { return false }
        let error = transport.outcome(easy, context, code: code, detail: setup.detail)
        finish(error)
        return error == nil
    }

    private func finish(_ error: R2Error?) {
        setup?.release()
        setup = nil
        easy = nil
        guard let completed else { return }
        self.completed = nil
        completed(error)
    }

    func abort(_ error: R2Error) {
        guard completed != nil else { return }
        loop.detach(self)
        finish(error)
    }

    func unpause() {
        guard context.paused, let easy else { return }
        context.paused = false
        context.lastMoved = monotonicNanos()
        _ = curl_easy_pause(easy, 0)  // CURLPAUSE_CONT
    }
}
