import Synchronization

/// Bodies and listings of the async API as `AsyncSequence`s, with typed
/// errors (`R2Error`) and bounded memory: a streamed GET holds at most about
/// `bufferBytes` and pauses the transfer (libcurl's pause, on the engine)
/// while its consumer is behind; a streamed PUT pauses the transfer while its
/// source has nothing yet, and suspends the source while its buffer is full;
/// a listing holds one page.
extension R2Client {
    /// Streams an object: returns once the response's head is in (the
    /// object's metadata), with the body as an `AsyncSequence` of chunks that
    /// arrive while it is read. A consumer slower than the network pauses the
    /// transfer when `bufferBytes` are waiting, and resumes it as it catches
    /// up. Cancelling the task (or dropping the body unread) cancels the request.
    /// The end of the body is checked (length, and checksum with
    /// `validateChecksum`): a failure is thrown by the body's last `next()`.
    public func getObjectStream(bucket: String, key: String, options: GetOptions = GetOptions(),
                                bufferBytes: Int = 1 << 20) async throws(R2Error) -> ObjectStream {
        guard bufferBytes > 0 else { throw R2Error.invalidArgument("bufferBytes is \(bufferBytes); it must be positive") }
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        let channel = DownloadChannel(op: op, limit: bufferBytes)
        let get = try getObjectExchange(bucket: bucket, key: key, options: options, write: channel.offer)
        let owner = DownloadOwner(channel)
        start(get.tappingHead(channel.head), op: op) { channel.finish($0) }
        let info = try await channel.awaitHead()
        return ObjectStream(info: info, body: ObjectBody(owner: owner))
    }

    /// The transfer manager's download as a stream: HEAD, then one GET below
    /// the threshold, else ranged GETs (`concurrency` at a time) on the
    /// engine, delivered in order as the body's chunks (a whole part per chunk
    /// above the threshold). A consumer that is behind pauses the delivery
    /// when `bufferBytes` wait. Failures (also those before the first byte)
    /// are thrown by the body's `next()`; dropping the body cancels the download.
    public func downloadStream(bucket: String, key: String, options: TransferOptions = TransferOptions(),
                               bufferBytes: Int = 1 << 20) throws(R2Error) -> ObjectBody {
        guard bufferBytes > 0 else { throw R2Error.invalidArgument("bufferBytes is \(bufferBytes); it must be positive") }
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        let channel = DownloadChannel(op: op, limit: bufferBytes)
        let owner = DownloadOwner(channel)
        try startDownloadStream(bucket: bucket, key: key, options: options, op: op, write: channel.offer) { channel.finish($0) }
        return ObjectBody(owner: owner)
    }

    /// PutObject of exactly `length` bytes from an `AsyncSequence` of chunks,
    /// sent as they come (UNSIGNED-PAYLOAD; a checksum needs
    /// `options.checksumValue`). At most about `bufferBytes` wait between the
    /// source and the network. The source is read once: a failed attempt is
    /// not retried once any of it was sent (as the blocking put of a one-shot stream).
    /// - Throws: `.incompleteBody` when the source ends early or gives more than
    ///   `length`; `.aborted` when it throws (with its error's description).
    @discardableResult
    public func putObject<Body: AsyncSequence>(bucket: String, key: String, length: UInt64, body: Body,
                                               options: PutOptions = PutOptions(), bufferBytes: Int = 1 << 20)
        async throws(R2Error) -> ObjectInfo where Body.Element: Collection, Body.Element.Element == UInt8
    {
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await sendStream(body, length: length, op: op, bufferBytes: bufferBytes) { (read, done) throws(R2Error) in
            let put = try putObjectExchange(bucket: bucket, key: key, length: length, options: options, read: read)
            start(put, op: op, done: done)
        }
    }

    /// Starts an engine operation that reads its body from `read` (`start`),
    /// feeds it from `body` on this task, and awaits the outcome.
    private func sendStream<Body: AsyncSequence>(_ body: Body, length: UInt64?, op: AsyncOp, bufferBytes: Int,
                                                 _ start: (@escaping (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int,
                                                           @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) -> Void)
        async throws(R2Error) -> ObjectInfo where Body.Element: Collection, Body.Element.Element == UInt8
    {
        guard bufferBytes > 0 else { throw R2Error.invalidArgument("bufferBytes is \(bufferBytes); it must be positive") }
        let channel = UploadChannel(op: op, limit: bufferBytes)
        let outcome = Outcome<ObjectInfo>()
        try start(channel.read) { result in
            channel.close()
            outcome.complete(result)
        }
        let sourceError: R2Error? = await withTaskCancellationHandler {
            await channel.pump(body, length: length ?? .max)
        } onCancel: {
            op.cancel()
        }
        let result = await withTaskCancellationHandler { await outcome.value() } onCancel: { op.cancel() }
        let info = try result.get()
        if let sourceError { throw sourceError }  // the request ended before the source did (it had too much)
        return info
    }
}

extension R2Client {
    /// Uploads an `AsyncSequence` of chunks through the transfer manager on
    /// the engine: a known `length` below the threshold is one streamed PUT;
    /// otherwise (and always for an unknown length) multipart, its parts read
    /// in order from the sequence and sent `concurrency` at a time as engine
    /// transfers. About `bufferBytes` wait between the sequence and the
    /// engine's part buffers; the engine pauses while the sequence has nothing
    /// yet. The upload is aborted after a failure or cancellation.
    /// `options.progress` is called on an engine thread. Resume state
    /// (`statePath`) is refused: a sequence cannot be read again.
    @discardableResult
    public func uploadStream<Body: AsyncSequence>(bucket: String, key: String, length: UInt64? = nil, body: Body,
                                                  options: TransferOptions = TransferOptions(), bufferBytes: Int = 1 << 20)
        async throws(R2Error) -> ObjectInfo where Body.Element: Collection, Body.Element.Element == UInt8
    {
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await sendStream(body, length: length, op: op, bufferBytes: bufferBytes) { (read, done) throws(R2Error) in
            try startUploadStream(bucket: bucket, key: key, length: length, options: options, rewind: nil, read: read, op: op, done: done)
        }
    }
}

// MARK: Streamed GET

/// A streamed object: the metadata of the response's head, and the body.
public struct ObjectStream: Sendable {
    /// From the response's head (the length is checked again at the end of the body).
    public let info: ObjectInfo
    public let body: ObjectBody
}

/// An object's body as it arrives, in chunks. Iterate it once.
public struct ObjectBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = R2Error
    let owner: DownloadOwner

    public func makeAsyncIterator() -> Iterator { Iterator(owner: owner) }

    /// The rest of the body in one array.
    public func collect() async throws(R2Error) -> [UInt8] {
        var all: [UInt8] = []
        var it = makeAsyncIterator()
        while let chunk = try await it.next() { all += chunk }
        return all
    }

    public struct Iterator: AsyncIteratorProtocol {
        let owner: DownloadOwner

        public mutating func next() async throws(R2Error) -> [UInt8]? { try await owner.channel.next() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(R2Error) -> [UInt8]? {
            try await owner.channel.next()
        }
    }
}

/// Cancels the request when the body is dropped before its end.
final class DownloadOwner: Sendable {
    let channel: DownloadChannel
    init(_ channel: DownloadChannel) { self.channel = channel }
    deinit { channel.abandon() }
}

/// Between the engine's transfer (the sink side, on the loop thread) and the
/// body's consumer (any task): a queue of chunks bounded by `limit` bytes.
final class DownloadChannel: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var first = 0
        var buffered = 0
        /// The sink refused a chunk (the transfer is paused until resumed).
        var paused = false
        var head: Result<ObjectInfo, R2Error>?
        var headWaiter: CheckedContinuation<Result<ObjectInfo, R2Error>, Never>?
        var outcome: Result<Void, R2Error>?
        var waiter: CheckedContinuation<Result<[UInt8]?, R2Error>, Never>?
        var abandoned = false
        /// The consumer saw the end (or the error): further `next()` calls return nil.
        var over = false
        /// What the tests look at: how often the transfer paused, the most bytes queued.
        var pauses = 0
        var peakBuffered = 0

        mutating func pop() -> [UInt8]? {
            guard first < chunks.count else { return nil }
            let chunk = chunks[first]
            chunks[first] = []
            first += 1
            if first == chunks.count { chunks.removeAll(keepingCapacity: true); first = 0 }
            buffered -= chunk.count
            return chunk
        }
    }

    private let state = Mutex(State())
    private let op: AsyncOp
    private let limit: Int

    init(op: AsyncOp, limit: Int) {
        self.op = op
        self.limit = limit
    }

    // Engine side (loop thread).

    func head(_ head: ResponseHead) {
        let info = ObjectInfo(head)
        let waiter = state.withLock { s -> CheckedContinuation<Result<ObjectInfo, R2Error>, Never>? in
            guard s.head == nil else { return nil }
            s.head = .success(info)
            defer { s.headWaiter = nil }
            return s.headWaiter
        }
        waiter?.resume(returning: .success(info))
    }

    func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict {
        let (verdict, waiter) = state.withLock { s -> (SinkVerdict, CheckedContinuation<Result<[UInt8]?, R2Error>, Never>?) in
            if s.abandoned { return (.aborted, nil) }
            if s.buffered >= limit {
                if !s.paused { s.pauses += 1 }
                s.paused = true
                return (.paused, nil)
            }
            if let w = s.waiter {
                s.waiter = nil
                return (.accepted, w)
            }
            s.chunks.append(Array(chunk))
            s.buffered += chunk.count
            s.peakBuffered = max(s.peakBuffered, s.buffered)
            return (.accepted, nil)
        }
        waiter?.resume(returning: .success(Array(chunk)))
        return verdict
    }

    func finish(_ result: Result<ObjectInfo, R2Error>) {
        let outcome = result.map { _ in () }
        let (headWaiter, waiter) = state.withLock { s in
            s.outcome = outcome
            var h: CheckedContinuation<Result<ObjectInfo, R2Error>, Never>? = nil
            if s.head == nil {
                // No 2xx head came: the call failed before (or the request had no body to stream).
                s.head = result
                h = s.headWaiter
                s.headWaiter = nil
            }
            let w = s.first < s.chunks.count ? nil : s.waiter
            if w != nil { s.waiter = nil; s.over = true }
            return (h, w)
        }
        headWaiter?.resume(returning: result)
        waiter?.resume(returning: outcome.map { nil })
    }

    /// Pauses of the transfer so far, and the most bytes that waited for the consumer.
    var backpressure: (pauses: Int, peakBuffered: Int) { state.withLock { ($0.pauses, $0.peakBuffered) } }

    // Consumer side.

    func awaitHead() async throws(R2Error) -> ObjectInfo {
        let result: Result<ObjectInfo, R2Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                let ready = state.withLock { s -> Result<ObjectInfo, R2Error>? in
                    if let head = s.head { return head }
                    s.headWaiter = c
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: { [op] in
            op.cancel()
        }
        return try result.get()
    }

    func next() async throws(R2Error) -> [UInt8]? {
        let result: Result<[UInt8]?, R2Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                let (ready, resume) = state.withLock { s -> (Result<[UInt8]?, R2Error>?, Bool) in
                    if let chunk = s.pop() {
                        // Resume a paused transfer once the queue has room again.
                        let resume = s.paused && s.buffered < limit
                        if resume { s.paused = false }
                        return (.success(chunk), resume)
                    }
                    if s.over { return (.success(nil), false) }
                    if let outcome = s.outcome {
                        s.over = true
                        return (outcome.map { nil }, false)
                    }
                    s.waiter = c
                    return (nil, false)
                }
                if resume { op.resume() }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: { [op] in
            op.cancel()
        }
        return try result.get()
    }

    /// The body was dropped: stop the transfer if it still runs.
    func abandon() {
        let running = state.withLock { s -> Bool in
            s.abandoned = true
            return s.outcome == nil
        }
        if running { op.cancel() }
    }
}

/// Tells `onHead` the head the inner sink gets (the first 2xx attempt's).
package struct HeadTap<Inner: ResponseSink>: ResponseSink {
    var inner: Inner
    let onHead: (ResponseHead) -> Void

    package mutating func head(_ head: ResponseHead) {
        inner.head(head)
        if (200..<300).contains(head.status) { onHead(head) }
    }

    package mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool { inner.body(chunk) }
    package mutating func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict { inner.offer(chunk) }
}

extension Exchange {
    /// The same request, telling `onHead` the response head its sink gets:
    /// the first 2xx attempt's, before any of the body (a later attempt
    /// resumes that object, pinned to its ETag, and its head is not passed on).
    package func tappingHead(_ onHead: @escaping (ResponseHead) -> Void) -> Exchange<HeadTap<S>, Output> {
        let finish = self.finish, failure = self.failure
        var e = Exchange<HeadTap<S>, Output>(call: call, body: body, sink: HeadTap(inner: sink, onHead: onHead)) {
            (head, sink) throws(R2Error) in try finish(head, &sink.inner)
        }
        e.failure = { error, sink in failure(error, &sink.inner) }
        return e
    }
}

// MARK: Streamed PUT

/// Between the body's source (the caller's task, `pump`) and the engine's
/// transfer (`read`, on the loop thread): a queue bounded by `limit` bytes.
final class UploadChannel: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var first = 0
        /// Bytes of `chunks[first]` already read.
        var offset = 0
        var buffered = 0
        /// `read` found nothing: the transfer is paused until resumed.
        var readPaused = false
        var ended = false
        var failure: R2Error?
        /// The request is over: nothing more is read.
        var closed = false
        var pushWaiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())
    private let op: AsyncOp
    private let limit: Int

    init(op: AsyncOp, limit: Int) {
        self.op = op
        self.limit = limit
    }

    /// Feeds the source's chunks in; returns the source's failure, if any.
    func pump<Body: AsyncSequence>(_ body: Body, length: UInt64) async -> R2Error?
        where Body.Element: Collection, Body.Element.Element == UInt8
    {
        var total: UInt64 = 0
        do {
            for try await chunk in body {
                guard !chunk.isEmpty else { continue }
                total += UInt64(chunk.count)
                if total > length {
                    let e = R2Error(.incompleteBody, "the body sequence gave more than the \(length) bytes announced")
                    fail(e)
                    return e
                }
                guard await push(Array(chunk)) else { return nil }  // the request is over
            }
        } catch {
            let e = error as? R2Error ?? R2Error(.aborted, "the body sequence failed: \(error)")
            fail(e)
            return e
        }
        end()
        return nil
    }

    private func push(_ chunk: [UInt8]) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let (resume, now) = state.withLock { s -> (Bool, Bool?) in
                if s.closed { return (false, false) }
                s.chunks.append(chunk)
                s.buffered += chunk.count
                let resume = s.readPaused
                s.readPaused = false
                if s.buffered < limit { return (resume, true) }
                s.pushWaiter = c  // full: wait until `read` takes some, or the request ends
                return (resume, nil)
            }
            if resume { op.resume() }
            if let now { c.resume(returning: now) }
        }
    }

    private func end() { wake { $0.ended = true } }

    private func fail(_ e: R2Error) { wake { $0.failure = e } }

    private func wake(_ change: (inout State) -> Void) {
        let resume = state.withLock { s -> Bool in
            change(&s)
            defer { s.readPaused = false }
            return s.readPaused
        }
        if resume { op.resume() }
    }

    /// The request is over: a waiting source stops.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            s.closed = true
            defer { s.pushWaiter = nil }
            return s.pushWaiter
        }
        waiter?.resume(returning: false)
    }

    /// The transport's read (loop thread): bytes, 0 at the end, or "none yet" (pause).
    func read(_ buffer: UnsafeMutableRawBufferPointer) throws(R2Error) -> Int {
        let (n, waiter, failure) = state.withLock { s -> (Int, CheckedContinuation<Bool, Never>?, R2Error?) in
            if let f = s.failure { return (0, nil, f) }
            var n = 0
            while n < buffer.count && s.first < s.chunks.count {
                let chunk = s.chunks[s.first]
                let take = min(buffer.count - n, chunk.count - s.offset)
                chunk.withUnsafeBytes { src in
                    UnsafeMutableRawBufferPointer(rebasing: buffer[n..<(n + take)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[s.offset..<(s.offset + take)]))
                }
                n += take
                s.offset += take
                if s.offset == chunk.count {
                    s.chunks[s.first] = []
                    s.first += 1
                    s.offset = 0
                    if s.first == s.chunks.count { s.chunks.removeAll(keepingCapacity: true); s.first = 0 }
                }
            }
            s.buffered -= n
            var w: CheckedContinuation<Bool, Never>? = nil
            if s.buffered < limit { w = s.pushWaiter; s.pushWaiter = nil }
            if n == 0 && !s.ended { s.readPaused = true; return (RequestBody.readPaused, w, nil) }
            return (n, w, nil)
        }
        waiter?.resume(returning: true)
        if let failure { throw failure }
        return n
    }
}

/// The outcome of an engine operation, awaited while the task does something else first.
final class Outcome<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, R2Error>?, waiter: CheckedContinuation<Result<T, R2Error>, Never>?)>((nil, nil))

    func complete(_ result: Result<T, R2Error>) {
        let waiter = state.withLock { s in
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: result)
    }

    func value() async -> Result<T, R2Error> {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> Result<T, R2Error>? in
                if let r = s.result { return r }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

// MARK: Listing

/// Every object of a listing, page after page (see `R2Client.objects`).
public struct ListObjectsSequence: AsyncSequence, Sendable {
    public typealias Element = ListBucketResult.Entry
    public typealias Failure = R2Error
    let client: R2Client
    let bucket: String
    let options: ListOptions

    public func makeAsyncIterator() -> Iterator { Iterator(client: client, bucket: bucket, options: options) }

    public struct Iterator: AsyncIteratorProtocol {
        let client: R2Client
        let bucket: String
        var options: ListOptions
        var progress = ListingProgress()
        /// The current page's entries (at most max-keys): the listing's only buffer.
        var page: [ListBucketResult.Entry] = []
        var index = 0
        var more = true

        init(client: R2Client, bucket: String, options: ListOptions) {
            self.client = client
            self.bucket = bucket
            self.options = options
        }

        public mutating func next() async throws(R2Error) -> ListBucketResult.Entry? { try await next(isolation: nil) }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(R2Error) -> ListBucketResult.Entry? {
            while index == page.count {
                guard more else { return nil }
                more = false  // a failed page ends the listing
                let sent = options.continuationToken
                let result = try await client.listObjects(bucket: bucket, options: options).result
                try progress.check(result, sentToken: sent)
                page = result.contents
                index = 0
                if result.isTruncated, let token = result.nextContinuationToken, !token.isEmpty {
                    options.continuationToken = token
                    options.startAfter = nil
                    more = true
                }
            }
            index += 1
            return page[index - 1]
        }
    }
}
