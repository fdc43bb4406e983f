import Glibc

/// The async API: each call runs the blocking operation on a thread of its
/// own, so a long transfer never holds one of Swift's cooperative threads.
/// Cancelling the task cancels the transfer (it fails with `.cancelled`).
extension R2Client {
    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], options: PutOptions = PutOptions()) async throws(R2Error) -> ObjectInfo {
        try await offload { () throws(R2Error) in try self.putObject(bucket: bucket, key: key, body: body, options: options) }
    }

    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions()) async throws(R2Error) -> GetObjectOutput {
        try await offload { () throws(R2Error) in try self.getObject(bucket: bucket, key: key, options: options) }
    }

    public func headObject(bucket: String, key: String, options: GetOptions = GetOptions()) async throws(R2Error) -> ObjectInfo {
        try await offload { () throws(R2Error) in try self.headObject(bucket: bucket, key: key, options: options) }
    }

    @discardableResult
    public func deleteObject(bucket: String, key: String) async throws(R2Error) -> ObjectInfo {
        try await offload { () throws(R2Error) in try self.deleteObject(bucket: bucket, key: key) }
    }

    public func deleteObjects(bucket: String, keys: [String], quiet: Bool = false) async throws(R2Error) -> DeleteResult {
        try await offload { () throws(R2Error) in try self.deleteObjects(bucket: bucket, keys: keys, quiet: quiet) }
    }

    public func copyObject(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                           options: CopyOptions = CopyOptions()) async throws(R2Error) -> (result: CopyObjectResult, info: ObjectInfo) {
        try await offload { () throws(R2Error) in
            try self.copyObject(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options)
        }
    }

    public func listObjects(bucket: String, options: ListOptions = ListOptions()) async throws(R2Error) -> ListPage {
        try await offload { () throws(R2Error) in try self.listObjects(bucket: bucket, options: options) }
    }

    /// Every object of a listing, fetching pages lazily.
    public func objects(bucket: String, options: ListOptions = ListOptions()) -> AsyncThrowingStream<ListBucketResult.Entry, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var options = options
                var progress = ListingProgress()
                do {
                    while true {
                        let page = try await self.listObjects(bucket: bucket, options: options).result
                        try progress.check(page, sentToken: options.continuationToken)
                        for entry in page.contents { continuation.yield(entry) }
                        guard page.isTruncated, let token = page.nextContinuationToken, !token.isEmpty else { break }
                        options.continuationToken = token
                        options.startAfter = nil
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    @discardableResult
    public func uploadFile(path: String, bucket: String, key: String, options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        let cancellation = options.cancellation ?? Cancellation()
        var options = options
        options.cancellation = cancellation
        let o = UncheckedBox(options)
        return try await offload(cancellation) { () throws(R2Error) in try self.uploadFile(path: path, bucket: bucket, key: key, options: o.value) }
    }

    @discardableResult
    public func downloadFile(bucket: String, key: String, path: String, options: TransferOptions = TransferOptions()) async throws(R2Error) -> ObjectInfo {
        let cancellation = options.cancellation ?? Cancellation()
        var options = options
        options.cancellation = cancellation
        let o = UncheckedBox(options)
        return try await offload(cancellation) { () throws(R2Error) in try self.downloadFile(bucket: bucket, key: key, path: path, options: o.value) }
    }
}

/// Carries a value whose closures (progress callbacks) are only called from
/// the one thread that runs the operation.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs `body` on a new thread and resumes with its result; task
/// cancellation trips `cancellation`.
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
