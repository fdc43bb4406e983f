import Glibc

/// Downloads: one GET below the threshold, parallel ranged GETs above it,
/// every range pinned to the first response's ETag with If-Match, so an
/// object overwritten mid-download is an error instead of a mix of versions.
extension R2Client {
    /// Downloads an object to `path`. Bytes go to a temporary file next to it
    /// (`<path>.r2-partial`) that is renamed into place at the end: a failed or
    /// cancelled download never leaves a partial file at `path`. With
    /// `options.statePath`, the temporary file and the list of finished parts
    /// are kept on failure, and a later call with the same state continues
    /// from them (if the object's ETag is unchanged).
    @discardableResult
    public func downloadFile(bucket: String, key: String, path: String,
                             options: TransferOptions = TransferOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        let settings = try resolved(&options)
        let info = try transferHead(bucket: bucket, key: key, options)
        let size = UInt64(max(info.contentLength, 0))
        let temporary = path + ".r2-partial"
        var done = Set<Int>()
        let partSize = try MultipartLimits.partSize(for: size, preferred: settings.partSize)
        if let statePath = options.statePath, let saved = try DownloadState.load(statePath) {
            if saved.etag == info.etag, saved.size == size, saved.partSize == partSize, access(temporary, F_OK) == 0 {
                done = saved.parts
            }
        }
        let flags = done.isEmpty ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC : O_WRONLY | O_CLOEXEC
        let fd = open(temporary, flags, 0o644)
        guard fd >= 0 else { throw R2Error.invalidArgument("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) } }
        func cleanUp() {
            if options.statePath == nil { unlink(temporary) }
        }
        do throws(R2Error) {
            if size < settings.threshold && options.statePath == nil {
                var reporter = ProgressReporter(options, total: size)
                var written: UInt64 = 0
                var get = GetOptions()
                get.sseCustomerKey = options.sseCustomerKey
                get.ifMatch = info.etag.isEmpty ? nil : info.etag
                get.isBulkBody = size >= Self.bulkBodyBytes
                var writeError: R2Error?
                var file = GatheredWrites(bytes: get.isBulkBody ? Self.gatheredWriteBytes : 0) { (bytes, offset) throws(R2Error) in
                    try writeAll(fd, bytes, at: offset)
                }
                defer { file.release() }
                try getObject(bucket: bucket, key: key, options: get, cancellation: options.cancellation) { chunk in
                    do throws(R2Error) {
                        try file.write(chunk, at: written)
                    } catch {
                        writeError = error
                        return false
                    }
                    written += UInt64(chunk.count)
                    reporter.report(written)
                    return true
                }
                if let writeError { throw writeError }
                try file.flush()
                reporter.finish(written)
            } else {
                let plan = try UploadPlan(size: size, partSize: partSize)
                let state = options.statePath.map { DownloadStateBox(DownloadState(etag: info.etag, size: size, partSize: partSize, parts: done), path: $0) }
                try state?.save()
                try fetchParts(bucket: bucket, key: key, etag: info.etag, plan: plan, done: done, concurrency: settings.concurrency,
                               options: options) { (number, chunk, offset) throws(R2Error) in
                    try writeAll(fd, chunk, at: offset)
                } finished: { (number) throws(R2Error) in
                    try state?.finish(number)
                }
            }
            guard !options.fsync || fsync(fd) == 0 || errno == EINVAL else { throw R2Error(.aborted, "fsync \(temporary): \(String(cString: strerror(errno)))") }
            close(fd)
            closed = true
            guard rename(temporary, path) == 0 else {
                throw R2Error(.aborted, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
            if let statePath = options.statePath { unlink(statePath) }
            return info
        } catch {
            cleanUp()
            throw error
        }
    }

    /// Downloads an object to `write`, in order. Above the threshold, ranges
    /// are fetched in parallel into at most concurrency + 1 part buffers and
    /// delivered in order on the calling thread.
    @discardableResult
    public func downloadStream(bucket: String, key: String, options: TransferOptions = TransferOptions(),
                               write: (UnsafeRawBufferPointer) -> Bool) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var options = options
        let settings = try resolved(&options)
        let info = try transferHead(bucket: bucket, key: key, options)
        let size = UInt64(max(info.contentLength, 0))
        var reporter = ProgressReporter(options, total: size)
        if size < settings.threshold || settings.concurrency == 1 {
            var get = GetOptions()
            get.sseCustomerKey = options.sseCustomerKey
            get.ifMatch = info.etag.isEmpty ? nil : info.etag
            get.isBulkBody = size >= Self.bulkBodyBytes
            var done: UInt64 = 0
            try getObject(bucket: bucket, key: key, options: get, cancellation: options.cancellation) { chunk in
                guard write(chunk) else { return false }
                done += UInt64(chunk.count)
                reporter.report(done)
                return true
            }
            reporter.finish(done)
            return info
        }
        let plan = try UploadPlan(size: size, partSize: MultipartLimits.partSize(for: size, preferred: settings.partSize))
        let ordered = OrderedParts(plan: plan, buffers: settings.concurrency + 1)
        defer { ordered.release() }
        var threads = ThreadGroup()
        let cancellation = options.cancellation
        let sseKey = options.sseCustomerKey
        for w in 0..<settings.concurrency {
            threads.start(w) { _ in
                while let (number, buffer) = ordered.take() {
                    let range = plan.range(of: number)
                    var filled = 0
                    do throws(R2Error) {
                        try self.getRange(bucket: bucket, key: key, etag: info.etag, range: range, objectSize: size, cancellation: cancellation,
                                      sseCustomerKey: sseKey) { chunk in
                            guard filled + chunk.count <= buffer.count else { return false }
                            UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]).copyMemory(from: chunk)
                            filled += chunk.count
                            return true
                        }
                        guard filled == Int(range.count) else {
                            throw R2Error(.incompleteBody, "part \(number): \(filled) of \(range.count) bytes")
                        }
                        ordered.ready(number, count: filled)
                    } catch {
                        ordered.fail(error)
                    }
                }
            }
        }
        var delivered: UInt64 = 0
        var failure: R2Error?
        for number in 1...plan.count {
            guard let (buffer, count) = ordered.wait(for: number, intervalMs: options.progressIntervalMs, tick: {
                if cancellation?.isCancelled == true { ordered.fail(R2Error(.cancelled, "download cancelled")) }
                reporter.report(delivered)
            }) else { break }
            let keepGoing = write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            ordered.recycle(number)
            guard keepGoing else {
                failure = R2Error(.aborted, "the write callback stopped the download")
                ordered.fail(failure!)
                break
            }
            delivered += UInt64(count)
            reporter.report(delivered)
        }
        threads.join()
        if let error = failure ?? ordered.error { throw error }
        reporter.finish(delivered)
        return info
    }

    /// Fetches every part not in `done` on worker threads; `write` gets each
    /// chunk with its file offset, `finished` each completed part number.
    func fetchParts(bucket: String, key: String, etag: String, plan: UploadPlan, done: Set<Int>, concurrency: Int,
                    options: TransferOptions,
                    write: @escaping @Sendable (Int, UnsafeRawBufferPointer, UInt64) throws(R2Error) -> Void,
                    finished: @escaping @Sendable (Int) throws(R2Error) -> Void) throws(R2Error) {
        let job = PartJob(plan: plan, done: Dictionary(uniqueKeysWithValues: done.map { ($0, "") }))
        let cancellation = options.cancellation
        let sseKey = options.sseCustomerKey
        _ = try job.run(concurrency: concurrency, options: options) { (number) throws(R2Error) in
            let range = plan.range(of: number)
            var offset = range.lowerBound
            var failure: R2Error?
            var gathered = GatheredWrites(bytes: range.count >= Self.bulkBodyBytes ? Self.gatheredWriteBytes : 0) { (bytes, at) throws(R2Error) in
                try write(number, bytes, at)
            }
            defer { gathered.release() }
            do throws(R2Error) {
                try self.getRange(bucket: bucket, key: key, etag: etag, range: range, objectSize: plan.size, cancellation: cancellation,
                                      sseCustomerKey: sseKey) { chunk in
                    do throws(R2Error) { try gathered.write(chunk, at: offset) } catch { failure = error; return false }
                    offset += UInt64(chunk.count)
                    return true
                }
                try gathered.flush()
            } catch {
                throw failure ?? error
            }
            guard offset == range.upperBound else {
                throw R2Error(.incompleteBody, "part \(number): \(offset - range.lowerBound) of \(range.count) bytes")
            }
            try finished(number)
            return ("", range.count)
        }
        var reporter = ProgressReporter(options, total: plan.size)
        reporter.finish(plan.size)
    }

    /// GET of one byte range pinned to `etag`: a changed object is a clear error,
    /// and so is an answer that is not exactly this range of an object of
    /// `objectSize` bytes (`.malformedResponse`, before any byte is written).
    func getRange(bucket: String, key: String, etag: String, range: Range<UInt64>, objectSize: UInt64, cancellation: Cancellation?,
                  sseCustomerKey: SSECustomerKey? = nil, write: (UnsafeRawBufferPointer) -> Bool) throws(R2Error) {
        guard range.count > 0 else { return }
        var get = GetOptions()
        get.objectSize = objectSize
        get.sseCustomerKey = sseCustomerKey
        get.range = "bytes=\(range.lowerBound)-\(range.upperBound - 1)"
        get.isBulkBody = range.count >= Self.bulkBodyBytes
        get.ifMatch = etag.isEmpty ? nil : etag
        do {
            try getObject(bucket: bucket, key: key, options: get, cancellation: cancellation, write: write)
        } catch where error.code == .preconditionFailed {
            throw R2Error(.preconditionFailed, "\(bucket)/\(key) changed during the download (its ETag is no longer \(etag))",
                          httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID)
        }
    }
}

extension R2Client {
    /// Bytes gathered before a write to a file: libcurl hands the body over in
    /// 16 KiB pieces whatever its receive buffer, one system call each otherwise.
    static let gatheredWriteBytes = 256 * 1024
}

/// Gathers consecutive chunks into one buffer and hands them to `sink` in
/// writes of up to `bytes` (0: each chunk as it comes).
struct GatheredWrites {
    private let buffer: UnsafeMutableRawBufferPointer?
    private var pending = 0
    private var start: UInt64 = 0
    private let sink: (UnsafeRawBufferPointer, UInt64) throws(R2Error) -> Void

    init(bytes: Int, sink: @escaping (UnsafeRawBufferPointer, UInt64) throws(R2Error) -> Void) {
        buffer = bytes > 0 ? UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64) : nil
        self.sink = sink
    }

    func release() { buffer?.deallocate() }

    /// `chunk` belongs at `offset`; chunks come in order, each right after the one before.
    mutating func write(_ chunk: UnsafeRawBufferPointer, at offset: UInt64) throws(R2Error) {
        guard let buffer else { return try sink(chunk, offset) }
        if pending > 0 && (pending + chunk.count > buffer.count || start + UInt64(pending) != offset) { try flush() }
        if chunk.count >= buffer.count { return try sink(chunk, offset) }
        if pending == 0 { start = offset }
        UnsafeMutableRawBufferPointer(rebasing: buffer[pending...]).copyMemory(from: chunk)
        pending += chunk.count
    }

    /// Writes what is gathered; call it at the end of the body.
    mutating func flush() throws(R2Error) {
        guard let buffer, pending > 0 else { return }
        let n = pending
        pending = 0
        try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), start)
    }
}

/// Writes all of `chunk` at `offset` (pwrite is safe from many threads at once).
func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, at offset: UInt64) throws(R2Error) {
    var done = 0
    while done < chunk.count {
        let n = pwrite(fd, chunk.baseAddress! + done, chunk.count - done, off_t(offset) + off_t(done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw R2Error(.aborted, "writing the destination file failed: \(String(cString: strerror(errno)))") }
        done += n
    }
}

/// Part buffers handed out in part order and delivered in part order.
final class OrderedParts: @unchecked Sendable {
    private let monitor = Monitor()
    private let plan: UploadPlan
    private var free: [UnsafeMutableRawBufferPointer]
    private var all: [UnsafeMutableRawBufferPointer]
    private var next = 1
    private var filled: [Int: (UnsafeMutableRawBufferPointer, Int)] = [:]
    private var taken: [Int: UnsafeMutableRawBufferPointer] = [:]
    private(set) var error: R2Error?

    init(plan: UploadPlan, buffers: Int) {
        self.plan = plan
        all = (0..<buffers).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Int(plan.partSize), alignment: 64) }
        free = all
    }

    func release() { for b in all { b.deallocate() } }

    /// The next part number and a buffer for it; waits for a free buffer.
    func take() -> (Int, UnsafeMutableRawBufferPointer)? {
        monitor.locked {
            while error == nil && next <= plan.count && free.isEmpty { monitor.wait(milliseconds: 1000) }
            guard error == nil, next <= plan.count else { return nil }
            let b = free.removeLast()
            taken[next] = b
            defer { next += 1 }
            return (next, b)
        }
    }

    func ready(_ number: Int, count: Int) {
        monitor.locked {
            filled[number] = (taken[number]!, count)
            monitor.broadcast()
        }
    }

    func fail(_ e: R2Error) {
        monitor.locked {
            if error == nil { error = e }
            monitor.broadcast()
        }
    }

    /// Waits for part `number`; nil when the download failed.
    func wait(for number: Int, intervalMs: Int, tick: () -> Void) -> (UnsafeMutableRawBufferPointer, Int)? {
        while true {
            let got: (UnsafeMutableRawBufferPointer, Int)?? = monitor.locked {
                if error == nil && filled[number] == nil { monitor.wait(milliseconds: max(intervalMs, 10)) }
                if error != nil { return .some(nil) }
                return filled[number].map { .some($0) }
            }
            tick()
            if let got { return got }
        }
    }

    func recycle(_ number: Int) {
        monitor.locked {
            if let (b, _) = filled.removeValue(forKey: number) { free.append(b) }
            taken[number] = nil
            monitor.broadcast()
        }
    }
}

/// What a resumable download records: the object's ETag and finished parts.
struct DownloadState: Sendable {
    static let format = "r2-download-state/1"
    var etag: String
    var size: UInt64
    var partSize: UInt64
    var parts: Set<Int>

    static func load(_ path: String) throws(R2Error) -> DownloadState? {
        guard access(path, F_OK) == 0 else { return nil }
        return try parse(FileIO.read(path))
    }

    static func parse(_ bytes: [UInt8]) throws(R2Error) -> DownloadState? {
        let json = try JSON.parse(bytes)
        // Whole numbers in range only: a damaged file converted a huge or negative number and trapped (found by fuzzing).
        guard json["format"]?.string == format, let etag = json["etag"]?.string, let size = json["size"]?.int, size >= 0,
              let part = json["part_size"]?.int, part > 0 else { return nil }
        return DownloadState(etag: etag, size: UInt64(size), partSize: UInt64(part),
                             parts: Set((json["parts"]?.array ?? []).compactMap { $0.int }))
    }

    func save(_ path: String) throws(R2Error) {
        let doc = JSON.object([("format", .string(Self.format)), ("etag", .string(etag)), ("size", .number(Double(size))),
                               ("part_size", .number(Double(partSize))),
                               ("parts", .array(parts.sorted().map { .number(Double($0)) }))])
        try FileIO.write(path, Array(doc.serialized().utf8))
    }
}

final class DownloadStateBox: @unchecked Sendable {
    private let monitor = Monitor()
    private var state: DownloadState
    private let path: String

    init(_ state: DownloadState, path: String) { self.state = state; self.path = path }

    func save() throws(R2Error) { try monitor.locked { () throws(R2Error) in try state.save(path) } }

    func finish(_ number: Int) throws(R2Error) {
        try monitor.locked { () throws(R2Error) in
            state.parts.insert(number)
            try state.save(path)
        }
    }
}
