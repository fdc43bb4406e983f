import CR2Types
import Glibc
import R2

// Version, errors, buffers, client lifecycle and presigning.

private let versionString = CStringBox("1.0.0")

/// The library's version as MAJOR*10000 + MINOR*100 + PATCH; compare it with
/// R2_VERSION_NUMBER to check that the header and the library agree.
@c public func r2_version_number() -> UInt32 { 10000 }

/// The library's version as "MAJOR.MINOR.PATCH". Static; never free it.
@c public func r2_version_string() -> UnsafePointer<CChar> { UnsafePointer(versionString.pointer) }

private let statusNames: [Int32: CStringBox] = {
    var table: [Int32: CStringBox] = [:]
    for code in statusCodes { table[code] = CStringBox(R2Error.Code(rawValue: code).name) }
    return table
}()
private let unknownStatus = CStringBox("Unknown")
private let statusCodes: [Int32] = [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -100, -101, -102, -103, -104, -200, -201, -202,
                                     -300, -301, -302, -303, -304, -305, -306, -307, -400, -401, -402, -403, -500, -501, -502,
                                     -600, -601, -602, -603, -700, -701, -702, -800, -801, -802, -900]

/// The name of a status code, e.g. "NoSuchKey" for R2_ERR_NO_SUCH_KEY, or
/// "Unknown". Static; never free it. Thread-safe.
@c public func r2_status_string(_ code: Int32) -> UnsafePointer<CChar> {
    UnsafePointer((statusNames[code] ?? unknownStatus).pointer)
}

/// The last failure on the calling thread. Never NULL. Owned by r2 and valid
/// until the next failing r2 call on this thread; successful calls leave it
/// unchanged, so read it right after a call returns non-zero.
@c public func r2_error_last() -> UnsafePointer<r2_error> {
    UnsafePointer(errorSlot().record)
}

/// Releases a buffer r2 returned and sets it to {NULL, 0}. NULL and an empty
/// buffer are no-ops.
@c public func r2_buf_dispose(_ buf: UnsafeMutablePointer<r2_buf>?) {
    guard let buf else { return }
    free(buf.pointee.ptr)
    buf.pointee = r2_buf(ptr: nil, size: 0)
}

/// Sets `opts` to version `version` (use R2_CLIENT_OPTIONS_VERSION) with every
/// other field zero, which means the default.
/// Returns R2_OK, or R2_ERR_INVALID_ARGUMENT for NULL or an unknown version.
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

/// Creates a client. On success `*out` owns a new client; release it with
/// r2_client_free(). The options' strings are copied; the secret is held in
/// memory that is zeroed when the client is freed. Options of an older
/// version get today's defaults for the fields they lack. Once the version
/// is accepted, log_userdata and trace_userdata belong to r2: their _free
/// functions are called when the client is freed, or at once if this fails.
/// Returns R2_OK, R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8, bad version) or
/// R2_ERR_CONFIG (missing credentials, http:// without allow_http, bad endpoint).
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
/// see the README). Returns R2_OK, R2_ERR_INVALID_ARGUMENT, or R2_ERR_CONFIG
/// naming the missing or invalid variable.
@c public func r2_client_new_from_env(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        out.pointee = retain(try R2Client.fromEnvironment())
    }
}

/// Releases a client. NULL is a no-op; a second free of the same pointer is a
/// no-op too while no new handle took its address. Calls in flight on other
/// threads hold their own reference: they finish normally and the client is
/// released when the last returns; a call entering after the free fails with
/// R2_ERR_INVALID_ARGUMENT. (A pointer reused by a later handle is that
/// handle: keeping a freed pointer is the caller's bug, as with free().)
@c public func r2_client_free(_ client: OpaquePointer?) {
    release(client, as: R2Client.self)
}

/// Presigns a URL for GET, PUT, HEAD or DELETE of `bucket`/`key`, valid for
/// `expires_seconds` (1 to 604800). No network call. On success `*out` holds
/// the URL; release it with r2_buf_dispose(). `opts` may be NULL.
/// Returns R2_OK, R2_ERR_INVALID_ARGUMENT, R2_ERR_INVALID_BUCKET_NAME or
/// R2_ERR_INVALID_OBJECT_NAME. Thread-safe. A NULL `key` presigns a
/// bucket-level request: GET with `opts->query` list-type=2, prefix,
/// delimiter, continuation-token, encoding-type=url is a ListObjectsV2 URL.
@c public func r2_client_presign(_ out: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?, _ method: UnsafePointer<CChar>?,
                          _ bucket: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ expires_seconds: Int64,
                          _ opts: UnsafePointer<r2_presign_options>?) -> Int32
{
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = r2_buf(ptr: nil, size: 0)
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
        let url = try withPairs(opts?.pointee.headers, headerCount, "opts->headers") { (headers) throws(R2Error) in
            try withPairs(opts?.pointee.query, queryCount, "opts->query") { (query) throws(R2Error) in
                try c.presignedURL(method: m, bucket: b, key: k, expiresIn: expires_seconds, headers: headers, query: query,
                                   unixTime: time)
            }
        }
        out.pointee = r2_buf(ptr: UnsafeMutableRawPointer(url.pointer).assumingMemoryBound(to: CChar.self), size: url.count)
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

/// Sets `opts` to version `version` (R2_PRESIGN_OPTIONS_VERSION), every other field zero (the defaults).
@c public func r2_presign_options_init(_ opts: UnsafeMutablePointer<r2_presign_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_presign_options")
        opts.pointee = r2_presign_options()
        opts.pointee.version = version
    }
}

/// Checks a bucket name against R2's rules (3-63 characters of a-z, 0-9 and
/// '-', starting and ending with a letter or digit, not an IP address).
/// Returns R2_OK, R2_ERR_INVALID_ARGUMENT or R2_ERR_INVALID_BUCKET_NAME.
@c public func r2_bucket_validate(_ bucket: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in try Validate.bucket(string(bucket, "bucket")) }
}

/// Checks an object key (1 to 1024 bytes of UTF-8). Returns R2_OK,
/// R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8) or R2_ERR_INVALID_OBJECT_NAME.
@c public func r2_key_validate(_ key: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(R2Error) in try Validate.key(string(key, "key")) }
}
