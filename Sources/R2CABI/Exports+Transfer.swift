import CR2Types
import Glibc
import R2

// Multipart uploads and the transfer manager. Parts move on worker threads;
// the caller's read, write and progress callbacks always run on the thread
// that made the call.

// MARK: Cancellation

/// Creates a cancel switch for long calls: pass it in r2_transfer_options and
/// flip it with r2_cancel_signal().
///
/// - Parameters:
///   - out: Out: the new switch on success, NULL on failure.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out.
/// - Ownership: *out belongs to the caller: release it with r2_cancel_free() after
///   the calls using it have returned.
/// - Threads: any thread; the switch may be used from any thread.
@c public func r2_cancel_new(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = retain(Cancellation())
    }
}

/// Asks every call holding the switch to stop: they fail with R2_ERR_CANCELLED
/// (an upload is aborted on the server first). Returns at once; calls started
/// later with the switch fail at once too.
///
/// - Parameters:
///   - cancel: The cancel switch.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for an invalid handle.
/// - Ownership: nothing changes hands.
/// - Threads: any thread, also a signal-handling one.
@c public func r2_cancel_signal(_ cancel: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in try handle(cancel, as: Cancellation.self, "cancel").cancel() }
}

/// Releases a cancel switch.
///
/// - Parameters:
///   - cancel: The switch; NULL, a freed switch and a handle of another type are no-ops.
/// - Returns: nothing.
/// - Ownership: the handle goes back to r2; calls still running keep their own reference.
/// - Threads: any thread, once.
@c public func r2_cancel_free(_ cancel: OpaquePointer?) {
    release(cancel, as: Cancellation.self)
}

// MARK: Transfer options

/// Sets an r2_transfer_options to a version of the struct with every other
/// field zero, which means the default. The same as R2_TRANSFER_OPTIONS_INIT,
/// for bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_TRANSFER_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
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

/// Uploads the file at path to bucket/key: one PUT below the threshold, a
/// multipart upload at or above it (parts read at their offsets, sent by
/// concurrency workers). On failure or cancellation the multipart upload is
/// aborted, unless opts->state_path is set: then it is kept, and calling again
/// with the same file and state resumes it, sending only the missing parts (a
/// changed file is refused).
///
/// - Parameters:
///   - info: Out, may be NULL: the object's ETag and request id (set info->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - path: The file to upload.
///   - opts: May be NULL: threshold, part size, concurrency, part checksum,
///     headers, progress, cancel switch, resume state.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (also a file that cannot be read),
///   R2_ERR_CANCELLED, R2_ERR_INVALID_PART, R2_ERR_ENTITY_TOO_SMALL,
///   R2_ERR_CHECKSUM_MISMATCH, or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; progress runs on the calling thread, parts move on
///   worker threads. The client may be shared by many threads at once.
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

/// Uploads len bytes at data as bucket/key: one PUT below the threshold, a
/// multipart upload at or above it. As r2_transfer_upload_file(), without resume.
///
/// - Parameters:
///   - info: Out, may be NULL: as for r2_transfer_upload_file().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - data: The body (never copied); may be NULL only when len is 0.
///   - len: Bytes at data.
///   - opts: May be NULL: as for r2_transfer_upload_file().
/// - Returns: the codes of r2_transfer_upload_file().
/// - Ownership: data, strings and options are borrowed for the call; *info
///   belongs to the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; as r2_transfer_upload_file().
@c public func r2_transfer_upload_buffer(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                         _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                         _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_transfer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let body = try bytes(data, len)
        let result = try c.uploadBytes(body, bucket: string(bucket, "bucket"),
                                       key: string(key, "key"), options: transferOptions(opts))
        fillInfo(infoOut, result)
    }
}

/// Uploads what read produces. With length >= 0 and below the threshold it is
/// one streamed PUT; otherwise, and always when length is -1 (unknown), a
/// multipart upload reading parts in order on the calling thread into at most
/// concurrency + 1 part buffers. A stream cannot be resumed: opts->state_path is
/// refused.
///
/// - Parameters:
///   - info: Out, may be NULL: as for r2_transfer_upload_file().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - length: The body's size in bytes, or -1 when unknown.
///   - read: Fills the body (see r2_read_cb); < 0 aborts and the upload is
///     aborted on the server.
///   - userdata: Passed to read.
///   - opts: May be NULL: as for r2_transfer_upload_file(), without state_path.
/// - Returns: R2_OK; R2_ERR_ABORTED (read returned < 0), R2_ERR_INCOMPLETE_BODY
///   (read ended before length bytes), the codes of r2_transfer_upload_file().
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; read and progress run on the calling thread, parts
///   move on worker threads. The client may be shared by many threads at once.
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
                                        rewind: rewindBody(opts?.pointee.put, userdata),
                                        read: bodyReader(read, userdata, pausable: false))
        fillInfo(infoOut, result)
    }
}

/// Downloads bucket/key to the file at path: one GET below the threshold,
/// parallel ranged GETs pinned to the object's ETag above it. The bytes go to
/// path.r2-partial, renamed to path at the end: a failed or cancelled download
/// leaves no partial file at path. With opts->state_path, a failed download
/// keeps the partial file and its state, and calling again continues from them.
///
/// - Parameters:
///   - info: Out, may be NULL: the object's metadata (set info->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - path: The file to write (replaced when the download succeeds).
///   - opts: May be NULL: threshold, part size, concurrency, progress, cancel
///     switch, resume state, SSE-C key, skip_fsync.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (also a path that cannot be
///   written), R2_ERR_NO_SUCH_KEY, R2_ERR_CANCELLED, R2_ERR_PRECONDITION_FAILED
///   (the object changed mid-way), R2_ERR_CHECKSUM_MISMATCH, or any network or
///   server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; progress runs on the calling thread, ranges move on
///   worker threads. The client may be shared by many threads at once.
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

/// Downloads bucket/key to write, in order. Above the threshold, ranges are
/// fetched in parallel into at most concurrency + 1 part buffers.
///
/// - Parameters:
///   - info: Out, may be NULL: as for r2_transfer_download_file().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - write: Receives the body in order (see r2_write_cb); non-zero aborts.
///   - userdata: Passed to write.
///   - opts: May be NULL: as for r2_transfer_download_file(), without state_path.
/// - Returns: R2_OK; R2_ERR_ABORTED (write returned non-zero), the codes of
///   r2_transfer_download_file().
/// - Ownership: strings and options are borrowed for the call; chunks are valid
///   only during write; *info belongs to the caller: release it with
///   r2_object_info_dispose().
/// - Threads: any thread; write and progress run on the calling thread. The
///   client may be shared by many threads at once.
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

/// Copies src_bucket/src_key to bucket/key on the server, of any size:
/// CopyObject below opts->threshold (by default: up to 5 GiB), else
/// UploadPartCopy ranges in parallel. The source's content headers and metadata
/// are kept unless opts->put sets any of them: then those given replace them all
/// (S3's REPLACE directive).
///
/// - Parameters:
///   - info: Out, may be NULL: the new object's ETag (set info->version first).
///   - client: The client.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - bucket: Destination bucket (NUL-terminated UTF-8).
///   - key: Destination key (NUL-terminated UTF-8).
///   - opts: May be NULL: threshold, part size, concurrency, headers, progress,
///     cancel switch, SSE-C keys.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_KEY, R2_ERR_CANCELLED,
///   R2_ERR_PRECONDITION_FAILED (the source changed mid-way), or any network or
///   server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; progress runs on the calling thread, parts move on
///   worker threads. The client may be shared by many threads at once.
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

/// Starts a multipart upload of bucket/key.
///
/// - Parameters:
///   - upload_id: Out: the upload's id on success, {NULL, 0} on failure.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: May be NULL: the object's headers, metadata and SSE-C key; a
///     checksum is refused (R2 has no full-object checksum for multipart: use a
///     per-part one).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_INVALID_OBJECT_NAME, R2_ERR_UNSUPPORTED, or any network or server
///   status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *upload_id
///   belongs to the caller: release it with r2_buf_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
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

/// Sets an r2_part_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_PART_OPTIONS_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_PART_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
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

/// Uploads part part_number of an upload from len bytes. A part that breaks R2's
/// equal-size rule, given the parts this client already sent for the upload, is
/// refused before its bytes are sent.
///
/// - Parameters:
///   - etag: Out: the part's ETag for r2_multipart_complete(), {NULL, 0} on failure.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The id from r2_multipart_create().
///   - part_number: 1 to 10 000.
///   - data: The part's bytes; may be NULL only when len is 0.
///   - len: Bytes at data.
///   - opts: May be NULL: the part checksum (NONE, MD5, CRC32 or CRC32C: R2
///     answers the SHA ones with 501) and the upload's SSE-C key.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_UPLOAD,
///   R2_ERR_INVALID_PART, R2_ERR_ENTITY_TOO_SMALL, R2_ERR_BAD_DIGEST,
///   R2_ERR_UNSUPPORTED (a SHA checksum), or any
///   network or server status (see r2_status).
/// - Ownership: data, strings and options are borrowed for the call; *etag
///   belongs to the caller: release it with r2_buf_dispose().
/// - Threads: any thread; parts of one upload may be sent from many threads at
///   once. The client may be shared by many threads at once.
@c public func r2_multipart_upload_part(_ etag: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?,
                                        _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                        _ upload_id: UnsafePointer<CChar>?, _ part_number: UInt32,
                                        _ data: UnsafePointer<UInt8>?, _ len: UInt,
                                        _ opts: UnsafePointer<r2_part_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let etag else { throw invalid("etag is NULL") }
        etag.pointee = r2_buf(ptr: nil, size: 0)
        let c = try handle(client, as: R2Client.self, "client")
        let body = try bytes(data, len)
        let (checksum, sse, _) = try partOptions(opts)
        let part = try c.uploadPart(upload(bucket, key, upload_id), partNumber: Int(part_number),
                                    body: body, checksum: checksum,
                                    sseCustomerKey: sse)
        fill(etag, part.etag)
    }
}

/// Copies bytes first to last (inclusive) of src_bucket/src_key as part
/// part_number of an upload (UploadPartCopy).
///
/// - Parameters:
///   - etag: Out: the part's ETag for r2_multipart_complete(), {NULL, 0} on failure.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The id from r2_multipart_create().
///   - part_number: 1 to 10 000.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - first: First byte of the range, or -1 (with last = -1) for the whole source.
///   - last: Last byte of the range (inclusive), or -1.
///   - opts: May be NULL: the upload's and the source's SSE-C keys.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_UPLOAD,
///   R2_ERR_NO_SUCH_KEY, R2_ERR_INVALID_RANGE, or any network or server status
///   (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *etag belongs to
///   the caller: release it with r2_buf_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
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

/// Sets an r2_complete_options to a version of the struct with every other
/// field zero, which means the default. The same as R2_COMPLETE_OPTIONS_INIT,
/// for bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_COMPLETE_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_complete_options_init(_ opts: UnsafeMutablePointer<r2_complete_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_complete_options")
        opts.pointee = r2_complete_options()
        opts.pointee.version = version
    }
}

/// Completes an upload from count parts (in any order: they are sorted here).
/// Before sending, every part is checked against R2's size rules (with the
/// sizes this client sent, else ListParts). An ambiguous failure (timeout,
/// reset, 5xx, lost answer) is resolved by reading the object back and
/// comparing its ETag with the parts' multipart ETag, or with ListParts;
/// Complete is never sent again blindly.
///
/// - Parameters:
///   - info: Out, may be NULL: the object's ETag (set info->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The id from r2_multipart_create().
///   - parts: count parts: number and ETag.
///   - count: Number of parts, 1 to 10 000.
///   - opts: May be NULL: If-Match / If-None-Match (checked by R2 when the object
///     is published: a failed one is final, R2 treats the upload as aborted) and
///     the upload's SSE-C key.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_UPLOAD, R2_ERR_INVALID_PART,
///   R2_ERR_INVALID_PART_ORDER, R2_ERR_ENTITY_TOO_SMALL, R2_ERR_PRECONDITION_FAILED,
///   R2_ERR_CHECKSUM_MISMATCH (the object's ETag is not the parts' multipart ETag),
///   or any network or server status (see r2_status).
/// - Ownership: parts, strings and options are borrowed for the call; *info
///   belongs to the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
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
///
/// - Parameters:
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The id from r2_multipart_create().
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_UPLOAD, or any
///   network or server status (see r2_status).
/// - Ownership: strings are borrowed for the call.
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_multipart_abort(_ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                  _ upload_id: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in
        let c = try handle(client, as: R2Client.self, "client")
        try c.abortMultipartUpload(upload(bucket, key, upload_id))
    }
}

/// Sets an r2_list_parts_options to a version of the struct with every other
/// field zero, which means the default. The same as R2_LIST_PARTS_OPTIONS_INIT,
/// for bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_LIST_PARTS_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_list_parts_options_init(_ opts: UnsafeMutablePointer<r2_list_parts_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_list_parts_options")
        opts.pointee = r2_list_parts_options()
        opts.pointee.version = version
    }
}

/// Lists every part of an upload (all pages).
///
/// - Parameters:
///   - out: Out: the parts (set out->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - upload_id: The id from r2_multipart_create().
///   - opts: May be NULL: the defaults.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_UPLOAD (the upload
///   was completed or aborted; R2 aborts unfinished uploads after 7 days by
///   default), or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *out belongs to
///   the caller: release it with r2_multipart_part_list_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
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

/// Releases what r2 stored in an r2_multipart_part_list and zeroes its fields
/// (its version stays).
///
/// - Parameters:
///   - list: The struct; NULL and a zeroed struct are no-ops.
/// - Returns: nothing.
/// - Ownership: the strings and array go back to r2; the struct itself stays the caller's.
/// - Threads: any thread; not while another thread reads the same struct.
@c public func r2_multipart_part_list_dispose(_ list: UnsafeMutablePointer<r2_multipart_part_list>?) {
    guard let list else { return }
    Arena.release(list.pointee.internal)
    clearResult(list)
}

/// Sets an r2_list_uploads_options to a version of the struct with every other
/// field zero, which means the default. The same as
/// R2_LIST_UPLOADS_OPTIONS_INIT, for bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_LIST_UPLOADS_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_list_uploads_options_init(_ opts: UnsafeMutablePointer<r2_list_uploads_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_list_uploads_options")
        opts.pointee = r2_list_uploads_options()
        opts.pointee.version = version
    }
}

/// Lists every unfinished multipart upload of bucket (all pages).
///
/// - Parameters:
///   - out: Out: the uploads (set out->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: May be NULL: prefix (only keys that start with it).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_NO_SUCH_BUCKET, or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *out belongs to
///   the caller: release it with r2_multipart_upload_list_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
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

/// Releases what r2 stored in an r2_multipart_upload_list and zeroes its fields
/// (its version stays).
///
/// - Parameters:
///   - list: The struct; NULL and a zeroed struct are no-ops.
/// - Returns: nothing.
/// - Ownership: the strings and array go back to r2; the struct itself stays the caller's.
/// - Threads: any thread; not while another thread reads the same struct.
@c public func r2_multipart_upload_list_dispose(_ list: UnsafeMutablePointer<r2_multipart_upload_list>?) {
    guard let list else { return }
    Arena.release(list.pointee.internal)
    clearResult(list)
}
