/// The transfer manager on the engine: uploads of bytes and files whose parts
/// are asynchronous transfers on the operation's loop (`concurrency` at a
/// time), not worker threads. The requests are the blocking manager's
/// exchanges (same part reads, checksums, retries, Complete and its checks);
/// progress is reported on the engine thread.
extension R2Client {
    /// Where an engine upload's bytes come from.
    package enum EngineUploadSource {
        /// Bytes that stay valid until the operation completes.
        case bytes(UnsafeRawBufferPointer)
        /// A file, read at each part's offset while the part is sent.
        case file(path: String)
    }

    /// `uploadBytes` / `uploadFile` on the engine: one PUT below the
    /// threshold; else CreateMultipartUpload, the parts, Complete (the upload
    /// is aborted after a failure). Resume state (`statePath`) is refused.
    package func startUpload(_ source: EngineUploadSource, bucket: String, key: String, options: TransferOptions, op: AsyncOp,
                             done: @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.statePath == nil else {
            throw R2Error.invalidArgument("state_path (resumable uploads) is not supported by the asynchronous form; use the blocking call")
        }
        var options = options
        options.cancellation = op.cancellation  // every request of the transfer stops with the operation
        let settings = try resolved(&options)
        let file: SourceFile?
        if case .file(let path) = source { file = try SourceFile(path: path) } else { file = nil }
        let size = file?.size ?? { if case .bytes(let b) = source { return UInt64(b.count) } else { return 0 } }()
        // The file stays open until the operation completes.
        let finish: (Result<ObjectInfo, R2Error>) -> Void = { result in
            file?.close()
            done(result)
        }
        let reporter = Box(ProgressReporter(options, total: size))
        if size < settings.threshold {
            let put: Exchange<BufferSink, ObjectInfo>
            do throws(R2Error) {
                switch source {
                case .bytes(let body):
                    put = try putObjectExchange(bucket: bucket, key: key, body: body, options: options.put)
                case .file:
                    var o = options.put
                    o.payloadMode = .unsigned  // streamed from the file: no second pass to hash it
                    let offset = Box<UInt64>(0)
                    put = try putObjectExchange(bucket: bucket, key: key, length: size, options: o,
                                                rewind: { offset.value = 0 }) { (buffer) throws(R2Error) -> Int in
                        let n = try file!.read(into: buffer, at: offset.value)
                        offset.value += UInt64(n)
                        reporter.value.report(offset.value)
                        return n
                    }
                }
            } catch {
                file?.close()
                throw error
            }
            start(put, op: op) { result in
                if case .success = result { reporter.value.finish(size) }
                finish(result)
            }
            return
        }
        let plan: UploadPlan
        do throws(R2Error) {
            plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
        } catch {
            file?.close()
            throw error
        }
        let create: Exchange<BufferSink, MultipartUpload>
        do throws(R2Error) {
            create = try createMultipartUploadExchange(bucket: bucket, key: key, options: Self.withoutConditions(options.put))
        } catch {
            file?.close()
            throw error
        }
        let partChecksum = options.partChecksum, sseKey = options.sseCustomerKey
        start(create, op: op) { [self] created in
            let upload: MultipartUpload
            switch created {
            case .success(let u): upload = u
            case .failure(let error): return finish(.failure(error))
            }
            let doneBytes = Box<UInt64>(0)
            let parts = EngineParts(count: plan.count, concurrency: settings.concurrency) { [self] number, partDone in
                let part: Exchange<BufferSink, CompletedPart>
                do throws(R2Error) {
                    switch source {
                    case .bytes(let body):
                        let r = plan.range(of: number)
                        part = try uploadPartExchange(upload, partNumber: number,
                                                      body: UnsafeRawBufferPointer(rebasing: body[Int(r.lowerBound)..<Int(r.upperBound)]),
                                                      checksum: partChecksum, cancellation: nil, sseCustomerKey: sseKey)
                    case .file:
                        part = try uploadPartExchange(upload, partNumber: number, file: file!, range: plan.range(of: number),
                                                      checksum: partChecksum, cancellation: nil, sseCustomerKey: sseKey)
                    }
                } catch {
                    return partDone(.failure(error))
                }
                start(part, op: op) { result in
                    if case .success = result {
                        doneBytes.value += plan.range(of: number).count
                        reporter.value.report(doneBytes.value)
                    }
                    partDone(result)
                }
            }
            parts.run { [self] result in
                let completed: [CompletedPart]
                switch result {
                case .failure(let error): return abortThenFail(upload, error, op: op, finish)
                case .success(let list): completed = list
                }
                do throws(R2Error) {
                    try startCompleteMultipartUpload(upload, parts: completed, partSizes: plan.sizes, options: options.completeOptions,
                                                     op: op) { [self] result in
                        switch result {
                        case .success(let r):
                            reporter.value.finish(plan.size)
                            var info = ObjectInfo()
                            info.etag = r.etag
                            info.contentLength = Int64(plan.size)
                            finish(.success(info))
                        case .failure(let error):
                            abortThenFail(upload, error, op: op, finish)
                        }
                    }
                } catch {
                    abortThenFail(upload, error, op: op, finish)
                }
            }
        }
    }

    /// Aborts an upload after `error` (on a fresh cancel switch: the operation's
    /// may be tripped), then reports `error`; an abort failure is only logged.
    private func abortThenFail<T>(_ upload: MultipartUpload, _ error: R2Error, op: AsyncOp,
                                  _ done: @escaping (Result<T, R2Error>) -> Void) {
        guard var abort = try? abortMultipartUploadExchange(upload) else { return done(.failure(error)) }
        abort.call.cancellation = Cancellation()
        start(abort, op: op) { result in
            if case .failure(let e) = result { self.logAbortFailure(upload, e) }
            done(.failure(error))
        }
    }
}

/// Parts 1...count of a transfer, at most `concurrency` in flight on the
/// engine; after the first failure no new part starts, and the outcome is
/// reported once the parts in flight are over. Loop thread only.
final class EngineParts {
    private let count: Int
    private let concurrency: Int
    private let startPart: (Int, @escaping (Result<CompletedPart, R2Error>) -> Void) -> Void
    private var next = 1
    private var inFlight = 0
    private var done: [CompletedPart] = []
    private var error: R2Error?
    private var finish: ((Result<[CompletedPart], R2Error>) -> Void)?

    init(count: Int, concurrency: Int, startPart: @escaping (Int, @escaping (Result<CompletedPart, R2Error>) -> Void) -> Void) {
        self.count = count
        self.concurrency = concurrency
        self.startPart = startPart
    }

    func run(_ finish: @escaping (Result<[CompletedPart], R2Error>) -> Void) {
        self.finish = finish
        fill()
    }

    private func fill() {
        while error == nil && inFlight < concurrency && next <= count {
            let number = next
            next += 1
            inFlight += 1
            startPart(number) { [self] result in
                inFlight -= 1
                switch result {
                case .success(let part): done.append(part)
                case .failure(let e): if error == nil { error = e }
                }
                fill()
            }
        }
        guard inFlight == 0, error != nil || done.count == count, let finish else { return }
        self.finish = nil
        finish(error.map { .failure($0) } ?? .success(done))
    }
}
