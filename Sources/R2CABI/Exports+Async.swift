import CR2Types
import Glibc
import R2

// Asynchronous operations (issue 12): every `_async` call validates its
// arguments on the calling thread, returns at once, and runs the operation on
// r2's engine (libcurl's multi interface, a few r2-owned threads). Its outcome
// reaches the caller's r2_done_cb on an engine thread. The operations go
// through the same retry state machine as the blocking calls, so retries,
// Retry-After, resumed downloads, the breaker, the rate limiter, metrics,
// logs, traces and record/replay behave the same.

/// The r2_op handle.
final class OpHandle {
    let op: AsyncOp
    init(_ op: AsyncOp) { self.op = op }
}

/// The caller's completion, run once on the engine thread.
final class Completion {
    let done: r2_done_cb
    let userdata: UnsafeMutableRawPointer?
    let freeUserdata: r2_free_cb?
    var handle: OpaquePointer?

    init(done: r2_done_cb, userdata: UnsafeMutableRawPointer?, freeUserdata: r2_free_cb?) {
        self.done = done
        self.userdata = userdata
        self.freeUserdata = freeUserdata
    }

    func finish(_ error: R2Error?) {
        let status = error.map { fail($0) } ?? R2_OK.rawValue  // fail() sets this thread's r2_error_last()
        // A handle the caller already freed is not passed on.
        let op = handle.flatMap { h in isLive(h, as: OpHandle.self) ? h : nil }
        done(op, status, userdata)
        freeUserdata?(userdata)
    }
}

/// Starts an asynchronous operation: `prepare` checks and clears the outputs,
/// `build` makes the operation from the arguments (both on the calling thread;
/// an error there is returned and no callback runs), and `run` starts it on
/// the engine with the completion that fills the outputs (`deliver`) and calls `done`.
func startAsync<Outputs, O>(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ client: OpaquePointer?,
                            _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ freeUserdata: r2_free_cb?,
                            prepare: () throws(R2Error) -> Outputs,
                            run: (R2Client, AsyncOp, @escaping (Result<O, R2Error>) -> Void) throws(R2Error) -> Void,
                            deliver: @escaping (Outputs, O) -> Void) -> Int32 {
    op?.pointee = nil
    return guarded { () throws(R2Error) in
        let outputs = try prepare()
        guard let done else { throw invalid("done is NULL") }
        let c = try handle(client, as: R2Client.self, "client")
        let asyncOp = AsyncOp()
        let completion = Completion(done: done, userdata: userdata, freeUserdata: freeUserdata)
        // The handle exists before the operation starts: done may run at once.
        let h = op.map { _ in retain(OpHandle(asyncOp)) }
        completion.handle = h
        op?.pointee = h  // before the start: done may read the caller's copy
        do throws(R2Error) {
            try run(c, asyncOp) { result in
                switch result {
                case .success(let output):
                    deliver(outputs, output)
                    completion.finish(nil)
                case .failure(let error):
                    completion.finish(error)
                }
            }
        } catch {
            op?.pointee = nil
            release(h, as: OpHandle.self)
            throw error
        }
    }
}

/// `startAsync` for an operation of one exchange.
func startAsync<Outputs, S, O>(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ client: OpaquePointer?,
                               _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ freeUserdata: r2_free_cb?,
                               prepare: () throws(R2Error) -> Outputs,
                               _ build: (R2Client) throws(R2Error) -> Exchange<S, O>,
                               deliver: @escaping (Outputs, O) -> Void) -> Int32 {
    startAsync(op, client, done, userdata, freeUserdata, prepare: prepare, run: { (c, asyncOp, finish) throws(R2Error) in
        c.start(try build(c), op: asyncOp, done: finish)
    }, deliver: deliver)
}

/// A write callback of an asynchronous operation as a sink's verdict.
func asyncWrite(_ write: r2_write_cb, _ userdata: UnsafeMutableRawPointer?) -> (UnsafeRawBufferPointer) -> SinkVerdict {
    { chunk in
        switch write(chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), chunk.count, userdata) {
        case 0: return .accepted
        case R2_WRITE_PAUSE: return .paused
        default: return .aborted
        }
    }
}

// MARK: Operations

/// Cancels an asynchronous operation: it completes soon with R2_ERR_CANCELLED
/// (or with its own outcome, if that came first).
///
/// - Parameters:
///   - op: The operation.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT when op is not a live r2_op.
/// - Ownership: op stays the caller's.
/// - Threads: any thread, including inside the operation's own callbacks.
@c public func r2_op_cancel(_ op: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in try handle(op, as: OpHandle.self, "op").op.cancel() }
}

/// Resumes an operation whose write callback returned R2_WRITE_PAUSE or whose
/// read callback returned R2_READ_PAUSE. Resuming one that is not paused does nothing.
///
/// - Parameters:
///   - op: The operation.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT when op is not a live r2_op.
/// - Ownership: op stays the caller's.
/// - Threads: any thread, including inside the operation's own callbacks.
@c public func r2_op_resume(_ op: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in try handle(op, as: OpHandle.self, "op").op.resume() }
}

/// Releases an operation handle. The operation itself still completes (its
/// done callback runs, with a NULL op). NULL is a no-op.
///
/// - Parameters:
///   - op: The operation, or NULL.
/// - Returns: nothing.
/// - Ownership: op is invalid after the call.
/// - Threads: any thread, including inside the done callback.
@c public func r2_op_free(_ op: OpaquePointer?) {
    release(op, as: OpHandle.self)
}

// MARK: Objects

/// Starts r2_object_get() without blocking: reads an object into memory.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation (release with r2_op_free()).
///   - body: Out: the body; release with r2_buf_dispose(). Filled before done runs.
///   - info: Out, may be NULL: the object's metadata; release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: Options, may be NULL (as for r2_object_get()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started (the outcome goes to done), or R2_ERR_INVALID_ARGUMENT and the like when
///   not started (then neither done nor free_userdata runs). done gets the statuses of r2_object_get().
/// - Ownership: strings and opts are copied during the call; body and info must stay valid until done runs,
///   and belong to the caller afterwards.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_get_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ body: UnsafeMutablePointer<r2_buf>?,
                                   _ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                   _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                   _ opts: UnsafePointer<r2_get_options>?,
                                   _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard let body else { throw invalid("body is NULL") }
        body.pointee = r2_buf(ptr: nil, size: 0)
        return try ResultOut(info, "info")
    }, { (c) throws(R2Error) in
        try c.getObjectMallocedExchange(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts))
    }, deliver: { infoOut, output in
        body!.pointee = r2_buf(ptr: UnsafeMutableRawPointer(output.body).assumingMemoryBound(to: CChar.self), size: output.count)
        fillInfo(infoOut, output.info)
    })
}

/// Starts r2_object_get_stream() without blocking: streams an object to write.
/// write runs on an r2 engine thread and may return R2_WRITE_PAUSE to pause
/// the transfer (backpressure) until r2_op_resume(); 0 to go on; anything else aborts.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation (needed to resume a paused stream).
///   - info: Out, may be NULL: the object's metadata, filled once, when the first successful response head
///     arrives: before the first write (before done for an empty body), and not changed afterwards (a
///     resumed download is pinned to that object's ETag); content_length is the head's Content-Length.
///     Release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - write: Receives the body's chunks, in order.
///   - write_userdata: Passed to write.
///   - opts: Options, may be NULL (as for r2_object_get_stream()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started (then neither done nor free_userdata runs).
///   done gets the statuses of r2_object_get_stream().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; write and done run on an r2 engine thread.
@c public func r2_object_get_stream_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                          _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                          _ write: r2_write_cb?, _ write_userdata: UnsafeMutableRawPointer?,
                                          _ opts: UnsafePointer<r2_get_options>?,
                                          _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    let out = InfoAtHead()
    return startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        out.target = try ResultOut(info, "info")
        return out
    }, { (c) throws(R2Error) in
        guard let write else { throw invalid("write is NULL") }
        return try c.getObjectExchange(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts),
                                       write: asyncWrite(write, write_userdata)).tappingHead { out.fill(ObjectInfo($0)) }
    }, deliver: { out, info in out.fill(info) })
}

/// A caller's r2_object_info filled once, from the response head (on the
/// engine's loop thread, before the body's first write), so that a caller
/// may read it while the body streams; the final result only fills it when
/// no head came.
final class InfoAtHead {
    var target: ResultOut<r2_object_info>?
    private var filled = false

    func fill(_ info: ObjectInfo) {
        guard !filled, let target else { return }
        filled = true
        fillInfo(target, info)
    }
}

/// Starts r2_object_head() without blocking.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out: the object's metadata; release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: Options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_object_head().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_head_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                    _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                    _ opts: UnsafePointer<r2_get_options>?,
                                    _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard info != nil else { throw invalid("info is NULL") }
        return try ResultOut(info, "info")
    }, { (c) throws(R2Error) in
        try c.headObjectExchange(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts))
    }, deliver: fillInfo)
}

/// Starts r2_object_put() without blocking: uploads len bytes from data in one PUT.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: ETag, version id and request id; release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - data: The body (NULL only when len is 0). Read until done runs: keep it valid and unchanged until then.
///   - len: Its length in bytes.
///   - opts: Options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_object_put().
/// - Ownership: strings and opts are copied during the call; data is borrowed, and info must stay valid, until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_put_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                   _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                   _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_put_options>?,
                                   _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               { (c) throws(R2Error) in
        let body = try bytes(data, len)
        return try c.putObjectExchange(bucket: string(bucket, "bucket"), key: string(key, "key"),
                                       body: body, options: putOptions(opts))
    }, deliver: fillInfo)
}

/// Starts r2_object_put_stream() without blocking: uploads exactly length bytes
/// produced by read. read runs on an r2 engine thread and returns the bytes it
/// put in buf (> 0), 0 at the end, R2_READ_PAUSE when it has none yet (the
/// transfer pauses until r2_op_resume()), or another negative value to abort.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation (needed to resume a paused stream).
///   - info: Out, may be NULL: ETag, version id and request id; release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - length: The body's length in bytes.
///   - read: Fills the body, in order.
///   - read_userdata: Passed to read (and to opts->rewind).
///   - opts: Options, may be NULL (opts->rewind makes failed attempts retryable, as for r2_object_put_stream()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_object_put_stream().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; read, rewind and done run on an r2 engine thread.
@c public func r2_object_put_stream_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                          _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                          _ length: UInt64, _ read: r2_read_cb?, _ read_userdata: UnsafeMutableRawPointer?,
                                          _ opts: UnsafePointer<r2_put_options>?,
                                          _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               { (c) throws(R2Error) in
        guard let read else { throw invalid("read is NULL") }
        return try c.putObjectExchange(bucket: string(bucket, "bucket"), key: string(key, "key"), length: length,
                                       options: putOptions(opts), rewind: rewindBody(opts, read_userdata),
                                       read: bodyReader(read, read_userdata, pausable: true))
    }, deliver: fillInfo)
}

/// Starts r2_object_delete() without blocking.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_object_delete().
/// - Ownership: strings are copied during the call.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_delete_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ client: OpaquePointer?,
                                      _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                      _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: {}, { (c) throws(R2Error) in
        try c.deleteObjectExchange(bucket: string(bucket, "bucket"), key: string(key, "key"))
    }, deliver: { _, _ in })
}

/// Starts r2_object_copy() without blocking: copies an object on the server.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the new ETag and last-modified; release with r2_object_info_dispose().
///   - client: The client.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - bucket: Destination bucket (NUL-terminated UTF-8).
///   - key: Destination key (NUL-terminated UTF-8).
///   - opts: Options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_object_copy().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_copy_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                    _ client: OpaquePointer?, _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                                    _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                    _ opts: UnsafePointer<r2_copy_options>?,
                                    _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               { (c) throws(R2Error) in
        try c.copyObjectExchange(sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                                 bucket: string(bucket, "bucket"), key: string(key, "key"), options: copyOptions(opts))
    }, deliver: { infoOut, output in
        var merged = output.info
        merged.etag = output.result.etag
        merged.lastModified = output.result.lastModified
        fillInfo(infoOut, merged)
    })
}

/// Starts r2_list_objects() without blocking: lists one page of a bucket.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - out: Out: the page; release with r2_list_result_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: Options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_list_objects().
/// - Ownership: strings and opts are copied during the call; out must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_list_objects_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ out: UnsafeMutablePointer<r2_list_result>?,
                                     _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_options>?,
                                     _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        return try ResultOut(out, "out")
    }, { (c) throws(R2Error) in
        try c.objectListingExchange(bucket: string(bucket, "bucket"), options: listOptions(opts))
    }, deliver: fillList)
}

/// Starts r2_object_delete_many() without blocking: deletes count keys, 1000 per request, in order.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - out: Out: what was deleted and what could not be (set out->version); release with r2_delete_result_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - keys: count keys (NUL-terminated UTF-8).
///   - count: How many keys (at least 1).
///   - opts: Options, may be NULL (as for r2_object_delete_many()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started (then neither done nor free_userdata runs).
///   done gets the statuses of r2_object_delete_many().
/// - Ownership: keys, strings and opts are copied during the call; out must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_object_delete_many_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ out: UnsafeMutablePointer<r2_delete_result>?,
                                           _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?,
                                           _ keys: UnsafePointer<UnsafePointer<CChar>?>?, _ count: UInt,
                                           _ opts: UnsafePointer<r2_delete_many_options>?,
                                           _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        return try ResultOut(out, "out")
    }, run: { (c, asyncOp, finish) throws(R2Error) in
        var quiet = false
        if let opts {
            try checkVersion(opts.pointee.version, current: 1, "r2_delete_many_options")
            quiet = opts.pointee.quiet
        }
        guard count > 0, let keys else { throw invalid(count == 0 ? "count is 0" : "keys is NULL") }
        guard count <= 10_000_000 else { throw invalid("count \(count) is out of range") }
        var list: [String] = []
        list.reserveCapacity(Int(count))
        for i in 0..<Int(count) { list.append(try string(keys[i], "keys[\(i)]")) }
        try c.startDeleteObjects(bucket: string(bucket, "bucket"), keys: list, quiet: quiet, op: asyncOp, done: finish)
    }, deliver: fillDelete)
}

// MARK: Multipart

/// Starts r2_multipart_create() without blocking: starts a multipart upload.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - upload_id: Out: the upload's id; release with r2_buf_dispose(). Filled before done runs.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: The object's headers and metadata, may be NULL (as for r2_multipart_create()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started (then neither done nor free_userdata runs).
///   done gets the statuses of r2_multipart_create().
/// - Ownership: strings and opts are copied during the call; upload_id must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_create_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ upload_id: UnsafeMutablePointer<r2_buf>?,
                                         _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                         _ opts: UnsafePointer<r2_put_options>?,
                                         _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) -> UnsafeMutablePointer<r2_buf> in
        guard let upload_id else { throw invalid("upload_id is NULL") }
        upload_id.pointee = r2_buf(ptr: nil, size: 0)
        return upload_id
    }, { (c) throws(R2Error) in
        try c.createMultipartUploadExchange(bucket: string(bucket, "bucket"), key: string(key, "key"), options: putOptions(opts))
    }, deliver: { out, upload in fill(out, upload.uploadID) })
}

/// Starts r2_multipart_upload_part() without blocking: uploads one part from len bytes.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - etag: Out: the part's ETag for r2_multipart_complete(); release with r2_buf_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The upload's id (NUL-terminated).
///   - part_number: 1 to 10 000.
///   - data: The part's bytes. Read until done runs: keep them valid and unchanged until then.
///   - len: Their length.
///   - opts: Part options, may be NULL (as for r2_multipart_upload_part()).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started (R2's size rules are checked here, before
///   anything is sent). done gets the statuses of r2_multipart_upload_part().
/// - Ownership: strings and opts are copied during the call; data is borrowed, and etag must stay valid, until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_upload_part_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ etag: UnsafeMutablePointer<r2_buf>?,
                                              _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                              _ upload_id: UnsafePointer<CChar>?, _ part_number: UInt32,
                                              _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_part_options>?,
                                              _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) -> UnsafeMutablePointer<r2_buf> in
        guard let etag else { throw invalid("etag is NULL") }
        etag.pointee = r2_buf(ptr: nil, size: 0)
        return etag
    }, { (c) throws(R2Error) in
        let body = try bytes(data, len)
        let (checksum, sse, _) = try partOptions(opts)
        return try c.uploadPartExchange(upload(bucket, key, upload_id), partNumber: Int(part_number),
                                        body: body, checksum: checksum, sseCustomerKey: sse)
    }, deliver: { out, part in fill(out, part.etag) })
}

/// Starts r2_multipart_upload_part_copy() without blocking: copies bytes first..last of a source as one part.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - etag: Out: the part's ETag; release with r2_buf_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The upload's id (NUL-terminated).
///   - part_number: 1 to 10 000.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - first: First byte of the range, or -1 with last = -1 for the whole source.
///   - last: Last byte of the range (inclusive), or -1.
///   - opts: Part options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_multipart_upload_part_copy().
/// - Ownership: strings and opts are copied during the call; etag must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_upload_part_copy_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ etag: UnsafeMutablePointer<r2_buf>?,
                                                   _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                                   _ upload_id: UnsafePointer<CChar>?, _ part_number: UInt32,
                                                   _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                                                   _ first: Int64, _ last: Int64, _ opts: UnsafePointer<r2_part_options>?,
                                                   _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) -> UnsafeMutablePointer<r2_buf> in
        guard let etag else { throw invalid("etag is NULL") }
        etag.pointee = r2_buf(ptr: nil, size: 0)
        return etag
    }, run: { (c, asyncOp, finish) throws(R2Error) in
        let (_, sse, sourceSSE) = try partOptions(opts)
        try c.startUploadPartCopy(upload(bucket, key, upload_id), partNumber: Int(part_number),
                                  sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                                  range: copyRange(first, last), sseCustomerKey: sse, sourceSSECustomerKey: sourceSSE, op: asyncOp, done: finish)
    }, deliver: { out, part in fill(out, part.etag) })
}

/// Starts r2_multipart_complete() without blocking: completes an upload from its parts, with the same
/// checks and the same resolution of an ambiguous failure (HEAD, ListParts), its waits as engine timers.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the object's ETag (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The upload's id (NUL-terminated).
///   - parts: count parts, any order.
///   - count: How many parts (1 to 10 000).
///   - opts: Complete options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_multipart_complete().
/// - Ownership: parts, strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_complete_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                           _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                           _ upload_id: UnsafePointer<CChar>?, _ parts: UnsafePointer<r2_completed_part>?,
                                           _ count: UInt, _ opts: UnsafePointer<r2_complete_options>?,
                                           _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        let (list, options) = try completeArguments(parts, count, opts)
        try c.startCompleteMultipartUpload(upload(bucket, key, upload_id), parts: list, options: options, op: asyncOp, done: finish)
    }, deliver: fillCompleted)
}

/// Starts r2_multipart_abort() without blocking: aborts an upload.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The upload's id (NUL-terminated).
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_multipart_abort().
/// - Ownership: strings are copied during the call.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_abort_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ client: OpaquePointer?,
                                        _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ upload_id: UnsafePointer<CChar>?,
                                        _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: {}, { (c) throws(R2Error) in
        try c.abortMultipartUploadExchange(upload(bucket, key, upload_id))
    }, deliver: { _, _ in })
}

/// Starts r2_multipart_list_parts() without blocking: lists every part of an upload (all pages).
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - out: Out: the parts (set out->version); release with r2_multipart_part_list_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The upload's id (NUL-terminated).
///   - opts: Options, may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_multipart_list_parts().
/// - Ownership: strings and opts are copied during the call; out must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_list_parts_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ out: UnsafeMutablePointer<r2_multipart_part_list>?,
                                             _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                             _ upload_id: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_parts_options>?,
                                             _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        return try ResultOut(out, "out")
    }, run: { (c, asyncOp, finish) throws(R2Error) in
        if let opts { try checkVersion(opts.pointee.version, current: 1, "r2_list_parts_options") }
        try c.startListParts(upload(bucket, key, upload_id), op: asyncOp, done: finish)
    }, deliver: fillPartList)
}

/// Starts r2_multipart_list_uploads() without blocking: lists every unfinished upload (all pages).
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - out: Out: the uploads (set out->version); release with r2_multipart_upload_list_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: Options (the key prefix), may be NULL.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_multipart_list_uploads().
/// - Ownership: strings and opts are copied during the call; out must stay valid until done runs.
/// - Threads: any thread; done runs on an r2 engine thread.
@c public func r2_multipart_list_uploads_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ out: UnsafeMutablePointer<r2_multipart_upload_list>?,
                                               _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?,
                                               _ opts: UnsafePointer<r2_list_uploads_options>?,
                                               _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        return try ResultOut(out, "out")
    }, run: { (c, asyncOp, finish) throws(R2Error) in
        try c.startListMultipartUploads(bucket: string(bucket, "bucket"), prefix: listUploadsPrefix(opts), op: asyncOp, done: finish)
    }, deliver: fillUploadList)
}

// MARK: Transfers

/// Transfer options for an asynchronous transfer: the operation is cancelled
/// (r2_op_cancel's way) when the progress callback returns non-zero or
/// opts->cancel is signalled (seen at the next progress report).
func asyncTransferOptions(_ opts: UnsafePointer<r2_transfer_options>?, _ op: AsyncOp) throws(R2Error) -> TransferOptions {
    var o = try transferOptions(opts)
    if let linked = o.cancellation {
        let report = o.progress
        o.progress = { p in
            report?(p)
            if linked.isCancelled { op.cancel() }
        }
    }
    return o
}

/// Starts r2_transfer_upload_file() without blocking: one PUT below the threshold, else a multipart
/// upload whose parts (opts->concurrency at a time) are transfers on r2's engine, not threads.
/// opts->state_path (resumable uploads) is refused: use the blocking call for it.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the object's ETag and size (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - path: The file (NUL-terminated); opened during the call, read until done runs.
///   - opts: Transfer options, may be NULL; opts->progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started (then neither done nor free_userdata runs).
///   done gets the statuses of r2_transfer_upload_file(); after a failure the multipart upload is aborted.
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; progress and done run on an r2 engine thread.
@c public func r2_transfer_upload_file_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                             _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                             _ path: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_transfer_options>?,
                                             _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        try c.startUpload(.file(path: string(path, "path")), bucket: string(bucket, "bucket"), key: string(key, "key"),
                          options: asyncTransferOptions(opts, asyncOp), op: asyncOp, done: finish)
    }, deliver: fillInfo)
}

/// Starts r2_transfer_upload_buffer() without blocking: len bytes at data, one PUT below the threshold,
/// else a multipart upload whose parts are transfers on r2's engine.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the object's ETag and size (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - data: The bytes (NULL only when len is 0). Read until done runs: keep them valid and unchanged until then.
///   - len: Their length.
///   - opts: Transfer options, may be NULL; opts->progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_transfer_upload_buffer().
/// - Ownership: strings and opts are copied during the call; data is borrowed, and info must stay valid, until done runs.
/// - Threads: any thread; progress and done run on an r2 engine thread.
@c public func r2_transfer_upload_buffer_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                               _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                               _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_transfer_options>?,
                                               _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        let body = try bytes(data, len)
        try c.startUpload(.bytes(body), bucket: string(bucket, "bucket"),
                          key: string(key, "key"), options: asyncTransferOptions(opts, asyncOp), op: asyncOp, done: finish)
    }, deliver: fillInfo)
}

/// Starts r2_transfer_download_file() without blocking: a HEAD, then one GET below the threshold or
/// ranged GETs (opts->concurrency at a time, on r2's engine, each pinned to the object's ETag) written
/// into path.r2-partial, which is synced and renamed to path at the end (and removed after a failure).
/// opts->state_path (resumable downloads) is refused: use the blocking call for it.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the object's metadata (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - path: Where the object goes (NUL-terminated).
///   - opts: Transfer options, may be NULL; opts->progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_transfer_download_file().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; progress and done run on an r2 engine thread.
@c public func r2_transfer_download_file_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                               _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                               _ path: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_transfer_options>?,
                                               _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        try c.startDownloadFile(bucket: string(bucket, "bucket"), key: string(key, "key"), path: string(path, "path"),
                                options: asyncTransferOptions(opts, asyncOp), op: asyncOp, done: finish)
    }, deliver: fillInfo)
}

/// Starts r2_transfer_copy() without blocking: a HEAD of the source, then one CopyObject below the
/// threshold, or a multipart copy whose UploadPartCopy parts run on r2's engine (aborted after a failure).
///
/// - Parameters:
///   - op: Out, may be NULL: the operation.
///   - info: Out, may be NULL: the copy's ETag and size (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - bucket: Destination bucket (NUL-terminated UTF-8).
///   - key: Destination key (NUL-terminated UTF-8).
///   - opts: Transfer options, may be NULL; opts->progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_transfer_copy().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; progress and done run on an r2 engine thread.
@c public func r2_transfer_copy_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                      _ client: OpaquePointer?, _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                                      _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                      _ opts: UnsafePointer<r2_transfer_options>?,
                                      _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        try c.startCopyLarge(sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                             bucket: string(bucket, "bucket"), key: string(key, "key"),
                             options: asyncTransferOptions(opts, asyncOp), op: asyncOp, done: finish)
    }, deliver: fillInfo)
}

/// Starts r2_transfer_upload_stream() without blocking: with length >= 0 below the threshold one
/// streamed PUT; otherwise (and always for length -1, unknown) a multipart upload whose parts are read in
/// order from read (on an r2 engine thread, into at most concurrency + 1 part buffers) and sent as
/// engine transfers. read returns the bytes it put in buf, 0 at the end, R2_READ_PAUSE when it has none
/// yet (reading waits for r2_op_resume()), or another negative value to abort (the upload is aborted).
///
/// - Parameters:
///   - op: Out, may be NULL: the operation (needed to resume a paused source).
///   - info: Out, may be NULL: the object's ETag and size (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - length: The stream's length, or -1 when unknown.
///   - read: Fills the body, in order.
///   - read_userdata: Passed to read (and to opts->put->rewind).
///   - opts: Transfer options, may be NULL; opts->state_path is refused; progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_transfer_upload_stream().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; read, progress and done run on an r2 engine thread.
@c public func r2_transfer_upload_stream_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                               _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                               _ length: Int64, _ read: r2_read_cb?, _ read_userdata: UnsafeMutableRawPointer?,
                                               _ opts: UnsafePointer<r2_transfer_options>?,
                                               _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        guard let read else { throw invalid("read is NULL") }
        guard length >= -1 else { throw invalid("length \(length) must be >= 0, or -1 for unknown") }
        try c.startUploadStream(bucket: string(bucket, "bucket"), key: string(key, "key"), length: length < 0 ? nil : UInt64(length),
                                options: asyncTransferOptions(opts, asyncOp), rewind: rewindBody(opts?.pointee.put, read_userdata),
                                read: bodyReader(read, read_userdata, pausable: true), op: asyncOp, done: finish)
    }, deliver: fillInfo)
}

/// Starts r2_transfer_download_stream() without blocking: a HEAD, then one GET below the threshold, else
/// ranged GETs on r2's engine (opts->concurrency at a time, into at most concurrency + 1 part buffers)
/// delivered to write in order. write runs on an r2 engine thread; it returns 0 to go on, R2_WRITE_PAUSE
/// to pause (the same chunk comes again after r2_op_resume()), anything else to abort.
///
/// - Parameters:
///   - op: Out, may be NULL: the operation (needed to resume a paused stream).
///   - info: Out, may be NULL: the object's metadata (set info->version); release with r2_object_info_dispose().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - write: Receives the body, in order.
///   - write_userdata: Passed to write.
///   - opts: Transfer options, may be NULL; progress runs on an r2 engine thread.
///   - done: Runs once when the operation is over.
///   - userdata: Passed to done and free_userdata.
///   - free_userdata: May be NULL: runs once with userdata after done.
/// - Returns: R2_OK when started, or an error when not started. done gets the statuses of r2_transfer_download_stream().
/// - Ownership: strings and opts are copied during the call; info must stay valid until done runs.
/// - Threads: any thread; write, progress and done run on an r2 engine thread.
@c public func r2_transfer_download_stream_async(_ op: UnsafeMutablePointer<OpaquePointer?>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                                                 _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                                 _ write: r2_write_cb?, _ write_userdata: UnsafeMutableRawPointer?,
                                                 _ opts: UnsafePointer<r2_transfer_options>?,
                                                 _ done: r2_done_cb?, _ userdata: UnsafeMutableRawPointer?, _ free_userdata: r2_free_cb?) -> Int32 {
    startAsync(op, client, done, userdata, free_userdata, prepare: { () throws(R2Error) in try ResultOut(info, "info") },
               run: { (c, asyncOp, finish) throws(R2Error) in
        guard let write else { throw invalid("write is NULL") }
        try c.startDownloadStream(bucket: string(bucket, "bucket"), key: string(key, "key"), options: asyncTransferOptions(opts, asyncOp),
                                  op: asyncOp, write: asyncWrite(write, write_userdata), done: finish)
    }, deliver: fillInfo)
}
