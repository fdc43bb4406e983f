import CR2Types
import Glibc
import R2

// Multipart uploads and the transfer manager. Parts move on worker threads;
// the caller's read, write and progress callbacks always run on the thread
// that made the call.

// MARK: Cancellation

/// Creates a cancel switch. Release it with r2_cancel_free() after the calls
/// using it have returned. Thread-safe.
@c public func r2_cancel_new(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = retain(Cancellation())
    }
}

/// Asks every call holding `cancel` to stop; they fail with R2_ERR_CANCELLED
/// (an upload is aborted on the server first). Callable from any thread, also
/// from a signal-handling thread; returns at once.
@c public func r2_cancel_signal(_ cancel: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in try handle(cancel, as: Cancellation.self, "cancel").cancel() }
}

/// Releases a cancel switch. NULL is a no-op.
@c public func r2_cancel_free(_ cancel: OpaquePointer?) {
    release(cancel, as: Cancellation.self)
}

// MARK: Transfer options

/// Sets `opts` to version `version` (R2_TRANSFER_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_transfer_options_init(_ opts: UnsafeMutablePointer<r2_transfer_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 3, "r2_transfer_options")
        opts.pointee = r2_transfer_options()
        opts.pointee.version = version
    }
}

func transferOptions(_ p: UnsafePointer<r2_transfer_options>?) throws(R2Error) -> TransferOptions {
    var o = TransferOptions()
    guard let p else { return o }
    let c = p.pointee
    try checkVersion(c.version, current: 3, "r2_transfer_options")
    if c.threshold != 0 { o.threshold = c.threshold }
    if c.part_size != 0 { o.partSize = c.part_size }
    if c.concurrency != 0 { o.concurrency = Int(c.concurrency) }
    o.partChecksum = try checksumAlgorithm(c.part_checksum, "opts->part_checksum")
    if let put = c.put { o.put = try putOptions(put) }
    if c.progress_interval_ms != 0 { o.progressIntervalMs = Int(c.progress_interval_ms) }
    if let cancel = c.cancel { o.cancellation = try handle(cancel, as: Cancellation.self, "opts->cancel") }
    o.statePath = try optionalString(c.state_path, "opts->state_path")
    if c.version >= 2 {
        o.sseCustomerKey = try sseKey(c.sse_customer_key)
        o.sourceSSECustomerKey = try sseKey(c.source_sse_customer_key)
    }
    if c.version >= 3 {
        guard c.skip_fsync <= 1 else { throw invalid("opts->skip_fsync is \(c.skip_fsync); it must be 0 or 1") }
        o.fsync = c.skip_fsync == 0
    }
    if let progress = c.progress {
        // A non-zero return cancels: through the caller's switch, or one of our own.
        let cancellation = o.cancellation ?? Cancellation()
        o.cancellation = cancellation
        let userdata = c.progress_userdata
        o.progress = { p in
            if progress(p.bytesDone, p.bytesTotal.map { Int64(clamping: $0) } ?? -1, userdata) != 0 { cancellation.cancel() }
        }
    }
    return o
}

// MARK: Transfer manager

/// Uploads the file at `path` to `bucket`/`key`: one PUT below the threshold,
/// a multipart upload at or above it (parts read at their offsets, sent by
/// `concurrency` workers). On failure or cancellation the multipart upload is
/// aborted (unless `opts->state_path` is set: then it is kept, and calling
/// again with the same file and state resumes it, sending only missing parts;
/// a changed file is refused). `info` may be NULL; release it with
/// r2_object_info_dispose(). `opts` may be NULL.
@c public func r2_transfer_upload_file(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                       _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?,
                                       _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let result = try c.uploadFile(path: string(path, "path"), bucket: string(bucket, "bucket"), key: string(key, "key"),
                                      options: transferOptions(opts))
        fillInfo(infoOut, result)
    }
}

/// Uploads `len` bytes at `data` (borrowed for the call, never copied) as
/// `bucket`/`key`, multipart at or above the threshold. As r2_transfer_upload_file().
@c public func r2_transfer_upload_buffer(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                         _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                         _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        guard data != nil || len == 0 else { throw invalid("data is NULL but len is \(len)") }
        guard len <= UInt(Int.max) else { throw invalid("len \(len) is out of range") }
        let result = try c.uploadBytes(UnsafeRawBufferPointer(start: data, count: Int(len)), bucket: string(bucket, "bucket"),
                                       key: string(key, "key"), options: transferOptions(opts))
        fillInfo(infoOut, result)
    }
}

/// Uploads what `read` produces. With `length` >= 0 and below the threshold it
/// is one streamed PUT; otherwise, and always when `length` is -1 (unknown),
/// a multipart upload reading parts in order on the calling thread into at
/// most concurrency + 1 part buffers. `read` returns bytes read, 0 at the end,
/// or < 0 to abort (R2_ERR_ABORTED; the upload is aborted on the server).
/// A stream cannot be resumed: `opts->state_path` is refused.
@c public func r2_transfer_upload_stream(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                         _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ length: Int64,
                                         _ read: r2_read_cb?, _ userdata: UnsafeMutableRawPointer?,
                                         _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        guard let read else { throw invalid("read is NULL") }
        guard length >= -1 else { throw invalid("length \(length) must be >= 0, or -1 for unknown") }
        let result = try c.uploadStream(bucket: string(bucket, "bucket"), key: string(key, "key"),
                                        length: length < 0 ? nil : UInt64(length), options: transferOptions(opts),
                                        rewind: rewindBody(opts?.pointee.put, userdata)) { (buffer) throws(R2Error) -> Int in
            let n = read(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count, userdata)
            guard n >= 0 else { throw R2Error(.aborted, "the read callback returned \(n): upload aborted") }
            guard n <= buffer.count else { throw invalid("the read callback returned \(n) for a \(buffer.count)-byte buffer") }
            return Int(n)
        }
        fillInfo(infoOut, result)
    }
}

/// Downloads `bucket`/`key` to the file at `path`: one GET below the
/// threshold, parallel ranged GETs pinned to the object's ETag above it. The
/// bytes go to `<path>.r2-partial`, renamed to `path` at the end: a failed or
/// cancelled download leaves no partial file at `path`. With
/// `opts->state_path`, a failed download keeps the partial file and its
/// state, and calling again continues from them. `info` (may be NULL) gets
/// the object's metadata.
@c public func r2_transfer_download_file(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                         _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?,
                                         _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let result = try c.downloadFile(bucket: string(bucket, "bucket"), key: string(key, "key"), path: string(path, "path"),
                                        options: transferOptions(opts))
        fillInfo(infoOut, result)
    }
}

/// Downloads `bucket`/`key` to `write`, in order, on the calling thread.
/// Above the threshold, ranges are fetched in parallel into at most
/// concurrency + 1 part buffers. A non-zero return from `write` aborts
/// (R2_ERR_ABORTED).
@c public func r2_transfer_download_stream(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                           _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                           _ write: r2_write_cb?, _ userdata: UnsafeMutableRawPointer?,
                                           _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        guard let write else { throw invalid("write is NULL") }
        let result = try c.downloadStream(bucket: string(bucket, "bucket"), key: string(key, "key"), options: transferOptions(opts)) { chunk in
            write(chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), chunk.count, userdata) == 0
        }
        fillInfo(infoOut, result)
    }
}

/// Copies `src_bucket`/`src_key` to `bucket`/`key` on the server: CopyObject
/// below `opts->threshold` (default: above 5 GiB only), else UploadPartCopy
/// ranges in parallel. The source's content headers and metadata are kept
/// unless `opts->put` sets any of them: then those given replace them all
/// (S3's REPLACE directive).
@c public func r2_transfer_copy(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                                _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let result = try c.copyLarge(sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                                     bucket: string(bucket, "bucket"), key: string(key, "key"), options: transferOptions(opts))
        fillInfo(infoOut, result)
    }
}

// MARK: Low-level multipart

func upload(_ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?) throws(R2Error) -> MultipartUpload {
    MultipartUpload(bucket: try string(bucket, "bucket"), key: try string(key, "key"), uploadID: try string(id, "upload_id"))
}

/// Starts a multipart upload. On success `*upload_id` holds its id (release
/// with r2_buf_dispose()). `opts` (may be NULL) carries the object's headers
/// and metadata; a checksum there is refused (R2 has no full-object checksum
/// for multipart: use per-part CRC32/CRC32C or MD5).
@c public func r2_multipart_create(_ upload_id: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?,
                                   _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                   _ opts: UnsafePointer<r2_put_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let upload_id else { throw invalid("upload_id is NULL") }
        upload_id.pointee = r2_buf(ptr: nil, size: 0)
        let c = try handle(client, as: R2Client.self, "client")
        let u = try c.createMultipartUpload(bucket: string(bucket, "bucket"), key: string(key, "key"), options: putOptions(opts))
        fill(upload_id, u.uploadID)
    }
}

/// Sets `opts` to version `version` (R2_PART_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_part_options_init(_ opts: UnsafeMutablePointer<r2_part_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_part_options")
        opts.pointee = r2_part_options()
        opts.pointee.version = version
    }
}

func partOptions(_ p: UnsafePointer<r2_part_options>?) throws(R2Error) -> (ChecksumAlgorithm, SSECustomerKey?, SSECustomerKey?) {
    guard let p else { return (.none, nil, nil) }
    try checkVersion(p.pointee.version, current: 1, "r2_part_options")
    return (try checksumAlgorithm(p.pointee.checksum, "opts->checksum"), try sseKey(p.pointee.sse_customer_key),
            try sseKey(p.pointee.source_sse_customer_key))
}

/// Uploads part `part_number` (1 to 10 000) of an upload from `len` bytes.
/// `opts` (may be NULL) has the part checksum (R2_CHECKSUM_NONE, _MD5, _CRC32
/// or _CRC32C; SHA ones are refused: R2 answers 501) and the upload's SSE-C
/// key. A part that breaks R2's equal-size rule given the parts this client
/// already sent for the upload is refused before its bytes are sent
/// (R2_ERR_INVALID_PART / R2_ERR_ENTITY_TOO_SMALL). On success `*etag` holds
/// the part's ETag for r2_multipart_complete() (release with r2_buf_dispose()).
@c public func r2_multipart_upload_part(_ etag: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?,
                                        _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                        _ upload_id: UnsafePointer<CChar>?, _ part_number: UInt32,
                                        _ data: UnsafePointer<UInt8>?, _ len: UInt,
                                        _ opts: UnsafePointer<r2_part_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let etag else { throw invalid("etag is NULL") }
        etag.pointee = r2_buf(ptr: nil, size: 0)
        let c = try handle(client, as: R2Client.self, "client")
        guard data != nil || len == 0 else { throw invalid("data is NULL but len is \(len)") }
        guard len <= UInt(Int.max) else { throw invalid("len \(len) is out of range") }
        let (checksum, sse, _) = try partOptions(opts)
        let part = try c.uploadPart(upload(bucket, key, upload_id), partNumber: Int(part_number),
                                    body: UnsafeRawBufferPointer(start: data, count: Int(len)), checksum: checksum,
                                    sseCustomerKey: sse)
        fill(etag, part.etag)
    }
}

/// Copies bytes `first`..`last` (inclusive) of `src_bucket`/`src_key` as part
/// `part_number` (UploadPartCopy); `first` = `last` = -1 copies the whole
/// source. `opts` (may be NULL) has the upload's and the source's SSE-C keys.
@c public func r2_multipart_upload_part_copy(_ etag: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?,
                                             _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                             _ upload_id: UnsafePointer<CChar>?, _ part_number: UInt32,
                                             _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                                             _ first: Int64, _ last: Int64,
                                             _ opts: UnsafePointer<r2_part_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let etag else { throw invalid("etag is NULL") }
        etag.pointee = r2_buf(ptr: nil, size: 0)
        let c = try handle(client, as: R2Client.self, "client")
        let range = try copyRange(first, last)
        let (_, sse, sourceSSE) = try partOptions(opts)
        let part = try c.uploadPartCopy(upload(bucket, key, upload_id), partNumber: Int(part_number),
                                        sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                                        range: range, sseCustomerKey: sse, sourceSSECustomerKey: sourceSSE)
        fill(etag, part.etag)
    }
}

/// The source range of an UploadPartCopy: nil (the whole source) for -1, -1.
func copyRange(_ first: Int64, _ last: Int64) throws(R2Error) -> ClosedRange<UInt64>? {
    guard first != -1 || last != -1 else { return nil }
    guard first >= 0, last >= first else { throw invalid("range \(first)-\(last) is invalid") }
    return UInt64(first)...UInt64(last)
}

/// Sets `opts` to version `version` (R2_COMPLETE_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_complete_options_init(_ opts: UnsafeMutablePointer<r2_complete_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_complete_options")
        opts.pointee = r2_complete_options()
        opts.pointee.version = version
    }
}

/// Completes an upload from `count` parts (any order; sorted here). `info`
/// (may be NULL) gets the object's ETag. Before sending, every part is checked
/// against R2's size rules (with the sizes this client sent, else ListParts).
/// An ambiguous failure (timeout, reset, 5xx, lost answer) is resolved by
/// reading the object back and comparing its ETag with the parts' multipart
/// ETag, or with ListParts; Complete is never re-sent blindly. A mismatched
/// multipart ETag is R2_ERR_CHECKSUM_MISMATCH. `opts` (may be NULL) has
/// conditions R2 checks when the object is published (If-Match /
/// If-None-Match; a failed one is R2_ERR_PRECONDITION_FAILED and final: R2
/// treats the upload as aborted) and the upload's SSE-C key.
@c public func r2_multipart_complete(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                     _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                     _ upload_id: UnsafePointer<CChar>?, _ parts: UnsafePointer<r2_completed_part>?,
                                     _ count: UInt, _ opts: UnsafePointer<r2_complete_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let (list, options) = try completeArguments(parts, count, opts)
        fillCompleted(infoOut, try c.completeMultipartUpload(upload(bucket, key, upload_id), parts: list, options: options))
    }
}

func completeArguments(_ parts: UnsafePointer<r2_completed_part>?, _ count: UInt,
                       _ opts: UnsafePointer<r2_complete_options>?) throws(R2Error) -> ([CompletedPart], CompleteOptions) {
    guard count > 0, let parts else { throw invalid(count == 0 ? "count is 0" : "parts is NULL") }
    guard count <= 10_000 else { throw invalid("count \(count) is more than 10 000 parts") }
    var list: [CompletedPart] = []
    for i in 0..<Int(count) {
        list.append(CompletedPart(partNumber: Int(parts[i].part_number), etag: try string(parts[i].etag, "parts[\(i)].etag")))
    }
    var options = CompleteOptions()
    if let opts {
        try checkVersion(opts.pointee.version, current: 1, "r2_complete_options")
        options.ifMatch = try optionalString(opts.pointee.if_match, "opts->if_match")
        options.ifNoneMatch = try optionalString(opts.pointee.if_none_match, "opts->if_none_match")
        options.sseCustomerKey = try sseKey(opts.pointee.sse_customer_key)
    }
    return (list, options)
}

func fillCompleted(_ info: ResultOut<r2_object_info>, _ result: CompleteMultipartUploadResult) {
    var o = ObjectInfo()
    o.etag = result.etag
    fillInfo(info, o)
}

/// Aborts an upload and frees its parts on the server.
@c public func r2_multipart_abort(_ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                  _ upload_id: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in
        let c = try handle(client, as: R2Client.self, "client")
        try c.abortMultipartUpload(upload(bucket, key, upload_id))
    }
}

/// Sets `opts` to version `version` (R2_LIST_PARTS_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_list_parts_options_init(_ opts: UnsafeMutablePointer<r2_list_parts_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_list_parts_options")
        opts.pointee = r2_list_parts_options()
        opts.pointee.version = version
    }
}

/// Lists every part of an upload (all pages). `opts` may be NULL. Release
/// `*out` with r2_multipart_part_list_dispose(). R2_ERR_NO_SUCH_UPLOAD when
/// the upload is gone (R2 aborts unfinished uploads after 7 days by default).
@c public func r2_multipart_list_parts(_ out: UnsafeMutablePointer<r2_multipart_part_list>?, _ client: OpaquePointer?,
                                       _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                       _ upload_id: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_parts_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let result = try ResultOut(out, "out")
        if let opts { try checkVersion(opts.pointee.version, current: 1, "r2_list_parts_options") }
        let c = try handle(client, as: R2Client.self, "client")
        fillPartList(result, try c.listParts(upload(bucket, key, upload_id)))
    }
}

func fillPartList(_ result: ResultOut<r2_multipart_part_list>, _ parts: [ListPartsResult.Part]) {
    let a = Arena()
    let items = parts.map { r2_multipart_part_info(version: 0, part_number: UInt32($0.partNumber), size: $0.size,
                                                   etag: a.string($0.etag), last_modified: a.string($0.lastModified)) }
    // Elements take the layout of the list's version (both have only version 1 so far).
    result.store(r2_multipart_part_list(version: 0, parts: a.array(items, version: result.version), count: items.count,
                                        internal: a.opaque))
}

/// Releases what r2 stored in `list` and zeroes its fields (the version stays). NULL is a no-op.
@c public func r2_multipart_part_list_dispose(_ list: UnsafeMutablePointer<r2_multipart_part_list>?) {
    guard let list else { return }
    Arena.release(list.pointee.internal)
    clearResult(list)
}

/// Sets `opts` to version `version` (R2_LIST_UPLOADS_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_list_uploads_options_init(_ opts: UnsafeMutablePointer<r2_list_uploads_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_list_uploads_options")
        opts.pointee = r2_list_uploads_options()
        opts.pointee.version = version
    }
}

/// Lists every unfinished multipart upload of `bucket` whose key starts with
/// `opts->prefix` (`opts` NULL, or a NULL prefix: all). Release `*out` with
/// r2_multipart_upload_list_dispose().
@c public func r2_multipart_list_uploads(_ out: UnsafeMutablePointer<r2_multipart_upload_list>?, _ client: OpaquePointer?,
                                         _ bucket: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_uploads_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let result = try ResultOut(out, "out")
        let prefix = try listUploadsPrefix(opts)
        let c = try handle(client, as: R2Client.self, "client")
        fillUploadList(result, try c.listMultipartUploads(bucket: string(bucket, "bucket"), prefix: prefix))
    }
}

func listUploadsPrefix(_ opts: UnsafePointer<r2_list_uploads_options>?) throws(R2Error) -> String? {
    guard let opts else { return nil }
    try checkVersion(opts.pointee.version, current: 1, "r2_list_uploads_options")
    return try optionalString(opts.pointee.prefix, "opts->prefix")
}

func fillUploadList(_ result: ResultOut<r2_multipart_upload_list>, _ uploads: [ListMultipartUploadsResult.Upload]) {
    let a = Arena()
    let items = uploads.map { r2_multipart_upload_info(version: 0, key: a.string($0.key), upload_id: a.string($0.uploadID),
                                                       initiated: a.string($0.initiated)) }
    // Elements take the layout of the list's version (both have only version 1 so far).
    result.store(r2_multipart_upload_list(version: 0, uploads: a.array(items, version: result.version), count: items.count,
                                          internal: a.opaque))
}

/// Releases what r2 stored in `list` and zeroes its fields (the version stays). NULL is a no-op.
@c public func r2_multipart_upload_list_dispose(_ list: UnsafeMutablePointer<r2_multipart_upload_list>?) {
    guard let list else { return }
    Arena.release(list.pointee.internal)
    clearResult(list)
}
