import Glibc

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
    func abortThenFail<T>(_ upload: MultipartUpload, _ error: R2Error, op: AsyncOp,
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

extension R2Client {
    /// The HEAD an engine transfer starts with (its size, its ETag): `then`
    /// gets the object's info, a failure ends the transfer through `done`.
    func startHead(bucket: String, key: String, sseCustomerKey: SSECustomerKey?, op: AsyncOp,
                   done: @escaping (Result<ObjectInfo, R2Error>) -> Void,
                   then: @escaping (ObjectInfo) -> Void) throws(R2Error) {
        var head = GetOptions()
        head.sseCustomerKey = sseCustomerKey
        start(try headObjectExchange(bucket: bucket, key: key, options: head), op: op) { headed in
            switch headed {
            case .success(let info): then(info)
            case .failure(let error): done(.failure(error))
            }
        }
    }
}

extension R2Client {
    /// `downloadFile` on the engine: HEAD, then one GET below the threshold or
    /// ranged GETs (`concurrency` at a time, each pinned to the ETag with
    /// If-Match) written at their offsets into `<path>.r2-partial`, which is
    /// synced and renamed into place at the end (removed after a failure).
    /// Resume state (`statePath`) is refused.
    package func startDownloadFile(bucket: String, key: String, path: String, options: TransferOptions, op: AsyncOp,
                                   done: @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.statePath == nil else {
            throw R2Error.invalidArgument("state_path (resumable downloads) is not supported by the asynchronous form; use the blocking call")
        }
        var options = options
        options.cancellation = op.cancellation
        let settings = try resolved(&options)
        let temporary = path + ".r2-partial"
        try startHead(bucket: bucket, key: key, sseCustomerKey: options.sseCustomerKey, op: op, done: done) { [self] info in
            let size = UInt64(max(info.contentLength, 0))
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                return done(.failure(R2Error.invalidArgument("cannot create \(temporary): \(String(cString: strerror(errno)))")))
            }
            let reporter = Box(ProgressReporter(options, total: size))
            let written = Box<UInt64>(0)
            func finish(_ error: R2Error?) {
                if let error {
                    close(fd)
                    unlink(temporary)
                    return done(.failure(error))
                }
                guard !options.fsync || fsync(fd) == 0 || errno == EINVAL else {
                    return finish(R2Error(.aborted, "fsync \(temporary): \(String(cString: strerror(errno)))"))
                }
                close(fd)
                guard rename(temporary, path) == 0 else {
                    unlink(temporary)
                    return done(.failure(R2Error(.aborted, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")))
                }
                reporter.value.finish(size)
                done(.success(info))
            }
            /// One GET (of a range, or of the whole object) written at its offsets.
            func fetch(_ range: Range<UInt64>?, _ partDone: @escaping (R2Error?) -> Void) {
                var get = GetOptions()
                get.sseCustomerKey = options.sseCustomerKey
                get.ifMatch = info.etag.isEmpty ? nil : info.etag
                if let range {
                    get.objectSize = size
                    get.range = "bytes=\(range.lowerBound)-\(range.upperBound - 1)"
                }
                let length = range?.count ?? size
                get.isBulkBody = length >= Self.bulkBodyBytes
                let offset = Box(range?.lowerBound ?? 0)
                let gathered = Box(GatheredWrites(bytes: get.isBulkBody ? Self.gatheredWriteBytes : 0) { (bytes, at) throws(R2Error) in
                    try writeAll(fd, bytes, at: at)
                })
                let failure = Box<R2Error?>(nil)
                let exchange: Exchange<StreamingGetSink, ObjectInfo>
                do throws(R2Error) {
                    exchange = try getObjectExchange(bucket: bucket, key: key, options: get) { chunk in
                        do throws(R2Error) { try gathered.value.write(chunk, at: offset.value) } catch {
                            failure.value = error
                            return .aborted
                        }
                        offset.value += UInt64(chunk.count)
                        written.value += UInt64(chunk.count)
                        reporter.value.report(written.value)
                        return .accepted
                    }
                } catch {
                    gathered.value.release()
                    return partDone(error)
                }
                start(exchange, op: op) { result in
                    defer { gathered.value.release() }
                    switch result {
                    case .failure(let error) where error.code == .preconditionFailed:
                        partDone(R2Error(.preconditionFailed, "\(bucket)/\(key) changed during the download (its ETag is no longer \(info.etag))",
                                         httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID))
                    case .failure(let error):
                        partDone(failure.value ?? error)
                    case .success:
                        do throws(R2Error) { try gathered.value.flush() } catch { return partDone(error) }
                        partDone(nil)
                    }
                }
            }
            if size < settings.threshold { return fetch(nil, finish) }
            let plan: UploadPlan
            do throws(R2Error) {
                plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
            } catch {
                return finish(error)
            }
            let parts = EngineParts(count: plan.count, concurrency: settings.concurrency) { number, partDone in
                fetch(plan.range(of: number)) { error in
                    partDone(error.map { .failure($0) } ?? .success(CompletedPart(partNumber: number, etag: "")))
                }
            }
            parts.run { result in
                if case .failure(let error) = result { return finish(error) }
                finish(nil)
            }
        }
    }
}

extension R2Client {
    /// `copyLarge` on the engine: HEAD of the source, then one CopyObject below
    /// the threshold, or CreateMultipartUpload, UploadPartCopy parts
    /// (`concurrency` at a time) and Complete (aborted after a failure).
    package func startCopyLarge(sourceBucket: String, sourceKey: String, bucket: String, key: String, options: TransferOptions,
                                op: AsyncOp, done: @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        try Validate.key(key)
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        var options = options
        options.cancellation = op.cancellation
        let settings = try resolved(&options)
        try startHead(bucket: sourceBucket, key: sourceKey, sseCustomerKey: options.sourceSSECustomerKey, op: op,
                      done: done) { [self] source in
            let size = UInt64(max(source.contentLength, 0))
            let reporter = Box(ProgressReporter(options, total: size))
            if size < Self.largeCopyThreshold(options) {
                let copy: Exchange<BufferSink, (result: CopyObjectResult, info: ObjectInfo)>
                do throws(R2Error) {
                    copy = try copyObjectExchange(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key,
                                                  options: Self.largeCopyOptions(options))
                } catch {
                    return done(.failure(error))
                }
                return start(copy, op: op) { result in
                    done(result.map { copied in
                        reporter.value.finish(size)
                        var info = ObjectInfo()
                        info.etag = copied.result.etag
                        info.lastModified = copied.result.lastModified
                        info.contentLength = Int64(size)
                        info.requestID = copied.info.requestID
                        return info
                    })
                }
            }
            let plan: UploadPlan
            let create: Exchange<BufferSink, MultipartUpload>
            do throws(R2Error) {
                plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
                create = try createMultipartUploadExchange(bucket: bucket, key: key,
                                                           options: Self.withoutConditions(Self.largeCopyPut(options, source: source)))
            } catch {
                return done(.failure(error))
            }
            start(create, op: op) { [self] created in
                let upload: MultipartUpload
                switch created {
                case .success(let u): upload = u
                case .failure(let error): return done(.failure(error))
                }
                let copied = Box<UInt64>(0)
                let parts = EngineParts(count: plan.count, concurrency: settings.concurrency) { [self] number, partDone in
                    let range = plan.range(of: number)
                    let part: Exchange<BufferSink, CompletedPart>
                    do throws(R2Error) {
                        part = try uploadPartCopyExchange(upload, partNumber: number, sourceBucket: sourceBucket, sourceKey: sourceKey,
                                                          range: range.count == 0 ? nil : range.lowerBound...(range.upperBound - 1),
                                                          size: range.count, sseCustomerKey: options.sseCustomerKey,
                                                          sourceSSECustomerKey: options.sourceSSECustomerKey)
                    } catch {
                        return partDone(.failure(error))
                    }
                    start(part, op: op) { result in
                        if case .success = result {
                            copied.value += range.count
                            reporter.value.report(copied.value)
                        }
                        partDone(result)
                    }
                }
                parts.run { [self] result in
                    let list: [CompletedPart]
                    switch result {
                    case .success(let l): list = l
                    case .failure(let error): return abortThenFail(upload, error, op: op, done)
                    }
                    do throws(R2Error) {
                        try startCompleteMultipartUpload(upload, parts: list, partSizes: plan.sizes, options: options.completeOptions,
                                                         op: op) { [self] result in
                            switch result {
                            case .success(let r):
                                reporter.value.finish(size)
                                var info = ObjectInfo()
                                info.etag = r.etag
                                info.contentLength = Int64(size)
                                done(.success(info))
                            case .failure(let error):
                                abortThenFail(upload, error, op: op, done)
                            }
                        }
                    } catch {
                        abortThenFail(upload, error, op: op, done)
                    }
                }
            }
        }
    }
}

extension R2Client {
    /// `uploadStream` on the engine: a known length below the threshold is one
    /// streamed PUT; otherwise a multipart upload whose parts are read in
    /// order from `read` (on the loop's thread, into at most concurrency + 1
    /// part buffers) and sent as engine transfers. `read` may return
    /// `RequestBody.readPaused`: reading waits for the operation's resume.
    package func startUploadStream(bucket: String, key: String, length: UInt64?, options: TransferOptions,
                                   rewind: (() throws(R2Error) -> Void)?, read: @escaping (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int,
                                   op: AsyncOp, done: @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.statePath == nil else {
            throw R2Error.invalidArgument("a stream cannot be resumed (its bytes cannot be read again): state_path is for files")
        }
        var options = options
        options.cancellation = op.cancellation
        let settings = try resolved(&options)
        if let length, length < settings.threshold {
            let reporter = Box(ProgressReporter(options, total: length))
            let sent = Box<UInt64>(0)
            var restart: (() throws(R2Error) -> Void)? = nil
            if let rewind {
                restart = { () throws(R2Error) in
                    try rewind()
                    sent.value = 0
                }
            }
            let put = try putObjectExchange(bucket: bucket, key: key, length: length, options: options.put, rewind: restart) {
                (buffer) throws(R2Error) -> Int in
                let n = try read(buffer)
                if n > 0 {
                    sent.value += UInt64(n)
                    reporter.value.report(sent.value)
                }
                return n
            }
            return start(put, op: op) { result in
                if case .success = result { reporter.value.finish(length) }
                done(result)
            }
        }
        // An unknown length uses the chosen part size as is (at most 10 000 parts).
        let partSize = try MultipartLimits.partSize(for: length ?? 0, preferred: settings.partSize)
        let create = try createMultipartUploadExchange(bucket: bucket, key: key, options: Self.withoutConditions(options.put))
        start(create, op: op) { [self] created in
            switch created {
            case .success(let upload):
                EngineStreamUpload(client: self, upload: upload, partSize: Int(partSize), total: length, concurrency: settings.concurrency,
                                   options: options, op: op, read: read, done: done).start()
            case .failure(let error):
                done(.failure(error))
            }
        }
    }
}

/// The multipart path of `startUploadStream`: reads parts in order into a
/// few buffers and sends each as an engine transfer. Loop thread only.
final class EngineStreamUpload: Interruptible {
    private let client: R2Client
    private let upload: MultipartUpload
    private let partSize: Int
    private let total: UInt64?
    private let concurrency: Int
    private let options: TransferOptions
    private let op: AsyncOp
    private let read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int
    private var done: ((Result<ObjectInfo, R2Error>) -> Void)?
    private var free: [UnsafeMutableRawBufferPointer]
    private let all: [UnsafeMutableRawBufferPointer]
    /// The buffer being filled, and how far.
    private var current: UnsafeMutableRawBufferPointer?
    private var filled = 0
    private var number = 0
    private var readTotal: UInt64 = 0
    private var sent: UInt64 = 0
    private var inFlight = 0
    private var ended = false
    private var paused = false
    private var error: R2Error?
    private var parts: [CompletedPart] = []
    private var sizes: [Int: UInt64] = [:]
    private var reporter: ProgressReporter

    init(client: R2Client, upload: MultipartUpload, partSize: Int, total: UInt64?, concurrency: Int, options: TransferOptions,
         op: AsyncOp, read: @escaping (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int,
         done: @escaping (Result<ObjectInfo, R2Error>) -> Void) {
        self.client = client; self.upload = upload; self.partSize = partSize; self.total = total
        self.concurrency = concurrency; self.options = options; self.op = op; self.read = read; self.done = done
        all = (0...concurrency).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: partSize, alignment: 64) }
        free = all
        reporter = ProgressReporter(options, total: total)
    }

    deinit { for b in all { b.deallocate() } }

    func start() {
        op.enter(self)
        pump()
    }

    /// Reads and sends parts while buffers are free, the source has data and nothing failed.
    private func pump() {
        while !ended && !paused && error == nil {
            if current == nil {
                guard let b = free.popLast() else { break }
                current = b
                filled = 0
            }
            let buffer = current!
            do throws(R2Error) {
                while filled < partSize {
                    let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                    if n == RequestBody.readPaused {
                        paused = true
                        return
                    }
                    guard n >= 0, n <= partSize - filled else { throw R2Error.invalidArgument("the read callback returned \(n)") }
                    if n == 0 { break }
                    filled += n
                }
            } catch {
                fail(error)
                break
            }
            current = nil
            readTotal += UInt64(filled)
            if let total, readTotal > total { fail(R2Error(.incompleteBody, "the stream gave more than its declared \(total) bytes")); break }
            if filled < partSize { ended = true }
            if filled > 0 || number == 0 {
                number += 1
                guard number <= MultipartLimits.maxParts else {
                    fail(R2Error(.entityTooLarge, "the stream needs more than 10 000 parts of \(partSize) bytes"))
                    break
                }
                send(number, buffer, filled)
            } else {
                free.append(buffer)
            }
        }
        if ended, error == nil, let total, readTotal < total {
            fail(R2Error(.incompleteBody, "the stream ended after \(readTotal) of \(total) bytes"))
        }
        settle()
    }

    private func send(_ number: Int, _ buffer: UnsafeMutableRawBufferPointer, _ count: Int) {
        let part: Exchange<BufferSink, CompletedPart>
        do throws(R2Error) {
            part = try client.uploadPartExchange(upload, partNumber: number, body: UnsafeRawBufferPointer(rebasing: buffer[0..<count]),
                                                 checksum: options.partChecksum, cancellation: nil, sseCustomerKey: options.sseCustomerKey)
        } catch {
            free.append(buffer)
            return fail(error)
        }
        inFlight += 1
        client.start(part, op: op) { [self] result in
            inFlight -= 1
            free.append(buffer)
            switch result {
            case .success(let p):
                parts.append(p)
                sizes[number] = UInt64(count)
                sent += UInt64(count)
                reporter.report(sent)
            case .failure(let e):
                fail(e)
            }
            pump()
        }
    }

    private func fail(_ e: R2Error) { if error == nil { error = e } }

    /// Completes (or aborts) once the source ended or failed and no part is in flight.
    private func settle() {
        guard inFlight == 0, ended || error != nil, let done else { return }
        self.done = nil
        op.leave(self)
        if let error {
            return client.abortThenFail(upload, error, op: op, done)
        }
        let sizeList = (1...number).map { sizes[$0] ?? 0 }
        do throws(R2Error) {
            try client.startCompleteMultipartUpload(upload, parts: parts, partSizes: sizeList, options: options.completeOptions, op: op) {
                [self] result in
                switch result {
                case .success(let r):
                    reporter.finish(readTotal)
                    var info = ObjectInfo()
                    info.etag = r.etag
                    info.contentLength = Int64(readTotal)
                    done(.success(info))
                case .failure(let error):
                    client.abortThenFail(upload, error, op: op, done)
                }
            }
        } catch {
            client.abortThenFail(upload, error, op: op, done)
        }
    }

    func interrupt() {
        fail(R2Error(.cancelled, "upload cancelled"))
        paused = false
        settle()
    }

    func unpause() {
        guard paused else { return }
        paused = false
        pump()
    }
}

extension R2Client {
    /// `downloadStream` on the engine: HEAD, then one GET below the threshold
    /// (or with a concurrency of 1), else ranged GETs (`concurrency` at a time,
    /// into at most concurrency + 1 part buffers) delivered to `write` in order,
    /// one whole part per call. `write` may pause (`.paused`): the part comes
    /// again after the operation resumes.
    package func startDownloadStream(bucket: String, key: String, options: TransferOptions, op: AsyncOp,
                                     write: @escaping (UnsafeRawBufferPointer) -> SinkVerdict,
                                     done: @escaping (Result<ObjectInfo, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        options.cancellation = op.cancellation
        let settings = try resolved(&options)
        try startHead(bucket: bucket, key: key, sseCustomerKey: options.sseCustomerKey, op: op, done: done) { [self] info in
            let size = UInt64(max(info.contentLength, 0))
            if size < settings.threshold || settings.concurrency == 1 {
                var get = GetOptions()
                get.sseCustomerKey = options.sseCustomerKey
                get.ifMatch = info.etag.isEmpty ? nil : info.etag
                get.isBulkBody = size >= Self.bulkBodyBytes
                let reporter = Box(ProgressReporter(options, total: size))
                let delivered = Box<UInt64>(0)
                let exchange: Exchange<StreamingGetSink, ObjectInfo>
                do throws(R2Error) {
                    exchange = try getObjectExchange(bucket: bucket, key: key, options: get) { chunk in
                        let verdict = write(chunk)
                        if verdict == .accepted {
                            delivered.value += UInt64(chunk.count)
                            reporter.value.report(delivered.value)
                        }
                        return verdict
                    }
                } catch {
                    return done(.failure(error))
                }
                return start(exchange, op: op) { result in
                    switch result {
                    case .success:
                        reporter.value.finish(delivered.value)
                        done(.success(info))
                    case .failure(let error):
                        done(.failure(error))
                    }
                }
            }
            do throws(R2Error) {
                let plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
                EngineOrderedDownload(client: self, bucket: bucket, key: key, info: info, plan: plan, concurrency: settings.concurrency,
                                      options: options, op: op, write: write, done: done).start()
            } catch {
                done(.failure(error))
            }
        }
    }
}

/// The parallel path of `startDownloadStream`: parts fetched into a few
/// buffers, delivered in order; a paused part waits for the resume. Loop thread only.
final class EngineOrderedDownload: Interruptible {
    private let client: R2Client
    private let bucket: String
    private let key: String
    private let info: ObjectInfo
    private let plan: UploadPlan
    private let options: TransferOptions
    private let op: AsyncOp
    private let write: (UnsafeRawBufferPointer) -> SinkVerdict
    private var done: ((Result<ObjectInfo, R2Error>) -> Void)?
    private let all: [UnsafeMutableRawBufferPointer]
    private var free: [UnsafeMutableRawBufferPointer]
    private var ready: [Int: (UnsafeMutableRawBufferPointer, Int)] = [:]
    private var nextToStart = 1
    private var nextToDeliver = 1
    private var inFlight = 0
    private var paused = false
    private var error: R2Error?
    private var delivered: UInt64 = 0
    private var reporter: ProgressReporter

    init(client: R2Client, bucket: String, key: String, info: ObjectInfo, plan: UploadPlan, concurrency: Int, options: TransferOptions,
         op: AsyncOp, write: @escaping (UnsafeRawBufferPointer) -> SinkVerdict, done: @escaping (Result<ObjectInfo, R2Error>) -> Void) {
        self.client = client; self.bucket = bucket; self.key = key; self.info = info; self.plan = plan
        self.options = options; self.op = op; self.write = write; self.done = done
        all = (0...concurrency).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Int(plan.partSize), alignment: 64) }
        free = all
        reporter = ProgressReporter(options, total: plan.size)
    }

    deinit { for b in all { b.deallocate() } }

    func start() {
        op.enter(self)
        pump()
    }

    private func pump() {
        // Deliver what is ready, in order.
        while error == nil && !paused, let (buffer, count) = ready[nextToDeliver] {
            switch write(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
            case .accepted:
                ready[nextToDeliver] = nil
                free.append(buffer)
                delivered += UInt64(count)
                reporter.report(delivered)
                nextToDeliver += 1
            case .paused:
                paused = true
            case .aborted:
                fail(R2Error(.aborted, "the write callback stopped the download"))
            }
        }
        // Start parts while buffers are free.
        while error == nil && nextToStart <= plan.count, let buffer = free.popLast() {
            fetch(nextToStart, into: buffer)
            nextToStart += 1
        }
        settle()
    }

    private func fetch(_ number: Int, into buffer: UnsafeMutableRawBufferPointer) {
        let range = plan.range(of: number)
        var get = GetOptions()
        get.objectSize = plan.size
        get.sseCustomerKey = options.sseCustomerKey
        get.range = "bytes=\(range.lowerBound)-\(range.upperBound - 1)"
        get.isBulkBody = range.count >= R2Client.bulkBodyBytes
        get.ifMatch = info.etag.isEmpty ? nil : info.etag
        let filled = Box(0)
        let exchange: Exchange<StreamingGetSink, ObjectInfo>
        do throws(R2Error) {
            exchange = try client.getObjectExchange(bucket: bucket, key: key, options: get) { chunk in
                guard filled.value + chunk.count <= buffer.count else { return .aborted }
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled.value...]).copyMemory(from: chunk)
                filled.value += chunk.count
                return .accepted
            }
        } catch {
            free.append(buffer)
            return fail(error)
        }
        inFlight += 1
        client.start(exchange, op: op) { [self] result in
            inFlight -= 1
            switch result {
            case .success where filled.value == Int(range.count):
                ready[number] = (buffer, filled.value)
            case .success:
                free.append(buffer)
                fail(R2Error(.incompleteBody, "part \(number): \(filled.value) of \(range.count) bytes"))
            case .failure(let e) where e.code == .preconditionFailed:
                free.append(buffer)
                fail(R2Error(.preconditionFailed, "\(bucket)/\(key) changed during the download (its ETag is no longer \(info.etag))",
                             httpStatus: e.httpStatus, s3Code: e.s3Code, requestID: e.requestID))
            case .failure(let e):
                free.append(buffer)
                fail(e)
            }
            pump()
        }
    }

    private func fail(_ e: R2Error) { if error == nil { error = e } }

    private func settle() {
        guard inFlight == 0, error != nil || nextToDeliver > plan.count, let done else { return }
        self.done = nil
        op.leave(self)
        if let error { return done(.failure(error)) }
        reporter.finish(delivered)
        done(.success(info))
    }

    func interrupt() {
        fail(R2Error(.cancelled, "download cancelled"))
        paused = false
        settle()
    }

    func unpause() {
        guard paused else { return }
        paused = false
        pump()
    }
}
