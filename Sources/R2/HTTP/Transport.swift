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
    /// What the operation is (logs, metrics and cassettes use its name, "GetObject").
    package var operation: Operation
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
    /// throws to abort. It is called on the thread that called `send` (or, in
    /// an asynchronous transfer, on its engine thread, where it may also return
    /// `RequestBody.readPaused`: no data yet, until the operation is resumed).
    case stream(length: UInt64, read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int)

    /// What an asynchronous stream's `read` returns for "no data yet" (pause).
    package static let readPaused = Int.min

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
    /// As `body`, for an asynchronous transfer, which can also be paused: the
    /// chunk is then not taken, and comes again when the operation resumes.
    mutating func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict
}

/// What a sink did with a chunk.
package enum SinkVerdict {
    case accepted
    /// Not taken: deliver it again after the operation resumes.
    case paused
    case aborted
}

extension ResponseSink {
    package mutating func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict { body(chunk) ? .accepted : .aborted }
}

/// A response's receiver as a transport holds it while the transfer runs
/// (a reference, so an asynchronous transfer can deliver to it later).
package protocol ResponseReceiver: AnyObject {
    func head(_ head: ResponseHead)
    func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict
}

/// A sink value held in a box for the length of one transfer.
package final class SinkBox<S: ResponseSink>: ResponseReceiver {
    package var sink: S
    package init(_ sink: S) { self.sink = sink }
    package func head(_ head: ResponseHead) { sink.head(head) }
    package func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict { sink.offer(chunk) }
}

/// Adapts a receiver to a blocking transport's sink (a pause stops the transfer).
struct ReceiverSink: ResponseSink {
    let receiver: any ResponseReceiver
    mutating func head(_ head: ResponseHead) { receiver.head(head) }
    mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool { receiver.offer(chunk) == .accepted }
}

/// Collects a whole response body in memory (bounded by `limit`).
package struct BufferSink: ResponseSink {
    package var head = ResponseHead(status: 0, headers: [])
    package var bytes: [UInt8] = []
    package var limit: Int
    package var overflowed = false

    package init(limit: Int = Int.max) { self.limit = limit }

    package mutating func head(_ head: ResponseHead) {
        self.head = head
        // The body arrives in pieces (16 KiB from libcurl): room for all of it
        // at once, so that it is not copied again each time the array grows.
        if let length = head.header("content-length").flatMap({ Int($0) }), length > 0, length <= limit {
            bytes.reserveCapacity(length)
        }
    }

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

/// The asynchronous side of a transport: starts a transfer on an engine
/// loop and reports its end once, on that loop's thread. The receiver and
/// the body's callbacks run on that thread too.
package protocol AsyncTransport: Sendable {
    /// Starts `request`; `completed` runs exactly once on `loop`'s thread, with
    /// nil or the error (as `Transport.send` would throw it). Called on `loop`'s thread.
    func start(_ request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, on loop: EventLoop,
               completed: @escaping (R2Error?) -> Void) -> any TransferControl
}

/// A transfer in flight, driven from its loop's thread.
package protocol TransferControl: AnyObject {
    /// Ends the transfer now with `error` (its `completed` runs with it).
    func abort(_ error: R2Error)
    /// Continues a transfer its sink or source paused.
    func unpause()
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
