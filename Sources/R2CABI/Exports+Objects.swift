import CR2Types
import Glibc
import R2

// Object operations. Every call blocks the calling thread until the response
// is complete; callbacks run on that thread. The client may be used from
// many threads at once.

// MARK: Options

/// Sets an r2_put_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_PUT_OPTIONS_INIT, for bindings
/// that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_PUT_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_put_options_init(_ opts: UnsafeMutablePointer<r2_put_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 2, "r2_put_options")
        opts.pointee = r2_put_options()
        opts.pointee.version = version
    }
}

/// Sets an r2_get_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_GET_OPTIONS_INIT, for bindings
/// that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_GET_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_get_options_init(_ opts: UnsafeMutablePointer<r2_get_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 2, "r2_get_options")
        opts.pointee = r2_get_options()
        opts.pointee.version = version
    }
}

/// Sets an r2_copy_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_COPY_OPTIONS_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_COPY_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_copy_options_init(_ opts: UnsafeMutablePointer<r2_copy_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 2, "r2_copy_options")
        opts.pointee = r2_copy_options()
        opts.pointee.version = version
    }
}

/// Sets an r2_list_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_LIST_OPTIONS_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_LIST_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_list_options_init(_ opts: UnsafeMutablePointer<r2_list_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_list_options")
        opts.pointee = r2_list_options()
        opts.pointee.version = version
    }
}

func putOptions(_ p: UnsafePointer<r2_put_options>?) throws(R2Error) -> PutOptions {
    var o = PutOptions()
    guard let p else { return o }
    let c = p.pointee
    try checkVersion(c.version, current: 2, "r2_put_options")
    o.contentType = try optionalString(c.content_type, "opts->content_type")
    o.cacheControl = try optionalString(c.cache_control, "opts->cache_control")
    o.contentDisposition = try optionalString(c.content_disposition, "opts->content_disposition")
    o.contentEncoding = try optionalString(c.content_encoding, "opts->content_encoding")
    o.contentLanguage = try optionalString(c.content_language, "opts->content_language")
    o.expires = try optionalString(c.expires, "opts->expires")
    o.metadata = try headers(c.metadata, c.metadata_count, "opts->metadata")
    o.ifMatch = try optionalString(c.if_match, "opts->if_match")
    o.ifNoneMatch = try optionalString(c.if_none_match, "opts->if_none_match")
    o.ifModifiedSince = try optionalString(c.if_modified_since, "opts->if_modified_since")
    o.ifUnmodifiedSince = try optionalString(c.if_unmodified_since, "opts->if_unmodified_since")
    switch UInt32(bitPattern: c.payload_mode) {
    case R2_PAYLOAD_DEFAULT.rawValue: o.payloadMode = nil
    case R2_PAYLOAD_SIGNED.rawValue: o.payloadMode = .signed
    case R2_PAYLOAD_UNSIGNED.rawValue: o.payloadMode = .unsigned
    default: throw invalid("opts->payload_mode \(c.payload_mode) is not an r2_payload_mode")
    }
    o.checksum = try checksumAlgorithm(c.checksum, "opts->checksum")
    o.checksumValue = try optionalString(c.checksum_value, "opts->checksum_value")
    o.storageClass = try optionalString(c.storage_class, "opts->storage_class")
    if c.version >= 2 { o.sseCustomerKey = try sseKey(c.sse_customer_key) }
    return o
}

/// The rewind callback of version 2 put options, as a Swift closure over
/// the read callback's userdata; nil when not set (a one-shot stream).
func rewindBody(_ p: UnsafePointer<r2_put_options>?, _ userdata: UnsafeMutableRawPointer?) -> (() throws(R2Error) -> Void)? {
    guard let p, p.pointee.version >= 2, let rewind = p.pointee.rewind else { return nil }
    return { () throws(R2Error) in
        let rc = rewind(userdata)
        guard rc == 0 else { throw R2Error(.aborted, "the rewind callback returned \(rc): the body cannot be sent again") }
    }
}

func checksumAlgorithm(_ v: Int32, _ name: String) throws(R2Error) -> ChecksumAlgorithm {
    switch UInt32(bitPattern: v) {
    case R2_CHECKSUM_NONE.rawValue: return .none
    case R2_CHECKSUM_MD5.rawValue: return .md5
    case R2_CHECKSUM_CRC32.rawValue: return .crc32
    case R2_CHECKSUM_CRC32C.rawValue: return .crc32c
    case R2_CHECKSUM_SHA1.rawValue: return .sha1
    case R2_CHECKSUM_SHA256.rawValue: return .sha256
    default: throw invalid("\(name) \(v) is not an r2_checksum")
    }
}

func getOptions(_ p: UnsafePointer<r2_get_options>?) throws(R2Error) -> GetOptions {
    var o = GetOptions()
    guard let p else { return o }
    let c = p.pointee
    try checkVersion(c.version, current: 2, "r2_get_options")
    o.range = try optionalString(c.range, "opts->range")
    o.ifMatch = try optionalString(c.if_match, "opts->if_match")
    o.ifNoneMatch = try optionalString(c.if_none_match, "opts->if_none_match")
    o.ifModifiedSince = try optionalString(c.if_modified_since, "opts->if_modified_since")
    o.ifUnmodifiedSince = try optionalString(c.if_unmodified_since, "opts->if_unmodified_since")
    o.validateChecksum = c.validate_checksum
    if c.version >= 2 { o.sseCustomerKey = try sseKey(c.sse_customer_key) }
    return o
}

// MARK: Owned results

/// Strings and arrays behind a result struct, freed by its _dispose function.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func string(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    func array<T>(_ items: [T]) -> UnsafePointer<T>? {
        guard !items.isEmpty else { return nil }
        let p = UnsafeMutablePointer<T>.allocate(capacity: items.count)
        p.initialize(from: items, count: items.count)
        blocks.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    /// `items` laid out for a caller of `version`: each element at that
    /// version's stride, with the fields and the version of that version.
    func array<T: VersionedResult>(_ items: [T], version: UInt32) -> UnsafePointer<T>? {
        guard !items.isEmpty else { return nil }
        let stride = T.stride(ofVersion: version)
        let p = calloc(items.count, stride)!
        blocks.append(p)
        for (i, item) in items.enumerated() { writeVersioned(item, version: version, to: p + i * stride) }
        return UnsafePointer(p.assumingMemoryBound(to: T.self))
    }

    deinit { for b in blocks { free(b) } }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passRetained(self).toOpaque() }
    static func release(_ p: UnsafeMutableRawPointer?) {
        if let p { Unmanaged<Arena>.fromOpaque(p).release() }
    }
}

func fillInfo(_ out: ResultOut<r2_object_info>, _ info: ObjectInfo) {
    guard out.pointer != nil else { return }
    let a = Arena()
    let meta = info.metadata.map { r2_header(name: a.string($0.name), value: a.string($0.value)) }
    func checksum(_ name: String) -> UnsafePointer<CChar> {
        a.string(info.checksums.first { $0.algorithm == name }?.value ?? "")
    }
    out.store(r2_object_info(
        version: 0, etag: a.string(info.etag), version_id: a.string(info.versionID), content_type: a.string(info.contentType),
        content_range: a.string(info.contentRange), last_modified: a.string(info.lastModified),
        cache_control: a.string(info.cacheControl), content_disposition: a.string(info.contentDisposition),
        content_encoding: a.string(info.contentEncoding), content_language: a.string(info.contentLanguage),
        expires: a.string(info.expires), storage_class: a.string(info.storageClass),
        checksum_crc32: checksum("crc32"), checksum_crc32c: checksum("crc32c"), checksum_sha1: checksum("sha1"),
        checksum_sha256: checksum("sha256"), request_id: a.string(info.requestID),
        content_length: info.contentLength, http_status: Int32(info.httpStatus),
        metadata: a.array(meta), metadata_count: meta.count, internal: a.opaque))
}

/// Releases what r2 stored in an r2_object_info and zeroes its fields (its
/// version stays).
///
/// - Parameters:
///   - info: The struct; NULL and a zeroed struct are no-ops.
/// - Returns: nothing.
/// - Ownership: the strings and metadata array go back to r2; the struct itself
///   stays the caller's.
/// - Threads: any thread; not while another thread reads the same struct.
@c public func r2_object_info_dispose(_ info: UnsafeMutablePointer<r2_object_info>?) {
    guard let info else { return }
    Arena.release(info.pointee.internal)
    clearResult(info)
}

// MARK: PutObject

/// Uploads len bytes as bucket/key in one PUT (up to 5 GiB - 5 MiB; larger
/// bodies go through r2_transfer_upload_buffer()).
///
/// - Parameters:
///   - info: Out, may be NULL: the ETag, version id and request id (set
///     info->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - data: The body; may be NULL only when len is 0 (an empty object).
///   - len: Bytes at data.
///   - opts: May be NULL: content headers, metadata, conditions, checksum, SSE-C key.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_INVALID_OBJECT_NAME, R2_ERR_METADATA_TOO_LARGE, R2_ERR_ENTITY_TOO_LARGE,
///   R2_ERR_PRECONDITION_FAILED, R2_ERR_BAD_DIGEST, or any network or server
///   status (see r2_status).
/// - Ownership: data, strings and options are borrowed for the call; *info
///   belongs to the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_put(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                             _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                             _ data: UnsafePointer<UInt8>?, _ len: UInt, _ opts: UnsafePointer<r2_put_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let body = try bytes(data, len)
        let result = try c.putObject(bucket: string(bucket, "bucket"), key: string(key, "key"),
                                     body: body, options: putOptions(opts))
        fillInfo(infoOut, result)
    }
}

/// Uploads exactly length bytes produced by read as bucket/key in one PUT (R2
/// needs the length up front; unknown lengths go through
/// r2_transfer_upload_stream()). The body is sent UNSIGNED-PAYLOAD; a checksum
/// needs opts->checksum_value. With opts->rewind a failed attempt (429, 5xx,
/// network) is sent again from the first byte, per the retry policy; without it
/// the stream is one-shot and is not retried once read (the error says so).
///
/// - Parameters:
///   - info: Out, may be NULL: as for r2_object_put().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - length: The body's exact size in bytes.
///   - read: Fills the body (see r2_read_cb); < 0 aborts.
///   - userdata: Passed to read and opts->rewind.
///   - opts: May be NULL: as for r2_object_put(), and the rewind callback.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_ABORTED (read returned < 0),
///   R2_ERR_INCOMPLETE_BODY (read ended before length bytes), the codes of
///   r2_object_put(), or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; read and rewind run on the calling thread. The client
///   may be shared by many threads at once.
@c public func r2_object_put_stream(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                    _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ length: UInt64,
                                    _ read: r2_read_cb?, _ userdata: UnsafeMutableRawPointer?,
                                    _ opts: UnsafePointer<r2_put_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        guard let read else { throw invalid("read is NULL") }
        let result = try c.putObject(bucket: string(bucket, "bucket"), key: string(key, "key"), length: length,
                                     options: putOptions(opts), rewind: rewindBody(opts, userdata),
                                     read: bodyReader(read, userdata, pausable: false))
        fillInfo(infoOut, result)
    }
}

// MARK: GetObject / HeadObject

/// Reads bucket/key (or opts->range of it) into memory. At most the client's
/// max_get_bytes (1 GiB by default) are held: a larger or endless body is
/// R2_ERR_ENTITY_TOO_LARGE (use r2_object_get_stream()). With a range, an answer
/// that is not a 206 of exactly that range is R2_ERR_MALFORMED_RESPONSE.
///
/// - Parameters:
///   - body: Out: the body on success, {NULL, 0} on failure.
///   - info: Out, may be NULL: the object's metadata (set info->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: May be NULL: range, conditions, checksum validation, SSE-C key.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_KEY, R2_ERR_NO_SUCH_BUCKET,
///   R2_ERR_NOT_MODIFIED, R2_ERR_PRECONDITION_FAILED, R2_ERR_INVALID_RANGE,
///   R2_ERR_ENTITY_TOO_LARGE, R2_ERR_CHECKSUM_MISMATCH, R2_ERR_SSE_CUSTOMER_KEY_REQUIRED,
///   or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; body and info
///   belong to the caller after the call: release them with r2_buf_dispose() and
///   r2_object_info_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_get(_ body: UnsafeMutablePointer<r2_buf>?, _ info: UnsafeMutablePointer<r2_object_info>?,
                             _ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                             _ opts: UnsafePointer<r2_get_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let body else { throw invalid("body is NULL") }
        body.pointee = r2_buf(ptr: nil, size: 0)
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        // The body arrives in the buffer handed over: no copy after the network's.
        let output = try c.getObjectMalloced(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts))
        body.pointee = r2_buf(ptr: UnsafeMutableRawPointer(output.body).assumingMemoryBound(to: CChar.self), size: output.count)
        fillInfo(infoOut, output.info)
    }
}

/// Streams bucket/key to write as the body arrives, in bounded memory. With
/// opts->validate_checksum a mismatch is reported as R2_ERR_CHECKSUM_MISMATCH
/// after the last chunk was delivered.
///
/// - Parameters:
///   - info: Out, may be NULL: as for r2_object_get().
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - write: Receives each chunk (see r2_write_cb); non-zero aborts.
///   - userdata: Passed to write.
///   - opts: May be NULL: as for r2_object_get().
/// - Returns: R2_OK; R2_ERR_ABORTED (write returned non-zero), the codes of
///   r2_object_get(), or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; chunks are valid
///   only during write; *info belongs to the caller: release it with
///   r2_object_info_dispose().
/// - Threads: any thread; write runs on the calling thread. The client may be
///   shared by many threads at once.
@c public func r2_object_get_stream(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                                    _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                                    _ write: r2_write_cb?, _ userdata: UnsafeMutableRawPointer?,
                                    _ opts: UnsafePointer<r2_get_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        guard let write else { throw invalid("write is NULL") }
        let result = try c.getObject(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts)) { chunk in
            write(chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), chunk.count, userdata) == 0
        }
        fillInfo(infoOut, result)
    }
}

/// Reads the metadata of bucket/key without its body (info->content_length is
/// the object's size).
///
/// - Parameters:
///   - info: Out: the metadata (set info->version first); must not be NULL.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
///   - opts: May be NULL: conditions and SSE-C key (range is ignored).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_KEY (HEAD has no body,
///   so a missing bucket reads as a missing key too), R2_ERR_NOT_MODIFIED,
///   R2_ERR_PRECONDITION_FAILED, or any network or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_head(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                              _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                              _ opts: UnsafePointer<r2_get_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let info else { throw invalid("info is NULL") }
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        fillInfo(infoOut, try c.headObject(bucket: string(bucket, "bucket"), key: string(key, "key"), options: getOptions(opts)))
    }
}

// MARK: Delete

/// Deletes bucket/key. Deleting a key that does not exist succeeds.
///
/// - Parameters:
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key (NUL-terminated UTF-8).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_INVALID_OBJECT_NAME, R2_ERR_NO_SUCH_BUCKET, R2_ERR_ACCESS_DENIED, or
///   any network or server status (see r2_status).
/// - Ownership: strings are borrowed for the call.
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_delete(_ client: OpaquePointer?, _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in
        let c = try handle(client, as: R2Client.self, "client")
        try c.deleteObject(bucket: string(bucket, "bucket"), key: string(key, "key"))
    }
}

/// Sets an r2_delete_many_options to a version of the struct with every other
/// field zero, which means the default. The same as
/// R2_DELETE_MANY_OPTIONS_INIT, for bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_DELETE_MANY_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_delete_many_options_init(_ opts: UnsafeMutablePointer<r2_delete_many_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_delete_many_options")
        opts.pointee = r2_delete_many_options()
        opts.pointee.version = version
    }
}

/// Deletes count keys of bucket, 1000 per request (longer lists are split into
/// batches, in order). Keys the server could not delete are listed in
/// out->errors: that is not a failure of the call.
///
/// - Parameters:
///   - out: Out: the keys deleted and those that failed (set out->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - keys: count object keys (NUL-terminated UTF-8).
///   - count: Number of keys, at least 1.
///   - opts: May be NULL: quiet (out->deleted stays empty).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_INVALID_OBJECT_NAME, or any network or server status (see r2_status);
///   on a failure, batches before the failing one may already be deleted.
/// - Ownership: keys, strings and options are borrowed for the call; *out
///   belongs to the caller: release it with r2_delete_result_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_delete_many(_ out: UnsafeMutablePointer<r2_delete_result>?, _ client: OpaquePointer?,
                                     _ bucket: UnsafePointer<CChar>?, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                                     _ count: UInt, _ opts: UnsafePointer<r2_delete_many_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let result = try ResultOut(out, "out")
        var quiet = false
        if let opts {
            try checkVersion(opts.pointee.version, current: 1, "r2_delete_many_options")
            quiet = opts.pointee.quiet
        }
        let c = try handle(client, as: R2Client.self, "client")
        guard count > 0, let keys else { throw invalid(count == 0 ? "count is 0" : "keys is NULL") }
        guard count <= 10_000_000 else { throw invalid("count \(count) is out of range") }
        var list: [String] = []
        list.reserveCapacity(Int(count))
        for i in 0..<Int(count) { list.append(try string(keys[i], "keys[\(i)]")) }
        fillDelete(result, try c.deleteObjects(bucket: string(bucket, "bucket"), keys: list, quiet: quiet))
    }
}

func fillDelete(_ result: ResultOut<r2_delete_result>, _ outcome: DeleteResult) {
    let a = Arena()
    let deleted: [UnsafePointer<CChar>?] = outcome.deleted.map { a.string($0.key) }
    let errors = outcome.errors.map {
        r2_delete_error(version: 0, key: a.string($0.key), code: a.string($0.code), message: a.string($0.message))
    }
    // Elements take the layout of the result's version (both have only version 1 so far).
    result.store(r2_delete_result(version: 0, deleted: a.array(deleted), deleted_count: deleted.count,
                                  errors: a.array(errors, version: result.version), error_count: errors.count,
                                  internal: a.opaque))
}

/// Releases what r2 stored in an r2_delete_result and zeroes its fields (its
/// version stays).
///
/// - Parameters:
///   - result: The struct; NULL and a zeroed struct are no-ops.
/// - Returns: nothing.
/// - Ownership: the strings and arrays go back to r2; the struct itself stays the caller's.
/// - Threads: any thread; not while another thread reads the same struct.
@c public func r2_delete_result_dispose(_ result: UnsafeMutablePointer<r2_delete_result>?) {
    guard let result else { return }
    Arena.release(result.pointee.internal)
    clearResult(result)
}

// MARK: Copy

/// Copies src_bucket/src_key to bucket/key on the server in one CopyObject (up
/// to 5 GiB; r2_transfer_copy() copies any size).
///
/// - Parameters:
///   - info: Out, may be NULL: the new ETag and last-modified (set info->version first).
///   - client: The client.
///   - src_bucket: Source bucket (NUL-terminated UTF-8).
///   - src_key: Source key (NUL-terminated UTF-8).
///   - bucket: Destination bucket (NUL-terminated UTF-8).
///   - key: Destination key (NUL-terminated UTF-8).
///   - opts: May be NULL (the source's metadata is copied): replaced metadata,
///     copy-source conditions, SSE-C keys.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_KEY, R2_ERR_NO_SUCH_BUCKET,
///   R2_ERR_PRECONDITION_FAILED (a copy-source condition failed), or any network
///   or server status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *info belongs to
///   the caller: release it with r2_object_info_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_object_copy(_ info: UnsafeMutablePointer<r2_object_info>?, _ client: OpaquePointer?,
                              _ src_bucket: UnsafePointer<CChar>?, _ src_key: UnsafePointer<CChar>?,
                              _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?,
                              _ opts: UnsafePointer<r2_copy_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        let infoOut = try ResultOut(info, "info")
        let c = try handle(client, as: R2Client.self, "client")
        let o = try copyOptions(opts)
        let (result, response) = try c.copyObject(sourceBucket: string(src_bucket, "src_bucket"), sourceKey: string(src_key, "src_key"),
                                                  bucket: string(bucket, "bucket"), key: string(key, "key"), options: o)
        var merged = response
        merged.etag = result.etag
        merged.lastModified = result.lastModified
        fillInfo(infoOut, merged)
    }
}

func copyOptions(_ opts: UnsafePointer<r2_copy_options>?) throws(R2Error) -> CopyOptions {
    var o = CopyOptions()
    if let opts {
        let p = opts.pointee
        try checkVersion(p.version, current: 2, "r2_copy_options")
        o.replaceMetadata = p.replace_metadata
        o.contentType = try optionalString(p.content_type, "opts->content_type")
        o.cacheControl = try optionalString(p.cache_control, "opts->cache_control")
        o.contentDisposition = try optionalString(p.content_disposition, "opts->content_disposition")
        o.contentEncoding = try optionalString(p.content_encoding, "opts->content_encoding")
        o.metadata = try headers(p.metadata, p.metadata_count, "opts->metadata")
        o.ifMatch = try optionalString(p.if_match, "opts->if_match")
        o.ifNoneMatch = try optionalString(p.if_none_match, "opts->if_none_match")
        o.ifModifiedSince = try optionalString(p.if_modified_since, "opts->if_modified_since")
        o.ifUnmodifiedSince = try optionalString(p.if_unmodified_since, "opts->if_unmodified_since")
        if p.version >= 2 {
            o.sseCustomerKey = try sseKey(p.sse_customer_key)
            o.sourceSSECustomerKey = try sseKey(p.source_sse_customer_key)
        }
    }
    return o
}

// MARK: List

func listOptions(_ p: UnsafePointer<r2_list_options>?) throws(R2Error) -> ListOptions {
    var o = ListOptions()
    guard let p else { return o }
    let c = p.pointee
    try checkVersion(c.version, current: 1, "r2_list_options")
    o.prefix = try optionalString(c.prefix, "opts->prefix")
    o.delimiter = try optionalString(c.delimiter, "opts->delimiter")
    o.startAfter = try optionalString(c.start_after, "opts->start_after")
    o.continuationToken = try optionalString(c.continuation_token, "opts->continuation_token")
    if c.max_keys != 0 { o.maxKeys = Int(c.max_keys) }
    return o
}

/// Entry `i` of `page`, its strings pointing into the page's block.
func entry(_ page: ObjectListing, _ i: Int) -> r2_object_entry {
    let e = page.entries[i]
    return r2_object_entry(version: 0, key: page.cString(e.key), etag: page.cString(e.etag),
                           last_modified: page.cString(e.lastModified), storage_class: page.cString(e.storageClass),
                           size: e.size)
}

/// Lists one page of bucket (ListObjectsV2; keys URL-decoded). Pass
/// out->next_continuation_token as opts->continuation_token for the next page,
/// or use r2_list_iter_new().
///
/// - Parameters:
///   - out: Out: the page (set out->version first).
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: May be NULL: prefix, delimiter, start-after, continuation token, max keys.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME,
///   R2_ERR_NO_SUCH_BUCKET, R2_ERR_MALFORMED_RESPONSE, or any network or server
///   status (see r2_status).
/// - Ownership: strings and options are borrowed for the call; *out belongs to
///   the caller: release it with r2_list_result_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_list_objects(_ out: UnsafeMutablePointer<r2_list_result>?, _ client: OpaquePointer?,
                               _ bucket: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let result = try ResultOut(out, "out")
        let c = try handle(client, as: R2Client.self, "client")
        fillList(result, try c.objectListing(bucket: string(bucket, "bucket"), options: listOptions(opts)))
    }
}

/// Fills a list result from a page: the result points into the page's one
/// string block, which it keeps alive until r2_list_result_dispose().
func fillList(_ result: ResultOut<r2_list_result>, _ page: ObjectListing) {
    let storage = ListResultStorage(page)
    result.store(r2_list_result(version: 0, objects: storage.objects, object_count: page.entries.count,
                                common_prefixes: storage.prefixes, common_prefix_count: page.commonPrefixes.count,
                                is_truncated: page.isTruncated,
                                next_continuation_token: page.cString(page.nextContinuationToken ?? ObjectListing.empty),
                                request_id: page.cString(page.requestID),
                                internal: Unmanaged.passRetained(storage).toOpaque(),
                                strings: page.cString(ObjectListing.empty), strings_size: page.byteCount))
}

/// What an r2_list_result owns: the page, whose one block holds every
/// string, and the two arrays pointing into it (no string is copied again).
final class ListResultStorage {
    let page: ObjectListing
    let objects: UnsafePointer<r2_object_entry>?
    let prefixes: UnsafeMutablePointer<UnsafePointer<CChar>?>?

    init(_ page: ObjectListing) {
        self.page = page
        // Every version of r2_list_result so far holds version 1 entries.
        let entries = page.entries, version: UInt32 = 1, stride = r2_object_entry.stride(ofVersion: version)
        let raw = entries.isEmpty ? nil : calloc(entries.count, stride)!
        for i in entries.indices { writeVersioned(entry(page, i), version: version, to: raw! + i * stride) }
        objects = raw.map { UnsafePointer($0.assumingMemoryBound(to: r2_object_entry.self)) }
        let names = page.commonPrefixes
        prefixes = names.isEmpty ? nil : .allocate(capacity: names.count)
        for (i, t) in names.enumerated() { (prefixes! + i).initialize(to: page.cString(t)) }
    }

    deinit {
        free(UnsafeMutableRawPointer(mutating: objects))
        prefixes?.deallocate()
    }
}

/// Releases what r2 stored in an r2_list_result and zeroes its fields (its
/// version stays).
///
/// - Parameters:
///   - result: The struct; NULL and a zeroed struct are no-ops.
/// - Returns: nothing.
/// - Ownership: the strings and arrays go back to r2; the struct itself stays the caller's.
/// - Threads: any thread; not while another thread reads the same struct.
@c public func r2_list_result_dispose(_ result: UnsafeMutablePointer<r2_list_result>?) {
    guard let result else { return }
    if let p = result.pointee.internal { Unmanaged<ListResultStorage>.fromOpaque(p).release() }
    clearResult(result)
}

final class ListIterBox {
    /// Holds the current page, whose block the last entry's strings point into.
    var iterator: ListObjectsIterator
    init(_ iterator: ListObjectsIterator) { self.iterator = iterator }
}

/// Creates an iterator over every object of bucket matching opts; pages are
/// fetched lazily by r2_list_iter_next().
///
/// - Parameters:
///   - out: Out: the new iterator on success, NULL on failure.
///   - client: The client; the iterator holds a reference to it.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: May be NULL: as for r2_list_objects().
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT or R2_ERR_INVALID_BUCKET_NAME (no
///   request is sent yet).
/// - Ownership: strings and options are copied; *out belongs to the caller:
///   release it with r2_list_iter_free().
/// - Threads: any thread; then use the iterator from one thread at a time.
@c public func r2_list_iter_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ client: OpaquePointer?,
                                _ bucket: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_list_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        let c = try handle(client, as: R2Client.self, "client")
        let b = try string(bucket, "bucket")
        try Validate.bucket(b)
        out.pointee = retain(ListIterBox(c.listAllObjects(bucket: b, options: try listOptions(opts))))
    }
}

/// Advances the iterator to the next object, fetching the next page when
/// needed. A failed page fetch returns its status; calling again retries that page.
///
/// - Parameters:
///   - out: Out: the next object on R2_OK (set out->version first).
///   - iter: The iterator.
/// - Returns: R2_OK with an entry; R2_ITER_OVER (1, not an error) after the last
///   one; R2_ERR_INVALID_ARGUMENT, R2_ERR_NO_SUCH_BUCKET, or any network or
///   server status (see r2_status).
/// - Ownership: the entry's strings belong to the iterator and stay valid until
///   the next call on it or r2_list_iter_free().
/// - Threads: one thread at a time per iterator.
@c public func r2_list_iter_next(_ out: UnsafeMutablePointer<r2_object_entry>?, _ iter: OpaquePointer?) -> Int32 {
    var over = false
    let status = guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let entryOut = try ResultOut(out, "out")
        let box = try handle(iter, as: ListIterBox.self, "iter")
        guard let (page, i) = try box.iterator.nextInPage() else { over = true; return }
        entryOut.store(entry(page, i))
    }
    return over ? R2_ITER_OVER.rawValue : status
}

/// Releases an iterator and the entry it last returned.
///
/// - Parameters:
///   - iter: The iterator; NULL, a freed iterator and a handle of another type are no-ops.
/// - Returns: nothing.
/// - Ownership: the handle goes back to r2.
/// - Threads: any thread, once, when no other thread uses the iterator.
@c public func r2_list_iter_free(_ iter: OpaquePointer?) {
    release(iter, as: ListIterBox.self)
}
