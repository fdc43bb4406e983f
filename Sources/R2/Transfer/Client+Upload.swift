import Glibc

/// The transfer manager: uploads (file, bytes, stream) that switch to
/// multipart above a threshold, parallel ranged downloads, large copies.
///
/// Threads: parts move on worker threads (`concurrency` of them); the progress
/// callback and the caller's read/write callbacks run on the calling thread,
/// so a binding never sees a callback from a thread it does not know.

/// Bytes moved so far; `total` is nil for a stream of unknown length.
public struct TransferProgress: Sendable, Equatable {
    public var bytesDone: UInt64
    public var bytesTotal: UInt64?
}

public struct TransferOptions {
    /// Multipart at or above this many bytes; nil uses the client's (100 MiB).
    public var threshold: UInt64?
    /// Preferred part size; nil uses the client's (10 MiB). Raised when the object needs more than 10 000 parts.
    public var partSize: UInt64?
    /// Parts in flight at once; nil uses the client's (4). 1...64.
    public var concurrency: Int?
    /// Headers and metadata of the uploaded object (its checksum field must be none: see `partChecksum`).
    public var put = PutOptions()
    /// A per-part integrity check for multipart: none, Content-MD5, CRC32 or CRC32C.
    public var partChecksum: ChecksumAlgorithm = .none
    /// Called on the calling thread at most every `progressIntervalMs`, and once at the end.
    public var progress: ((TransferProgress) -> Void)?
    public var progressIntervalMs = 100
    /// Cancels the transfer from any thread; the call then fails with `.cancelled`.
    public var cancellation: Cancellation?
    /// Resume state: uploads record the upload id and finished parts here (a
    /// failure then leaves the upload for a later call to resume instead of
    /// aborting it); downloads record finished ranges next to a temporary file.
    public var statePath: String?
    /// SSE-C: the key of the object written or read (uploads: set here or in
    /// `put`), and of a copy's source.
    public var sseCustomerKey: SSECustomerKey?
    public var sourceSSECustomerKey: SSECustomerKey?
    /// Downloads to a file: fsync it before renaming it into place (on by
    /// default), so that after a crash `path` holds the whole object or
    /// nothing. Off saves the wait for the disk (curl and boto3 do not sync).
    public var fsync = true

    public init() {}
}

extension R2Client {
    func resolved(_ o: inout TransferOptions) throws(R2Error) -> (threshold: UInt64, partSize: UInt64, concurrency: Int) {
        // Every request of the transfer, not only the parts, stops on cancel.
        if o.put.cancellation == nil { o.put.cancellation = o.cancellation }
        if o.put.sseCustomerKey == nil { o.put.sseCustomerKey = o.sseCustomerKey }
        if o.sseCustomerKey == nil { o.sseCustomerKey = o.put.sseCustomerKey }
        let concurrency = o.concurrency ?? Int(config.multipartConcurrency)
        guard (1...64).contains(concurrency) else { throw R2Error.invalidArgument("concurrency is \(concurrency); it must be 1 to 64") }
        let part = o.partSize ?? config.multipartPartSize
        guard part >= MultipartLimits.minPartSize, part <= MultipartLimits.maxPartSize else {
            throw R2Error.invalidArgument("part size \(part) must be between 5 MiB and 5 GiB")
        }
        let threshold = min(o.threshold ?? config.multipartThreshold, Self.maxSinglePutSize)
        // One rule whatever the size: R2 has no whole-object checksum for multipart.
        guard o.put.checksum == .none else {
            throw R2Error(.unsupported, "transfers take a per-part checksum (part_checksum), not a whole-object one: R2 has none for multipart uploads")
        }
        switch o.partChecksum {
        case .none, .md5, .crc32, .crc32c: break
        case .sha1, .sha256: throw R2Error(.unsupported, "R2 refuses SHA-1/SHA-256 part checksums; use CRC32, CRC32C or MD5")
        }
        return (threshold, part, concurrency)
    }

    // MARK: Uploads

    /// Uploads a file: one PUT below the threshold, multipart at or above it,
    /// reading each part at its offset as it is sent.
    @discardableResult
    public func uploadFile(path: String, bucket: String, key: String, options: TransferOptions = TransferOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        let settings = try resolved(&options)
        let file = try SourceFile(path: path)
        defer { file.close() }
        if file.size < settings.threshold && options.statePath == nil {
            var reporter = ProgressReporter(options, total: file.size)
            var offset: UInt64 = 0
            var put = options.put
            put.payloadMode = .unsigned  // streamed from the file: no second pass to hash it
            // A file can be read again: a failed PUT (429, 5xx, network) is re-sent from its first byte.
            let info = try putObject(bucket: bucket, key: key, length: file.size, options: put,
                                     rewind: { offset = 0 }) { (buffer) throws(R2Error) -> Int in
                try options.cancellation?.check()
                let n = try file.read(into: buffer, at: offset)
                offset += UInt64(n)
                reporter.report(offset)
                return n
            }
            reporter.finish(file.size)
            return info
        }
        let plan = try UploadPlan(size: file.size, partSize: MultipartLimits.partSize(for: file.size, preferred: settings.partSize))
        return try uploadParts(bucket: bucket, key: key, plan: plan, concurrency: settings.concurrency, options: options,
                               fingerprint: file.fingerprint, source: .file(file))
    }

    /// Uploads bytes already in memory: one PUT below the threshold, else multipart without copying.
    @discardableResult
    public func uploadBytes(_ body: UnsafeRawBufferPointer, bucket: String, key: String,
                            options: TransferOptions = TransferOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        let settings = try resolved(&options)
        let size = UInt64(body.count)
        if size < settings.threshold {
            var reporter = ProgressReporter(options, total: size)
            try options.cancellation?.check()
            let info = try putObject(bucket: bucket, key: key, body: body, options: options.put)
            reporter.finish(size)
            return info
        }
        let plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
        // The caller's buffer outlives the call, and every worker has finished with it when it returns.
        nonisolated(unsafe) let base = body.baseAddress!
        return try uploadParts(bucket: bucket, key: key, plan: plan, concurrency: settings.concurrency, options: options,
                               fingerprint: nil, source: .memory { number in
            let range = plan.range(of: number)
            return UnsafeRawBufferPointer(start: base + Int(range.lowerBound), count: Int(range.count))
        })
    }

    /// Uploads a stream. With a known `length` below the threshold it is one
    /// streamed PUT; otherwise (and always for an unknown length) multipart,
    /// reading parts on the calling thread into at most concurrency + 1 buffers.
    @discardableResult
    /// `rewind` (restart the source from its first byte) lets the one-PUT
    /// path re-send a failed attempt; without it that PUT is not retried once read.
    public func uploadStream(bucket: String, key: String, length: UInt64?, options: TransferOptions = TransferOptions(),
                             rewind: (() throws(R2Error) -> Void)? = nil,
                             read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.statePath == nil else {
            throw R2Error.invalidArgument("a stream cannot be resumed (its bytes cannot be read again): state_path is for files")
        }
        var options = options
        let settings = try resolved(&options)
        if let length, length < settings.threshold {
            var reporter = ProgressReporter(options, total: length)
            var done: UInt64 = 0
            var restart: (() throws(R2Error) -> Void)? = nil
            if let rewind {
                restart = { () throws(R2Error) in
                    try rewind()
                    done = 0
                }
            }
            let info = try putObject(bucket: bucket, key: key, length: length, options: options.put, rewind: restart) { (buffer) throws(R2Error) -> Int in
                try options.cancellation?.check()
                let n = try read(buffer)
                done += UInt64(n)
                reporter.report(done)
                return n
            }
            reporter.finish(length)
            return info
        }
        // An unknown length uses the chosen part size as is (so it can hold at
        // most 10 000 parts: 100 GiB at 10 MiB; raise part_size for more).
        let partSize = try MultipartLimits.partSize(for: length ?? 0, preferred: settings.partSize)
        let stream = StreamingUpload(client: self, bucket: bucket, key: key, partSize: partSize, total: length,
                                     concurrency: settings.concurrency, options: options)
        do {
            return try withoutActuallyEscaping(read) { read in try stream.run(read: read) }
        } catch { throw error as! R2Error }
    }

    /// Where the parts of a random-access upload come from.
    enum PartSource: Sendable {
        /// Bytes already in memory: part number → its bytes.
        case memory(@Sendable (Int) -> UnsafeRawBufferPointer)
        /// A file, read at each part's offset while the part is sent: no buffer per worker.
        case file(SourceFile)
    }

    /// The multipart path for random-access sources: workers take part
    /// numbers in order and send each from `source`.
    func uploadParts(bucket: String, key: String, plan: UploadPlan, concurrency: Int, options: TransferOptions,
                     fingerprint: SourceFingerprint?, source: PartSource)
        throws(R2Error) -> ObjectInfo
    {
        var state: UploadState
        let upload: MultipartUpload
        if let statePath = options.statePath, let saved = try UploadState.load(statePath) {
            guard saved.bucket == bucket, saved.key == key else {
                throw R2Error.invalidArgument("state file \(statePath) is for \(saved.bucket)/\(saved.key), not \(bucket)/\(key)")
            }
            guard saved.size == plan.size, saved.fingerprint == fingerprint?.text else {
                throw R2Error(.invalidArgument, "the source changed since the upload in \(statePath) started (size or modification time differ); refusing to resume")
            }
            guard plan.partSize == saved.partSize else {
                throw R2Error(.invalidArgument, "state file \(statePath) used a part size of \(saved.partSize), not \(plan.partSize)")
            }
            state = saved
            let resumed = MultipartUpload(bucket: bucket, key: key, uploadID: saved.uploadID)
            // The server is the truth: keep only parts it has, at the planned size.
            do {
                let listed = try listParts(resumed)
                state.parts = [:]
                for p in listed where p.partNumber <= plan.count && p.size == plan.range(of: p.partNumber).count {
                    state.parts[p.partNumber] = p.etag
                }
                upload = resumed
            } catch where error.code == .noSuchUpload {
                // Expired (R2 aborts unfinished uploads after 7 days) or aborted:
                // start a new upload and replace the state file.
                resilience.log(.warn) {
                    var r = LogRecord(level: .warn, message: "upload \(saved.uploadID) in \(statePath) no longer exists (expired or aborted); starting a new upload")
                    r.operation = Operation.createMultipartUpload.name; r.bucket = bucket; r.key = key
                    return r
                }
                upload = try createMultipartUpload(bucket: bucket, key: key, options: Self.withoutConditions(options.put))
                state.uploadID = upload.uploadID
                state.parts = [:]
                try state.save(statePath)
            }
        } else {
            upload = try createMultipartUpload(bucket: bucket, key: key, options: Self.withoutConditions(options.put))
            state = UploadState(bucket: bucket, key: key, uploadID: upload.uploadID, size: plan.size, partSize: plan.partSize,
                                fingerprint: fingerprint?.text, parts: [:])
            if let statePath = options.statePath { try state.save(statePath) }
        }
        let partChecksum = options.partChecksum
        let cancellation = options.cancellation
        let statePath = options.statePath
        let sseKey = options.sseCustomerKey
        let sharedState = StateBox(state)
        let parts: [CompletedPart]
        do {
            parts = try PartJob(plan: plan, done: state.parts).run(concurrency: concurrency, options: options) { (number) throws(R2Error) in
                let done: CompletedPart
                switch source {
                case .memory(let bytes):
                    done = try self.uploadPart(upload, partNumber: number, body: bytes(number), checksum: partChecksum,
                                               cancellation: cancellation, sseCustomerKey: sseKey)
                case .file(let file):
                    done = try self.uploadPart(upload, partNumber: number, file: file, range: plan.range(of: number),
                                               checksum: partChecksum, cancellation: cancellation, sseCustomerKey: sseKey)
                }
                if let statePath { try sharedState.record(number, done.etag, to: statePath) }
                return (done.etag, plan.range(of: number).count)
            }
        } catch {
            if statePath == nil { abortQuietly(upload) }
            throw error
        }
        var reporter = ProgressReporter(options, total: plan.size)
        do throws(R2Error) {
            let result = try completeMultipartUpload(upload, parts: parts, partSizes: plan.sizes, options: options.completeOptions)
            if let statePath { unlink(statePath) }
            reporter.finish(plan.size)
            var info = ObjectInfo()
            info.etag = result.etag
            info.contentLength = Int64(plan.size)
            return info
        } catch {
            // A failed condition on Complete is final (R2 treats the upload as
            // aborted; the abort makes sure of it on other servers): never resumed.
            if error.code == .preconditionFailed, let statePath { unlink(statePath) }
            if statePath == nil || error.code == .invalidPart || error.code == .preconditionFailed { abortQuietly(upload) }
            throw error
        }
    }

    /// A copy of fewer bytes than this is one CopyObject.
    static func largeCopyThreshold(_ options: TransferOptions) -> UInt64 { options.threshold ?? maxSinglePutSize + 1 }

    /// Headers given in `options.put` replace the source's (all of them, as
    /// S3's REPLACE directive does); none given keeps the source's.
    static func largeCopyReplaces(_ put: PutOptions) -> Bool {
        put.contentType != nil || !put.metadata.isEmpty || put.cacheControl != nil || put.contentDisposition != nil || put.contentEncoding != nil
    }

    /// CopyObject's options for a copy below the threshold.
    static func largeCopyOptions(_ options: TransferOptions) -> CopyOptions {
        let put = options.put
        var copy = CopyOptions()
        copy.sseCustomerKey = options.sseCustomerKey
        copy.sourceSSECustomerKey = options.sourceSSECustomerKey
        if largeCopyReplaces(put) {
            copy.replaceMetadata = true
            copy.contentType = put.contentType
            copy.cacheControl = put.cacheControl
            copy.contentDisposition = put.contentDisposition
            copy.contentEncoding = put.contentEncoding
            copy.metadata = put.metadata
        }
        return copy
    }

    /// The multipart copy's object headers: the caller's, else the source's.
    static func largeCopyPut(_ options: TransferOptions, source: ObjectInfo) -> PutOptions {
        var put = options.put
        if !largeCopyReplaces(put) {
            put.contentType = source.contentType.isEmpty ? nil : source.contentType
            put.cacheControl = source.cacheControl.isEmpty ? nil : source.cacheControl
            put.contentDisposition = source.contentDisposition.isEmpty ? nil : source.contentDisposition
            put.contentEncoding = source.contentEncoding.isEmpty ? nil : source.contentEncoding
            put.metadata = source.metadata
        }
        return put
    }

    /// Put options for CreateMultipartUpload: the object's headers without
    /// the conditions, which go on CompleteMultipartUpload.
    static func withoutConditions(_ put: PutOptions) -> PutOptions {
        var p = put
        p.ifMatch = nil
        p.ifNoneMatch = nil
        return p
    }

    /// HEAD of the object a transfer reads, cancellable with the transfer.
    func transferHead(bucket: String, key: String, _ options: TransferOptions) throws(R2Error) -> ObjectInfo {
        var head = GetOptions()
        head.cancellation = options.cancellation
        head.sseCustomerKey = options.sseCustomerKey
        return try headObject(bucket: bucket, key: key, options: head)
    }

    /// Aborts after a failure; the failure is what the caller sees, so an
    /// abort error is only reported through the log.
    func abortQuietly(_ upload: MultipartUpload) {
        do { try abortMultipartUpload(upload) } catch {
            logAbortFailure(upload, error)
        }
    }

    func logAbortFailure(_ upload: MultipartUpload, _ error: R2Error) {
        resilience.log(.warn) {
            var r = LogRecord(level: .warn, message: "could not abort multipart upload \(upload.uploadID) after a failure: \(error.message)")
            r.operation = Operation.abortMultipartUpload.name
            r.bucket = upload.bucket
            r.key = upload.key
            r.httpStatus = error.httpStatus
            r.requestID = error.requestID
            r.error = error.code
            return r
        }
    }
}

/// Part numbering of an object of `size` bytes in `partSize` parts.
struct UploadPlan: Sendable {
    let size: UInt64
    let partSize: UInt64
    let count: Int

    init(size: UInt64, partSize: UInt64) throws(R2Error) {
        self.size = size
        self.partSize = partSize
        count = size == 0 ? 1 : Int((size + partSize - 1) / partSize)
        guard count <= MultipartLimits.maxParts else {
            throw R2Error(.entityTooLarge, "\(size) bytes in \(partSize)-byte parts needs \(count) parts; R2 allows 10 000")
        }
        try MultipartLimits.validate(partSizes: sizes)
    }

    /// Bytes of part `number` (1-based).
    func range(of number: Int) -> Range<UInt64> {
        let start = UInt64(number - 1) * partSize
        return start..<min(start + partSize, size)
    }

    var sizes: [UInt64] { (1...count).map { range(of: $0).count } }
}

extension Range where Bound == UInt64 {
    var count: UInt64 { upperBound - lowerBound }
}

/// Shared state of the part workers: which part is next, which are done, the first error.
final class PartJob: @unchecked Sendable {
    private let monitor = Monitor()
    private let plan: UploadPlan
    private var nextNumber = 1
    private var done: [Int: String]
    private(set) var error: R2Error?
    private var bytes: UInt64

    init(plan: UploadPlan, done: [Int: String]) {
        self.plan = plan
        self.done = done
        bytes = done.keys.reduce(0) { $0 + plan.range(of: $1).count }
    }

    /// The next part to send, or nil when there is none or the job failed.
    func next() -> Int? {
        monitor.locked {
            guard error == nil else { return nil }
            while nextNumber <= plan.count, done[nextNumber] != nil { nextNumber += 1 }
            guard nextNumber <= plan.count else { return nil }
            defer { nextNumber += 1 }
            return nextNumber
        }
    }

    func finish(_ number: Int, etag: String, bytes n: UInt64) {
        monitor.locked {
            done[number] = etag
            bytes += n
            monitor.broadcast()
        }
    }

    func fail(_ e: R2Error) {
        monitor.locked {
            if error == nil { error = e }
            monitor.broadcast()
        }
    }

    var bytesDone: UInt64 { monitor.locked { bytes } }

    var parts: [CompletedPart] { monitor.locked { done.map { CompletedPart(partNumber: $0.key, etag: $0.value) } } }

    /// Runs `work(part number)` for every part not done yet on
    /// up to `concurrency` threads; the calling thread reports progress and
    /// watches for cancellation. Returns every part (done before and now).
    func run(concurrency: Int, options: TransferOptions,
             work: @escaping @Sendable (Int) throws(R2Error) -> (etag: String, bytes: UInt64))
        throws(R2Error) -> [CompletedPart]
    {
        let cancellation = options.cancellation
        var threads = ThreadGroup()
        let pending = plan.count - monitor.locked { done.count }
        for w in 0..<min(concurrency, max(1, pending)) {
            threads.start(w) { _ in
                while let number = self.next() {
                    do throws(R2Error) {
                        try cancellation?.check()
                        let (etag, bytes) = try work(number)
                        self.finish(number, etag: etag, bytes: bytes)
                    } catch {
                        self.fail(error)
                    }
                }
            }
        }
        if threads.count == 0 { fail(R2Error(.libraryBug, "cannot start worker threads")) }
        var reporter = ProgressReporter(options, total: plan.size)
        waitUntilDone(intervalMs: options.progressIntervalMs) {
            if cancellation?.isCancelled == true { self.fail(R2Error(.cancelled, "transfer cancelled")) }
            reporter.report(self.bytesDone)
        }
        threads.join()
        if let error { throw error }
        return parts
    }

    /// Waits until every part is done or the job failed, calling `tick` on this thread meanwhile.
    func waitUntilDone(intervalMs: Int, tick: () -> Void) {
        while true {
            let finished: Bool = monitor.locked {
                if error == nil && done.count < plan.count { monitor.wait(milliseconds: max(intervalMs, 10)) }
                return error != nil || done.count >= plan.count
            }
            tick()
            if finished { return }
        }
    }
}

/// Calls the progress callback at most every interval, and once at the end.
struct ProgressReporter {
    let callback: ((TransferProgress) -> Void)?
    let total: UInt64?
    let intervalNs: UInt64
    var last: UInt64 = 0
    var lastBytes: UInt64 = .max

    init(_ options: TransferOptions, total: UInt64?) {
        callback = options.progress
        self.total = total
        intervalNs = UInt64(max(options.progressIntervalMs, 1)) * 1_000_000
    }

    mutating func report(_ bytes: UInt64) {
        guard let callback, bytes != lastBytes else { return }
        let now = monotonicNanos()
        guard now - last >= intervalNs else { return }
        last = now
        lastBytes = bytes
        callback(TransferProgress(bytesDone: bytes, bytesTotal: total))
    }

    mutating func finish(_ bytes: UInt64) {
        guard let callback, bytes != lastBytes else { return }
        lastBytes = bytes
        callback(TransferProgress(bytesDone: bytes, bytesTotal: total ?? bytes))
    }
}

/// Identity of a source file for resume: size and modification time.
struct SourceFingerprint: Sendable {
    let text: String
}

/// A file read with pread (safe from many threads at once).
final class SourceFile: @unchecked Sendable {
    let fd: Int32
    let size: UInt64
    let fingerprint: SourceFingerprint

    init(path: String) throws(R2Error) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw R2Error.invalidArgument("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            throw R2Error.invalidArgument("\(path) is not a regular file")
        }
        size = UInt64(st.st_size)
        fingerprint = SourceFingerprint(text: "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
    }

    func close() { Glibc.close(fd) }

    /// Reads up to `buffer.count` bytes at `offset`; with `exactly`, a short read is an error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, exactly: Bool = false) throws(R2Error) -> Int {
        var got = 0
        while got < buffer.count {
            let n = pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset) + off_t(got))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw R2Error(.aborted, "reading the source file failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
            if !exactly { break }
        }
        if exactly && got < buffer.count {
            throw R2Error(.incompleteBody, "the source file shrank: \(got) of \(buffer.count) bytes at offset \(offset)")
        }
        return got
    }
}

/// What a resumable upload records: enough to find the upload again and to
/// know the source has not changed.
struct UploadState: Sendable {
    static let format = "r2-upload-state/1"
    var bucket: String
    var key: String
    var uploadID: String
    var size: UInt64
    var partSize: UInt64
    var fingerprint: String?
    var parts: [Int: String]

    static func load(_ path: String) throws(R2Error) -> UploadState? {
        guard access(path, F_OK) == 0 else { return nil }
        return try parse(FileIO.read(path), path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(R2Error) -> UploadState? {
        let json = try JSON.parse(bytes)
        // Whole numbers in range only: a damaged file converted a huge or negative number and trapped (found by fuzzing).
        guard json["format"]?.string == format, let bucket = json["bucket"]?.string, let key = json["key"]?.string,
              let id = json["upload_id"]?.string, let size = json["size"]?.int, size >= 0, let part = json["part_size"]?.int, part > 0
        else { throw R2Error.invalidArgument("\(path) is not an r2 upload state file") }
        var parts: [Int: String] = [:]
        for p in json["parts"]?.array ?? [] {
            if let n = p["number"]?.int, let etag = p["etag"]?.string { parts[n] = etag }
        }
        return UploadState(bucket: bucket, key: key, uploadID: id, size: UInt64(size), partSize: UInt64(part),
                           fingerprint: json["source"]?.string, parts: parts)
    }

    func save(_ path: String) throws(R2Error) {
        let parts = self.parts.sorted { $0.key < $1.key }.map { JSON.object([("number", .number(Double($0.key))), ("etag", .string($0.value))]) }
        let doc = JSON.object([("format", .string(Self.format)), ("bucket", .string(bucket)), ("key", .string(key)),
                               ("upload_id", .string(uploadID)), ("size", .number(Double(size))),
                               ("part_size", .number(Double(partSize))), ("source", fingerprint.map { .string($0) } ?? .null),
                               ("parts", .array(parts))])
        try FileIO.write(path, Array(doc.serialized().utf8))
    }
}

/// The upload state shared by the workers, saved after every finished part.
final class StateBox: @unchecked Sendable {
    private let monitor = Monitor()
    private var state: UploadState

    init(_ state: UploadState) { self.state = state }

    func record(_ number: Int, _ etag: String, to path: String) throws(R2Error) {
        try monitor.locked { () throws(R2Error) in
            state.parts[number] = etag
            try state.save(path)
        }
    }
}

/// A multipart upload fed by the caller's read callback on the calling
/// thread: parts are read in order into a pool of concurrency + 1 buffers and
/// sent by the workers.
final class StreamingUpload: @unchecked Sendable {
    let client: R2Client
    let bucket: String
    let key: String
    let partSize: UInt64
    let total: UInt64?
    let concurrency: Int
    let options: TransferOptions

    private let monitor = Monitor()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var queue: [(number: Int, bytes: UnsafeMutableRawBufferPointer, count: Int)] = []
    private var producerDone = false
    private var parts: [CompletedPart] = []
    private var sizes: [Int: UInt64] = [:]
    private var sent: UInt64 = 0
    private var error: R2Error?

    init(client: R2Client, bucket: String, key: String, partSize: UInt64, total: UInt64?, concurrency: Int, options: TransferOptions) {
        self.client = client; self.bucket = bucket; self.key = key; self.partSize = partSize
        self.total = total; self.concurrency = concurrency; self.options = options
    }

    func run(read: @escaping (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> ObjectInfo {
        let upload = try client.createMultipartUpload(bucket: bucket, key: key, options: R2Client.withoutConditions(options.put))
        let buffers = (0...concurrency).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Int(partSize), alignment: 64) }
        defer { for b in buffers { b.deallocate() } }
        free = buffers
        var threads = ThreadGroup()
        for w in 0..<concurrency { threads.start(w) { _ in self.work(upload) } }
        if threads.count == 0 { fail(R2Error(.libraryBug, "cannot start worker threads")) }
        var reporter = ProgressReporter(options, total: total)
        var number = 0
        var readTotal: UInt64 = 0
        produce: while true {
            // A free buffer, or a failure; report progress while waiting.
            var buffer: UnsafeMutableRawBufferPointer?
            while buffer == nil {
                let stop: Bool = monitor.locked {
                    if error == nil && free.isEmpty { monitor.wait(milliseconds: options.progressIntervalMs) }
                    if error == nil, !free.isEmpty { buffer = free.removeLast() }
                    return error != nil
                }
                if options.cancellation?.isCancelled == true { fail(R2Error(.cancelled, "upload cancelled")) }
                reporter.report(monitor.locked { sent })
                if stop { break produce }
            }
            // Fill it from the caller's callback (on this thread).
            var filled = 0
            do throws(R2Error) {
                while filled < Int(partSize) {
                    try options.cancellation?.check()
                    let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer![filled...]))
                    guard n >= 0, n <= Int(partSize) - filled else { throw R2Error.invalidArgument("the read callback returned \(n)") }
                    if n == 0 { break }
                    filled += n
                }
            } catch {
                fail(error)
                break produce
            }
            readTotal += UInt64(filled)
            if let total, readTotal > total { fail(R2Error(.incompleteBody, "the stream gave more than its declared \(total) bytes")); break }
            let last = filled < Int(partSize)
            if filled > 0 || number == 0 {
                number += 1
                if number > MultipartLimits.maxParts {
                    fail(R2Error(.entityTooLarge, "the stream needs more than 10 000 parts of \(partSize) bytes"))
                    break
                }
                monitor.locked { queue.append((number, buffer!, filled)); monitor.broadcast() }
            } else {
                monitor.locked { free.append(buffer!) }
            }
            if last { break }
        }
        if let total, readTotal < total, monitor.locked({ error == nil }) {
            fail(R2Error(.incompleteBody, "the stream ended after \(readTotal) of \(total) bytes"))
        }
        monitor.locked { producerDone = true; monitor.broadcast() }
        // Wait for the last parts, still reporting progress.
        while true {
            let finished: Bool = monitor.locked {
                let busy = free.count < concurrency + 1
                if error == nil && busy { monitor.wait(milliseconds: options.progressIntervalMs) }
                return error != nil || free.count == concurrency + 1
            }
            if options.cancellation?.isCancelled == true { fail(R2Error(.cancelled, "upload cancelled")) }
            reporter.report(monitor.locked { sent })
            if finished { break }
        }
        threads.join()
        if let error = monitor.locked({ error }) {
            client.abortQuietly(upload)
            throw error
        }
        let sizeList = (1...number).map { sizes[$0] ?? 0 }
        do {
            var complete = CompleteOptions()
            complete.ifMatch = options.put.ifMatch
            complete.ifNoneMatch = options.put.ifNoneMatch
            complete.cancellation = options.cancellation
            complete.sseCustomerKey = options.sseCustomerKey
            let result = try client.completeMultipartUpload(upload, parts: parts, partSizes: sizeList, options: complete)
            reporter.finish(readTotal)
            var info = ObjectInfo()
            info.etag = result.etag
            info.contentLength = Int64(readTotal)
            return info
        } catch {
            client.abortQuietly(upload)
            throw error
        }
    }

    private func fail(_ e: R2Error) {
        monitor.locked {
            if error == nil { error = e }
            monitor.broadcast()
        }
    }

    private func work(_ upload: MultipartUpload) {
        while true {
            let job: (number: Int, bytes: UnsafeMutableRawBufferPointer, count: Int)? = monitor.locked {
                while queue.isEmpty && !producerDone && error == nil { monitor.wait(milliseconds: 1000) }
                if error != nil || queue.isEmpty { return nil }
                return queue.removeFirst()
            }
            guard let job else { return }
            do throws(R2Error) {
                let part = try client.uploadPart(upload, partNumber: job.number,
                                                 body: UnsafeRawBufferPointer(rebasing: job.bytes[0..<job.count]),
                                                 checksum: options.partChecksum, cancellation: options.cancellation,
                                                 sseCustomerKey: options.sseCustomerKey)
                monitor.locked {
                    parts.append(part)
                    sizes[job.number] = UInt64(job.count)
                    sent += UInt64(job.count)
                    free.append(job.bytes)
                    monitor.broadcast()
                }
            } catch {
                monitor.locked { free.append(job.bytes) }
                fail(error)
            }
        }
    }
}

extension R2Client {
    /// Copies an object on the server: CopyObject up to the single-copy limit,
    /// UploadPartCopy in parallel above it (or above `options.threshold` when
    /// given). The destination gets the source's content headers and metadata
    /// unless `options.put` sets any of them: then those given replace them all.
    @discardableResult
    public func copyLarge(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                          options: TransferOptions = TransferOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        let settings = try resolved(&options)
        var sourceOptions = options
        sourceOptions.sseCustomerKey = options.sourceSSECustomerKey
        let source = try transferHead(bucket: sourceBucket, key: sourceKey, sourceOptions)
        let size = UInt64(max(source.contentLength, 0))
        if size < Self.largeCopyThreshold(options) {
            let (result, response) = try copyObject(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket,
                                                    key: key, options: Self.largeCopyOptions(options))
            var reporter = ProgressReporter(options, total: size)
            reporter.finish(size)
            // What the multipart path returns, from CopyObject's answer (its body has the ETag, not its headers).
            var info = ObjectInfo()
            info.etag = result.etag
            info.lastModified = result.lastModified
            info.contentLength = Int64(size)
            info.requestID = response.requestID
            return info
        }
        let put = Self.largeCopyPut(options, source: source)
        let plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
        let upload = try createMultipartUpload(bucket: bucket, key: key, options: Self.withoutConditions(put))
        let sseKey = options.sseCustomerKey, sourceSSEKey = options.sourceSSECustomerKey
        let parts: [CompletedPart]
        do {
            parts = try PartJob(plan: plan, done: [:]).run(concurrency: settings.concurrency, options: options) { (number) throws(R2Error) in
                let range = plan.range(of: number)
                let part = try self.uploadPartCopy(upload, partNumber: number, sourceBucket: sourceBucket, sourceKey: sourceKey,
                                                   range: range.count == 0 ? nil : range.lowerBound...(range.upperBound - 1),
                                                   sseCustomerKey: sseKey, sourceSSECustomerKey: sourceSSEKey)
                return (part.etag, range.count)
            }
        } catch {
            abortQuietly(upload)
            throw error
        }
        var reporter = ProgressReporter(options, total: size)
        do throws(R2Error) {
            let result = try completeMultipartUpload(upload, parts: parts, partSizes: plan.sizes, options: options.completeOptions)
            reporter.finish(size)
            var info = ObjectInfo()
            info.etag = result.etag
            info.contentLength = Int64(size)
            return info
        } catch {
            abortQuietly(upload)
            throw error
        }
    }
}

extension TransferOptions {
    /// What a transfer's CompleteMultipartUpload carries: the caller's
    /// conditions (R2 accepts them on Complete), cancellation and SSE-C key.
    var completeOptions: CompleteOptions {
        var complete = CompleteOptions()
        complete.ifMatch = put.ifMatch
        complete.ifNoneMatch = put.ifNoneMatch
        complete.cancellation = cancellation
        complete.sseCustomerKey = sseCustomerKey
        return complete
    }
}
