import Synchronization

/// One HTTP request as the services build it: already signed, path-style.
package struct HTTPRequest: Sendable {
    package var method: String
    /// `scheme://host[:port]`
    package var baseURL: String
    /// The request-target path as sent (percent-encoded).
    package var path: String
    /// The raw query string, or nil.
    package var query: String?
    package var headers: [(name: String, value: String)]
    /// What the operation is, for logs, metrics and cassettes ("GetObject").
    package var operation: String
    /// Requests that move large bodies get the transfer timeout instead of the request timeout.
    package var isLargeTransfer = false
    /// Stops the transfer (`.cancelled`) as soon as it is cancelled, even mid-body.
    package var cancellation: Cancellation?
    /// This attempt's whole-request timeout (0: none); nil leaves it to the transport's options.
    package var timeoutMs: UInt32? = nil
    /// A body of many MiB: the transport moves it through larger buffers (fewer
    /// system calls and callbacks than libcurl's default 16 KiB receive buffer).
    package var isBulkBody = false

    package var url: String { query.map { baseURL + path + "?" + $0 } ?? baseURL + path }

    package func header(_ name: String) -> String? {
        headers.first { asciiEqualsIgnoringCase($0.name, name) }?.value
    }
}

/// Status and headers of a response.
package struct ResponseHead: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]

    package init(status: Int, headers: [(name: String, value: String)]) {
        self.status = status
        self.headers = headers
    }

    package func header(_ name: String) -> String? {
        headers.first { asciiEqualsIgnoringCase($0.name, name) }?.value
    }

    /// `x-amz-request-id`, else `cf-ray`, else "".
    package var requestID: String { header("x-amz-request-id") ?? header("cf-ray") ?? "" }
}

/// Where a request body comes from. Always of known length: R2 refuses
/// bodies without Content-Length, and r2 never sends aws-chunked.
package enum RequestBody {
    case empty
    case bytes(UnsafeRawBufferPointer)
    /// `read` fills the buffer and returns the byte count, 0 at the end, or
    /// throws to abort. It is called on the thread that called `send`.
    case stream(length: UInt64, read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int)

    package var length: UInt64 {
        switch self {
        case .empty: return 0
        case .bytes(let b): return UInt64(b.count)
        case .stream(let length, _): return length
        }
    }
}

/// Receives a response: the head once, then the body in chunks as they arrive.
/// Returning false from `body` aborts the transfer.
package protocol ResponseSink {
    mutating func head(_ head: ResponseHead)
    mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool
}

/// Collects a whole response body in memory (bounded by `limit`).
package struct BufferSink: ResponseSink {
    package var head = ResponseHead(status: 0, headers: [])
    package var bytes: [UInt8] = []
    package var limit: Int
    package var overflowed = false

    package init(limit: Int = Int.max) { self.limit = limit }

    package mutating func head(_ head: ResponseHead) { self.head = head }

    package mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if bytes.count + chunk.count > limit { overflowed = true; return false }
        bytes.append(contentsOf: chunk)
        return true
    }
}

/// The one seam between the services and the network. Implementations: the
/// libcurl transport, the recording transport (wraps another) and the replay
/// transport (serves a cassette). `send` blocks the calling thread; callbacks
/// (body source and sink) run on that thread.
package protocol Transport: Sendable {
    /// Sends `request` with `body`, delivering the response to `sink`.
    /// - Throws: network errors (`.connectionFailed`, `.timeout`, `.tls`,
    ///   `.streamInterrupted`), `.aborted` when the sink or source stopped it,
    ///   `.replayUnmatched` for the replay transport. HTTP error statuses are
    ///   not thrown: they reach the sink like any response.
    func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error)
}

/// A cancel switch for long calls, usable from any thread.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks every call holding this token to stop; they fail with `.cancelled`.
    public func cancel() { flag.store(true, ordering: .releasing) }

    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    package func check() throws(R2Error) {
        if isCancelled { throw R2Error(.cancelled, "cancelled") }
    }
}
