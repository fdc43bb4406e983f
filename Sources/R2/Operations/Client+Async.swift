import Glibc

/// The async API. Each call runs on r2's engine (libcurl's multi interface on
/// a few r2-owned loop threads, see HTTP/Engine.swift) through the same
/// exchanges and retry state machine as the blocking call, and suspends the
/// task until the engine reports the outcome: no thread is held or started
/// per call. Cancelling the task cancels the request (it fails with
/// `.cancelled`). Errors are typed (`R2Error`).
extension R2Client {
    // MARK: Objects

    /// PutObject of bytes (copied once, so `body` need not outlive the call's start).
    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], options: PutOptions = PutOptions()) async throws(R2Error) -> ObjectInfo {
        let owned = OwnedBytes(body)
        let e = try putObjectExchange(bucket: bucket, key: key, body: owned.bytes, options: options)
        return try await runOnEngine(e.map { (info) throws(R2Error) in withExtendedLifetime(owned) { info } })
    }

    /// Reads an object into memory (bounded by `config.maxGetBytes`, as the blocking call).
    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions()) async throws(R2Error) -> GetObjectOutput {
        let e = try getObjectMallocedExchange(bucket: bucket, key: key, options: options)
        return try await runOnEngine(e.map { output in
            defer { free(output.body) }
            return GetObjectOutput(info: output.info, body: Array(UnsafeBufferPointer(start: output.body, count: output.count)))
        })
    }

    public func headObject(bucket: String, key: String, options: GetOptions = GetOptions()) async throws(R2Error) -> ObjectInfo {
        try await runOnEngine(headObjectExchange(bucket: bucket, key: key, options: options))
    }

    @discardableResult
    public func deleteObject(bucket: String, key: String) async throws(R2Error) -> ObjectInfo {
        try await runOnEngine(deleteObjectExchange(bucket: bucket, key: key))
    }

    /// DeleteObjects, 1000 keys per request, the batches in order (as the blocking call).
    public func deleteObjects(bucket: String, keys: [String], quiet: Bool = false) async throws(R2Error) -> DeleteResult {
        let op = AsyncOp()
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startDeleteObjects(bucket: bucket, keys: keys, quiet: quiet, op: op, done: done)
        }
    }

    public func copyObject(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                           options: CopyOptions = CopyOptions()) async throws(R2Error) -> (result: CopyObjectResult, info: ObjectInfo) {
        let e = try copyObjectExchange(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options)
        let r = try await runOnEngine(e.map { r in CopyOutput(result: r.result, info: r.info) })
        return (r.result, r.info)
    }

    /// One page of ListObjectsV2.
    public func listObjects(bucket: String, options: ListOptions = ListOptions()) async throws(R2Error) -> ListPage {
        try await runOnEngine(listObjectsExchange(bucket: bucket, options: options))
    }

    /// Every object of a listing, as a typed `AsyncSequence`: one page
    /// (at most `maxKeys`, 1000) is held at a time and the next is fetched
    /// when the consumer reaches its end.
    public func objects(bucket: String, options: ListOptions = ListOptions()) -> ListObjectsSequence {
        ListObjectsSequence(client: self, bucket: bucket, options: options)
    }

    // MARK: Multipart

    public func createMultipartUpload(bucket: String, key: String, options: PutOptions = PutOptions()) async throws(R2Error) -> MultipartUpload {
        try await runOnEngine(createMultipartUploadExchange(bucket: bucket, key: key, options: options))
    }

    /// UploadPart of bytes (copied once), with the blocking call's checks of R2's part-size rules.
    public func uploadPart(_ upload: MultipartUpload, partNumber: Int, body: [UInt8], checksum: ChecksumAlgorithm = .none,
                           payloadMode: PayloadMode? = nil, sseCustomerKey: SSECustomerKey? = nil) async throws(R2Error) -> CompletedPart {
        let owned = OwnedBytes(body)
        let e = try uploadPartExchange(upload, partNumber: partNumber, body: owned.bytes, checksum: checksum, payloadMode: payloadMode,
                                       sseCustomerKey: sseCustomerKey)
        return try await runOnEngine(e.map { (part) throws(R2Error) in withExtendedLifetime(owned) { part } })
    }

    public func uploadPartCopy(_ upload: MultipartUpload, partNumber: Int, sourceBucket: String, sourceKey: String,
                               range: ClosedRange<UInt64>?, sseCustomerKey: SSECustomerKey? = nil,
                               sourceSSECustomerKey: SSECustomerKey? = nil) async throws(R2Error) -> CompletedPart {
        let op = AsyncOp()
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startUploadPartCopy(upload, partNumber: partNumber, sourceBucket: sourceBucket, sourceKey: sourceKey, range: range,
                                    sseCustomerKey: sseCustomerKey, sourceSSECustomerKey: sourceSSECustomerKey, op: op, done: done)
        }
    }

    /// CompleteMultipartUpload with the blocking call's checks and its
    /// resolution of an ambiguous failure (never re-sent blindly).
    @discardableResult
    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [CompletedPart], partSizes: [UInt64]? = nil,
                                        options: CompleteOptions = CompleteOptions()) async throws(R2Error) -> CompleteMultipartUploadResult {
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startCompleteMultipartUpload(upload, parts: parts, partSizes: partSizes, options: options, op: op, done: done)
        }
    }

    public func abortMultipartUpload(_ upload: MultipartUpload) async throws(R2Error) {
        try await runOnEngine(abortMultipartUploadExchange(upload))
    }

    /// Every uploaded part of an upload (all pages).
    public func listParts(_ upload: MultipartUpload) async throws(R2Error) -> [ListPartsResult.Part] {
        let op = AsyncOp()
        return try await awaitEngine(op) { (done) throws(R2Error) in try startListParts(upload, op: op, done: done) }
    }

    /// Every unfinished multipart upload in `bucket` under `prefix` (all pages).
    public func listMultipartUploads(bucket: String, prefix: String? = nil) async throws(R2Error) -> [ListMultipartUploadsResult.Upload] {
        let op = AsyncOp()
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startListMultipartUploads(bucket: bucket, prefix: prefix, op: op, done: done)
        }
    }

    // MARK: Transfers

    /// Uploads bytes (copied once): one PUT below the threshold, else
    /// multipart with `concurrency` parts in flight as engine transfers.
    /// `options.progress` is called on an engine thread. Resume state
    /// (`statePath`) is refused, as by the C ABI's asynchronous form.
    @discardableResult
    public func uploadBytes(_ body: [UInt8], bucket: String, key: String, options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        let owned = OwnedBytes(body)
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startUpload(.bytes(owned.bytes), bucket: bucket, key: key, options: options, op: op) { result in
                withExtendedLifetime(owned) { done(result) }
            }
        }
    }

    /// Uploads a file, on the engine as `uploadBytes` (each part read at its
    /// offset while it is sent). With `statePath` (a resumable upload) it runs
    /// the blocking transfer manager on a thread of its own instead: resume
    /// state has no engine form yet.
    @discardableResult
    public func uploadFile(path: String, bucket: String, key: String, options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        guard options.statePath == nil else {
            let (o, cancellation) = withCancellation(options)
            return try await offload(cancellation) { () throws(R2Error) in try self.uploadFile(path: path, bucket: bucket, key: key, options: o.value) }
        }
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startUpload(.file(path: path), bucket: bucket, key: key, options: options, op: op, done: done)
        }
    }

    /// Downloads to a file on the engine: one GET below the threshold, else
    /// ranged GETs (`concurrency` at a time) written at their offsets into a
    /// temporary file renamed into place at the end. With `statePath` (a
    /// resumable download) it runs the blocking transfer manager on a thread
    /// of its own instead.
    @discardableResult
    public func downloadFile(bucket: String, key: String, path: String, options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        guard options.statePath == nil else {
            let (o, cancellation) = withCancellation(options)
            return try await offload(cancellation) { () throws(R2Error) in try self.downloadFile(bucket: bucket, key: key, path: path, options: o.value) }
        }
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startDownloadFile(bucket: bucket, key: key, path: path, options: options, op: op, done: done)
        }
    }

    /// Server-side copy of any size on the engine: CopyObject, or
    /// UploadPartCopy (`concurrency` at a time) above the single-copy limit.
    @discardableResult
    public func copyLarge(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                          options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        let op = AsyncOp(cancellation: options.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in
            try startCopyLarge(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options, op: op, done: done)
        }
    }

    private func withCancellation(_ options: TransferOptions) -> (UncheckedBox<TransferOptions>, Cancellation) {
        let cancellation = options.cancellation ?? Cancellation()
        var options = options
        options.cancellation = cancellation
        return (UncheckedBox(options), cancellation)
    }

    // MARK: The bridge

    /// Runs an exchange on the engine and awaits its result.
    package func runOnEngine<S, O: Sendable>(_ e: Exchange<S, O>) async throws(R2Error) -> O {
        // The op's switch is the call's own when it has one, so either cancels it.
        let op = AsyncOp(cancellation: e.call.cancellation ?? Cancellation())
        return try await awaitEngine(op) { (done) throws(R2Error) in start(e, op: op, done: done) }
    }
}

/// A copy's result as one Sendable value (a tuple of them is not one to the compiler).
private struct CopyOutput: Sendable {
    let result: CopyObjectResult
    let info: ObjectInfo
}

/// Suspends until the engine operation that `start` starts on `op` reports
/// its outcome (on an engine thread); the task's cancellation cancels `op`.
/// An error thrown by `start` (invalid arguments) is thrown at once.
package func awaitEngine<T: Sendable>(_ op: AsyncOp,
                                      _ start: (@escaping @Sendable (Result<T, R2Error>) -> Void) throws(R2Error) -> Void)
    async throws(R2Error) -> T
{
    let result: Result<T, R2Error> = await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, R2Error>, Never>) in
            do throws(R2Error) {
                try start { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    } onCancel: {
        op.cancel()
    }
    return try result.get()
}

/// Carries a value whose closures (progress callbacks) are only called from
/// the one thread that runs the operation.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs `body` on a new thread and resumes with its result; task
/// cancellation trips `cancellation`. Only resumable transfers (`statePath`)
/// use it: resume state has no engine form.
func offload<T: Sendable>(_ cancellation: Cancellation? = nil,
                          _ body: @escaping @Sendable () throws(R2Error) -> T) async throws(R2Error) -> T {
    let result: Result<T, R2Error> = await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, R2Error>, Never>) in
            let started = startDetachedThread {
                do throws(R2Error) { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !started {
                continuation.resume(returning: .failure(R2Error(.libraryBug, "cannot start a thread for the call")))
            }
        }
    } onCancel: {
        cancellation?.cancel()
    }
    return try result.get()
}
