import CR2Types
import Glibc
import R2

// Version, errors, buffers, client lifecycle and presigning.

private let versionString = CStringBox(R2Version.string)

/// The library's version as MAJOR*10000 + MINOR*100 + PATCH. Compare it with
/// R2_VERSION_NUMBER to check that the header a program was built against and
/// the library it loaded agree (same major, library minor not older).
///
/// - Returns: the version number, e.g. 10000 for 1.0.0.
/// - Ownership: nothing to release.
/// - Threads: any thread, at any time.
@c public func r2_version_number() -> UInt32 { R2Version.number }

/// The library's version as "MAJOR.MINOR.PATCH", as R2_VERSION_STRING.
///
/// - Returns: a static NUL-terminated string, never NULL.
/// - Ownership: the string belongs to r2 and lives as long as the process; never free it.
/// - Threads: any thread, at any time.
@c public func r2_version_string() -> UnsafePointer<CChar> { UnsafePointer(versionString.pointer) }

private let statusNames: [Int32: CStringBox] = {
    var table: [Int32: CStringBox] = [:]
    for code in R2Error.Code.all { table[code.rawValue] = CStringBox(code.name) }
    return table
}()
private let unknownStatus = CStringBox("Unknown")

/// The name of a status code, e.g. "NoSuchKey" for R2_ERR_NO_SUCH_KEY (the
/// names of the r2_status comments), or "Unknown" for a number that is no status.
///
/// - Parameters:
///   - code: An r2_status (any int32_t is accepted).
/// - Returns: a static NUL-terminated string, never NULL.
/// - Ownership: the string belongs to r2 and lives as long as the process; never free it.
/// - Threads: any thread, at any time.
@c public func r2_status_string(_ code: Int32) -> UnsafePointer<CChar> {
    UnsafePointer((statusNames[code] ?? unknownStatus).pointer)
}

/// The details of the last failure on the calling thread: code, HTTP status,
/// S3 error code, message, request id, retryable flag and Retry-After.
/// Successful calls leave it unchanged, so read it right after a call returned
/// a negative status.
///
/// - Returns: a pointer to this thread's record, never NULL (all zero and ""
///   before the first failure).
/// - Ownership: the record and its strings belong to r2 and stay valid until the
///   next failing r2 call on this thread; copy what you keep.
/// - Threads: any thread; each thread has its own record.
@c public func r2_error_last() -> UnsafePointer<r2_error> {
    UnsafePointer(errorSlot().record)
}

/// Releases the memory of a buffer r2 filled and sets it to {NULL, 0}.
///
/// - Parameters:
///   - buf: The buffer; NULL, and a buffer already {NULL, 0}, are no-ops.
/// - Returns: nothing.
/// - Ownership: buf->ptr goes back to r2; the r2_buf struct itself stays the caller's.
/// - Threads: any thread; not while another thread uses the same buffer.
@c public func r2_buf_dispose(_ buf: UnsafeMutablePointer<r2_buf>?) {
    guard let buf else { return }
    free(buf.pointee.ptr)
    buf.pointee = r2_buf(ptr: nil, size: 0)
}

/// Sets an r2_client_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_CLIENT_OPTIONS_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_CLIENT_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_client_options_init(_ opts: UnsafeMutablePointer<r2_client_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: UInt32(R2_CLIENT_OPTIONS_VERSION), "r2_client_options")
        // Only the fields `version` has: an older caller's struct is shorter.
        memset(opts, 0, clientOptionsSize(version))
        opts.pointee.version = version
    }
}

/// The bytes of r2_client_options that a caller of `version` passes.
func clientOptionsSize(_ version: UInt32) -> Int {
    switch version {
    case ...1: return MemoryLayout<r2_client_options>.offset(of: \.retry_slow_down)!
    case 2: return MemoryLayout<r2_client_options>.offset(of: \.max_get_bytes)!
    default: return MemoryLayout<r2_client_options>.size
    }
}

/// A full copy of the caller's options: fields its version lacks are zero (the defaults).
func clientOptions(_ p: UnsafePointer<r2_client_options>) throws(R2Error) -> r2_client_options {
    let version = UnsafeRawPointer(p).load(as: UInt32.self)
    try checkVersion(version, current: UInt32(R2_CLIENT_OPTIONS_VERSION), "r2_client_options")
    var o = r2_client_options()
    memcpy(&o, p, clientOptionsSize(version))
    return o
}

/// A number of options where 0 means "keep the core's default".
@inline(__always) func setIfNonZero<T: BinaryInteger>(_ value: T, _ field: inout T) {
    if value != 0 { field = value }
}

func clientConfig(_ o: r2_client_options) throws(R2Error) -> ClientConfig {
    let credentials = Credentials(accessKeyID: try string(o.access_key_id, "opts->access_key_id"),
                                  secretAccessKey: try string(o.secret_access_key, "opts->secret_access_key"),
                                  sessionToken: try optionalString(o.session_token, "opts->session_token"))
    var config = ClientConfig(accountID: try optionalString(o.account_id, "opts->account_id") ?? "",
                              credentials: credentials,
                              endpoint: try optionalString(o.endpoint, "opts->endpoint"))
    switch UInt32(bitPattern: o.jurisdiction) {
    case R2_JURISDICTION_DEFAULT.rawValue: config.jurisdiction = .default
    case R2_JURISDICTION_EU.rawValue: config.jurisdiction = .eu
    case R2_JURISDICTION_FEDRAMP.rawValue: config.jurisdiction = .fedramp
    case R2_JURISDICTION_US.rawValue: config.jurisdiction = .us
    default: throw invalid("opts->jurisdiction \(o.jurisdiction) is not an r2_jurisdiction")
    }
    config.allowHTTP = o.allow_http
    config.caBundlePath = try optionalString(o.ca_bundle_path, "opts->ca_bundle_path")
    // Zero keeps the default that ClientConfig declares.
    setIfNonZero(o.connect_timeout_ms, &config.connectTimeoutMs)
    setIfNonZero(o.request_timeout_ms, &config.requestTimeoutMs)
    setIfNonZero(o.transfer_timeout_ms, &config.transferTimeoutMs)
    setIfNonZero(o.multipart_threshold, &config.multipartThreshold)
    setIfNonZero(o.multipart_part_size, &config.multipartPartSize)
    setIfNonZero(o.multipart_concurrency, &config.multipartConcurrency)
    setIfNonZero(o.pool_size, &config.poolSize)
    switch UInt32(bitPattern: o.payload_mode) {
    case R2_PAYLOAD_DEFAULT.rawValue: break
    case R2_PAYLOAD_SIGNED.rawValue: config.payloadMode = .signed
    case R2_PAYLOAD_UNSIGNED.rawValue: config.payloadMode = .unsigned
    default: throw invalid("opts->payload_mode \(o.payload_mode) is not an r2_payload_mode")
    }
    config.recordPath = try optionalString(o.record_path, "opts->record_path")
    config.replayPath = try optionalString(o.replay_path, "opts->replay_path")
    config.replayLatency = o.replay_latency
    setIfNonZero(o.max_get_bytes, &config.maxGetBytes)
    try applyResilienceOptions(o, to: &config)
    config.virtualHostedStyle = o.virtual_hosted_style
    // NULL means R2's "auto"; "" is kept: R2 accepts an empty region (tools that cannot set one).
    if let region = o.region {
        guard let r = String(validatingCString: region) else { throw invalid("opts->region is not valid UTF-8") }
        config.region = r
    }
    return config
}

/// Creates a client: configuration, credentials, signer and connection pool.
/// Options of an older version get today's defaults for the fields they lack.
///
/// - Parameters:
///   - out: Out: the new client on success, NULL on failure.
///   - opts: The configuration (set opts->version; see r2_client_options).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8, unknown version,
///   a value out of range) or R2_ERR_CONFIG (missing credentials, http:// without
///   allow_http, a bad endpoint, region or CA bundle).
/// - Ownership: the options' strings are copied (the secret into memory zeroed
///   when the client is freed); *out belongs to the caller: release it with
///   r2_client_free(). Once the version is accepted, log_userdata and
///   trace_userdata belong to r2: their _free callbacks run when the client is
///   freed, or before this returns if it fails.
/// - Threads: any thread; the new client may be shared by many threads at once.
@c public func r2_client_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ opts: UnsafePointer<r2_client_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        guard let opts else { throw invalid("opts is NULL") }
        let options = try clientOptions(opts)
        // Callbacks first: their userdata is r2's from here on, whatever fails next.
        let callbacks = ObservabilityCallbacks(options)
        var config = try clientConfig(options)
        callbacks.install(in: &config)
        let client = try R2Client(config: config)
        out.pointee = retain(client)
    }
}

/// Creates a client from the R2_* environment variables (R2_ACCOUNT_ID,
/// R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_ENDPOINT, R2_ALLOW_HTTP=1, ...;
/// see the README's "Configuration").
///
/// - Parameters:
///   - out: Out: the new client on success, NULL on failure.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out; R2_ERR_CONFIG
///   naming the missing or invalid variable.
/// - Ownership: *out belongs to the caller: release it with r2_client_free().
/// - Threads: any thread (reads the environment: not while another thread
///   changes it); the client may be shared by many threads at once.
@c public func r2_client_new_from_env(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        out.pointee = retain(try R2Client.fromEnvironment())
    }
}

/// Releases a client: its connections, threads and credentials (the secret is
/// zeroed).
///
/// - Parameters:
///   - client: The client; NULL, a freed client and a handle of another type are
///     no-ops (best-effort armour, see the header's prelude).
/// - Returns: nothing.
/// - Ownership: the handle goes back to r2. Calls already running on other threads
///   hold their own reference: they finish normally and the client goes when the
///   last returns; a call entering after the free fails with R2_ERR_INVALID_ARGUMENT.
/// - Threads: any thread, once; never while another thread may still be entering
///   a call with this handle.
@c public func r2_client_free(_ client: OpaquePointer?) {
    release(client, as: R2Client.self)
}

/// Presigns a URL for GET, PUT, HEAD or DELETE of bucket/key, valid for
/// expires_seconds. No network call. A NULL key presigns a bucket-level request:
/// GET with opts->query list-type=2, prefix, delimiter, continuation-token or
/// encoding-type=url is a ListObjectsV2 URL.
///
/// - Parameters:
///   - out: Out: the URL on success, {NULL, 0} on failure.
///   - client: The client whose credentials and endpoint sign the URL.
///   - method: "GET", "PUT", "HEAD" or "DELETE".
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key, or NULL for a bucket-level request.
///   - expires_seconds: 1 to 604800 (R2_MIN_PRESIGN_EXPIRES to R2_MAX_PRESIGN_EXPIRES).
///   - opts: May be NULL: extra signed headers and query parameters, the signing time.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME or
///   R2_ERR_INVALID_OBJECT_NAME.
/// - Ownership: strings and options are borrowed for the call; *out belongs to
///   the caller: release it with r2_buf_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_client_presign(_ out: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?, _ method: UnsafePointer<CChar>?,
                          _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ expires_seconds: Int64,
                          _ opts: UnsafePointer<r2_presign_options>?) -> Int32
{
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = r2_buf(ptr: nil, size: 0)
        var url: UnsafeMutablePointer<UInt8>? = nil
        let count = try presign(client, method, bucket, key, expires_seconds, opts) { size in
            url = malloc(size)!.assumingMemoryBound(to: UInt8.self)
            return url
        }
        out.pointee = r2_buf(ptr: UnsafeMutableRawPointer(url!).assumingMemoryBound(to: CChar.self), size: count)
    }
}

/// Presigns a URL like r2_client_presign(), but writes it into the caller's
/// buffer: one call and nothing to release, for bindings whose every foreign
/// call is costly (Python's ctypes), which keep one buffer per thread.
///
/// - Parameters:
///   - buf: Out: on R2_OK, the URL, NUL-terminated; untouched on failure. May be
///     NULL only when capacity is 0.
///   - capacity: The size of buf in bytes. A URL is a few hundred bytes (its key
///     percent-encoded, up to 3 bytes per key byte, plus opts' headers and query).
///   - len: Out: on R2_OK, the URL's length in bytes (without the NUL); when buf is
///     too small, the same length, and the call fails with R2_ERR_INVALID_ARGUMENT
///     (call again with a buffer of at least *len + 1 bytes); 0 on any other failure.
///   - client: The client whose credentials and endpoint sign the URL.
///   - method: "GET", "PUT", "HEAD" or "DELETE".
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - key: Object key, or NULL for a bucket-level request (see r2_client_presign()).
///   - expires_seconds: 1 to 604800 (R2_MIN_PRESIGN_EXPIRES to R2_MAX_PRESIGN_EXPIRES).
///   - opts: May be NULL: extra signed headers and query parameters, the signing time.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL len, NULL buf with a non-zero
///   capacity, buf too small, or any argument r2_client_presign() refuses),
///   R2_ERR_INVALID_BUCKET_NAME or R2_ERR_INVALID_OBJECT_NAME.
/// - Ownership: everything is borrowed for the call; buf stays the caller's.
/// - Threads: any thread; the client may be shared by many threads at once (each
///   with its own buf).
@c public func r2_client_presign_into(_ buf: UnsafeMutablePointer<CChar>?, _ capacity: UInt, _ len: UnsafeMutablePointer<UInt>?,
                                      _ client: OpaquePointer?, _ method: UnsafePointer<CChar>?,
                                      _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ expires_seconds: Int64,
                                      _ opts: UnsafePointer<r2_presign_options>?) -> Int32
{
    guarded { () throws(R2Error) in
        guard let len else { throw invalid("len is NULL") }
        len.pointee = 0
        if buf == nil && capacity > 0 { throw invalid("buf is NULL but its capacity is \(capacity)") }
        var fits = false
        let count = try presign(client, method, bucket, key, expires_seconds, opts) { size in
            fits = UInt(size) <= capacity
            return fits ? UnsafeMutableRawPointer(buf!).assumingMemoryBound(to: UInt8.self) : nil
        }
        len.pointee = UInt(count)
        guard fits else {
            throw invalid("buf is too small for the URL: capacity \(capacity), the URL needs \(count + 1) bytes with its NUL")
        }
    }
}

/// r2_client_presign and r2_client_presign_into: the arguments checked, then
/// the URL written into `into(size)` (see R2Client.presignedURL); returns its length.
private func presign(_ client: OpaquePointer?, _ method: UnsafePointer<CChar>?, _ bucket: UnsafePointer<CChar>?,
                     _ key: UnsafePointer<CChar>?, _ expires_seconds: Int64, _ opts: UnsafePointer<r2_presign_options>?,
                     into: (Int) -> UnsafeMutablePointer<UInt8>?) throws(R2Error) -> Int
{
    let c = try handle(client, as: R2Client.self, "client")
    let m = try cBytes(method, "method"), b = try cBytes(bucket, "bucket")
    let k = key == nil ? nil : try cBytes(key, "key")
    var headerCount = 0, queryCount = 0
    var time: Int64? = nil
    if let opts {
        try checkVersion(opts.pointee.version, current: 1, "r2_presign_options")
        headerCount = try pairCount(opts.pointee.headers, opts.pointee.header_count, "opts->headers")
        queryCount = try pairCount(opts.pointee.query, opts.pointee.query_count, "opts->query")
        if opts.pointee.unix_time != 0 { time = try unixTime(opts.pointee.unix_time, "opts->unix_time") }
    }
    // The strings are borrowed as they are: nothing is copied before the URL is written.
    return try withPairs(opts?.pointee.headers, headerCount, "opts->headers") { (headers) throws(R2Error) in
        try withPairs(opts?.pointee.query, queryCount, "opts->query") { (query) throws(R2Error) in
            try c.presignedURL(method: m, bucket: b, key: k, expiresIn: expires_seconds, headers: headers, query: query,
                               unixTime: time, into: into)
        }
    }
}

/// The count of a C array of r2_header, checked like `headers()` does.
private func pairCount(_ p: UnsafePointer<r2_header>?, _ count: Int, _ name: String) throws(R2Error) -> Int {
    guard count >= 0, count <= 10_000 else { throw invalid("\(name) count \(UInt(bitPattern: count)) is out of range (0...10000)") }
    if count > 0 && p == nil { throw invalid("\(name) is NULL but its count is \(count)") }
    return count
}

/// Calls `body` with `count` r2_header pairs as borrowed UTF-8 bytes.
private func withPairs<R>(_ p: UnsafePointer<r2_header>?, _ count: Int, _ name: String,
                          _ body: (UnsafeBufferPointer<HeaderBytes>) throws(R2Error) -> R) throws(R2Error) -> R {
    guard count > 0, let p else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
    let table = UnsafeMutableBufferPointer<HeaderBytes>.allocate(capacity: count)
    defer { table.deallocate() }
    for i in 0..<count {
        table[i] = HeaderBytes(name: try cBytes(p[i].name, "\(name)[\(i)].name"), value: try cBytes(p[i].value, "\(name)[\(i)].value"))
    }
    return try body(UnsafeBufferPointer(table))
}

/// Sets an r2_presign_options to a version of the struct with every other field
/// zero, which means the default. The same as R2_PRESIGN_OPTIONS_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_PRESIGN_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_presign_options_init(_ opts: UnsafeMutablePointer<r2_presign_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_presign_options")
        opts.pointee = r2_presign_options()
        opts.pointee.version = version
    }
}

/// Checks a bucket name against R2's rules (3 to 63 characters of a-z, 0-9 and
/// '-', starting and ending with a letter or digit, not an IP address). No
/// network call.
///
/// - Parameters:
///   - bucket: The name (NUL-terminated UTF-8).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8) or
///   R2_ERR_INVALID_BUCKET_NAME (the message says which rule).
/// - Ownership: bucket is borrowed for the call.
/// - Threads: any thread.
@c public func r2_bucket_validate(_ bucket: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in try Validate.bucket(string(bucket, "bucket")) }
}

/// Checks an object key against R2's rules (1 to R2_MAX_KEY_BYTES bytes of
/// UTF-8). No network call.
///
/// - Parameters:
///   - key: The key (NUL-terminated UTF-8).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8) or R2_ERR_INVALID_OBJECT_NAME.
/// - Ownership: key is borrowed for the call.
/// - Threads: any thread.
@c public func r2_key_validate(_ key: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in try Validate.key(string(key, "key")) }
}
