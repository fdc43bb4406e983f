import CR2Types
import Glibc
import R2

// A standalone SigV4 signer, for callers that build their own requests and
// for the published test vectors.

/// Holds a SigV4Signer behind an r2_signer handle.
final class SignerBox {
    let signer: SigV4Signer
    init(_ signer: SigV4Signer) { self.signer = signer }
}

/// Sets an r2_signer_options to a version of the struct with every other field
/// zero, which means the default (a NULL region is "auto", a NULL service
/// "s3"). The same as R2_SIGNER_OPTIONS_INIT, for bindings that cannot use the
/// macro.
///
/// - Parameters:
///   - opts: Out: the options; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_SIGNER_OPTIONS_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL opts, or a version of 0
///   or newer than this library's.
/// - Ownership: opts is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_signer_options_init(_ opts: UnsafeMutablePointer<r2_signer_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_signer_options")
        opts.pointee = r2_signer_options(version: version, access_key_id: nil, secret_access_key: nil,
                                         session_token: nil, region: nil, service: nil)
    }
}

/// Creates a standalone SigV4 signer with its own credentials, region and service.
///
/// - Parameters:
///   - out: Out: the new signer on success, NULL on failure.
///   - opts: Credentials and scope (set opts->version).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8, unknown version)
///   or R2_ERR_CONFIG (an empty access key id or secret).
/// - Ownership: the strings are copied; *out belongs to the caller: release it
///   with r2_signer_free().
/// - Threads: any thread; the signer may be shared by many threads at once.
@c public func r2_signer_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ opts: UnsafePointer<r2_signer_options>?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        guard let opts else { throw invalid("opts is NULL") }
        let o = opts.pointee
        try checkVersion(o.version, current: 1, "r2_signer_options")
        let access = try string(o.access_key_id, "opts->access_key_id")
        let secret = try string(o.secret_access_key, "opts->secret_access_key")
        guard !access.isEmpty, !secret.isEmpty else { throw R2Error(.config, "access key id and secret are required") }
        let credentials = Credentials(accessKeyID: access, secretAccessKey: secret,
                                      sessionToken: try optionalString(o.session_token, "opts->session_token"))
        let region = try optionalString(o.region, "opts->region") ?? "auto"
        let service = try optionalString(o.service, "opts->service") ?? "s3"
        out.pointee = retain(SignerBox(SigV4Signer(credentials: credentials, region: region, service: service)))
    }
}

/// Releases a signer (its secret is zeroed).
///
/// - Parameters:
///   - signer: The signer; NULL, a freed signer and a handle of another type are no-ops.
/// - Returns: nothing.
/// - Ownership: the handle goes back to r2; results it made (r2_signed) stay valid.
/// - Threads: any thread, once, when no other thread uses the signer.
@c public func r2_signer_free(_ signer: OpaquePointer?) { release(signer, as: SignerBox.self) }

/// Sets an r2_sign_request to a version of the struct with every other field
/// zero, which means the default. The same as R2_SIGN_REQUEST_INIT, for
/// bindings that cannot use the macro.
///
/// - Parameters:
///   - req: Out: the request; only the fields of version are written.
///   - version: The struct version the caller was built with (R2_SIGN_REQUEST_VERSION).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL req, or a version of 0
///   or newer than this library's.
/// - Ownership: req is the caller's; nothing to release.
/// - Threads: any thread.
@c public func r2_sign_request_init(_ req: UnsafeMutablePointer<r2_sign_request>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let req else { throw invalid("req is NULL") }
        try checkVersion(version, current: 1, "r2_sign_request")
        req.pointee = r2_sign_request(version: version, method: nil, path: nil, query: nil, headers: nil,
                                      header_count: 0, body: nil, body_len: 0, payload_hash: nil, unix_time: 0,
                                      omit_content_sha256_header: false, omit_session_token: false)
    }
}

/// A required NUL-terminated UTF-8 string as borrowed bytes (no copy).
/// A required NUL-terminated UTF-8 string as borrowed bytes (nothing copied).
func cBytes(_ p: UnsafePointer<CChar>?, _ name: @autoclosure () -> String) throws(R2Error) -> Bytes {
    guard let p else { throw invalid("\(name()) is NULL") }
    let bytes = Bytes(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
    guard UTF8Check.isValid(bytes) else { throw invalid("\(name()) is not valid UTF-8") }
    return bytes
}

private var unsignedPayloadBytes: Bytes { Bytes(staticString: "UNSIGNED-PAYLOAD") }

/// Checks `r` and calls `body` with it as borrowed bytes and the signing
/// time; nothing is copied.
private func withSignerRequest(_ r: r2_sign_request, presign: Bool, signer: SigV4Signer,
                               _ body: (RequestBytes, Int64) -> SigningResult) throws(R2Error) -> SigningResult {
    try checkVersion(r.version, current: 1, "r2_sign_request")
    let method = try cBytes(r.method, "req->method")
    guard !method.isEmpty, method.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
        throw invalid("req->method must be an upper-case HTTP method")
    }
    let path = try cBytes(r.path, "req->path")
    guard path.first == 0x2f else { throw invalid("req->path must start with '/'") }
    let query = r.query == nil ? Bytes(start: nil, count: 0) : try cBytes(r.query, "req->query")
    let count = r.header_count
    // size_t arrives as Int: 2^63 and above read negative, which must not mean "none".
    guard count >= 0, count <= 10_000 else {
        throw invalid("req->headers count \(UInt(bitPattern: count)) is out of range (0...10000)")
    }
    var hasHost = false
    if count > 0 {
        guard let hs = r.headers else { throw invalid("req->headers is NULL but its count is \(count)") }
        for i in 0..<count {
            let name = try cBytes(hs[i].name, "req->headers[\(i)].name")
            _ = try cBytes(hs[i].value, "req->headers[\(i)].value")
            if name.count == 4 && name[0] | 0x20 == 0x68 && name[1] | 0x20 == 0x6f && name[2] | 0x20 == 0x73
                && name[3] | 0x20 == 0x74 { hasHost = true }  // "host", any case
        }
    }
    guard hasHost else { throw invalid("req->headers must include Host") }
    guard r.body_len >= 0 else { throw invalid("req->body_len \(UInt(bitPattern: r.body_len)) is out of range") }
    if r.body_len > 0 && r.body == nil { throw invalid("req->body is NULL but body_len is \(r.body_len)") }
    var payloadHash = unsignedPayloadBytes
    var computedHash: String? = nil
    if let given = r.payload_hash, given[0] != 0 {
        let hash = try cBytes(given, "req->payload_hash")
        let isHex = hash.count == 64 && hash.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard isHex || (hash.count == 16 && memcmp(hash.baseAddress!, unsignedPayloadBytes.baseAddress!, 16) == 0) else {
            throw invalid("req->payload_hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD")
        }
        payloadHash = hash
    } else if !(presign && signer.service == "s3") {
        computedHash = Payload.sha256Hex(r.body, r.body_len)
    }
    let time = r.unix_time == 0 ? signer.clock() : try unixTime(r.unix_time, "req->unix_time")
    func run(_ payloadHash: Bytes) -> SigningResult {
        withUnsafeTemporaryAllocation(of: HeaderBytes.self, capacity: count) { headers in
            for i in 0..<count {
                let h = r.headers![i]
                headers[i] = HeaderBytes(name: Bytes(start: UnsafeRawPointer(h.name!).assumingMemoryBound(to: UInt8.self), count: strlen(h.name!)),
                                         value: Bytes(start: UnsafeRawPointer(h.value!).assumingMemoryBound(to: UInt8.self), count: strlen(h.value!)))
            }
            var request = RequestBytes(method: method, path: path, query: query, headers: UnsafeBufferPointer(headers),
                                       payloadHash: payloadHash)
            request.addContentSHA256Header = !r.omit_content_sha256_header
            request.omitSessionToken = r.omit_session_token
            return body(request, time)
        }
    }
    if var computedHash { return computedHash.withUTF8 { run($0) } }
    return run(payloadHash)
}

/// Signs a request for the Authorization header. The headers to send are the
/// request's plus X-Amz-Date, x-amz-content-sha256 (unless disabled),
/// X-Amz-Security-Token (with a session token) and Authorization.
///
/// - Parameters:
///   - out: Out: the signing result on success, NULL on failure.
///   - signer: The signer.
///   - req: The request: method, path, query, headers (Host required), body or payload hash.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, bad UTF-8, unknown version, no
///   Host header, a time out of range).
/// - Ownership: req is borrowed for the call; *out belongs to the caller: read it
///   with the r2_signed_* functions and release it with r2_signed_free().
/// - Threads: any thread; the signer may be shared by many threads at once.
@c public func r2_signer_sign(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ signer: OpaquePointer?,
                              _ req: UnsafePointer<r2_sign_request>?) -> Int32
{
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        let box = try handle(signer, as: SignerBox.self, "signer")
        guard let req else { throw invalid("req is NULL") }
        let signer = box.signer
        out.pointee = retain(try withSignerRequest(req.pointee, presign: false, signer: signer) { signer.sign($0, unixSeconds: $1) })
    }
}

/// Presigns a request (query-string authentication). The payload hash defaults
/// to UNSIGNED-PAYLOAD for service "s3" and to the body's SHA-256 otherwise.
///
/// - Parameters:
///   - out: Out: the signing result on success (r2_signed_query() is the full query
///     string to send), NULL on failure.
///   - signer: The signer.
///   - req: The request, as for r2_signer_sign().
///   - expires_seconds: 1 to 604800 (R2_MIN_PRESIGN_EXPIRES to R2_MAX_PRESIGN_EXPIRES).
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (as for r2_signer_sign(), or an
///   expiry out of range).
/// - Ownership: req is borrowed for the call; *out belongs to the caller:
///   release it with r2_signed_free().
/// - Threads: any thread; the signer may be shared by many threads at once.
@c public func r2_signer_presign(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ signer: OpaquePointer?,
                                 _ req: UnsafePointer<r2_sign_request>?, _ expires_seconds: Int64) -> Int32
{
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = nil
        let box = try handle(signer, as: SignerBox.self, "signer")
        guard let req else { throw invalid("req is NULL") }
        try Validate.presignExpiry(expires_seconds)
        let signer = box.signer
        out.pointee = retain(try withSignerRequest(req.pointee, presign: true, signer: signer) {
            signer.presign($0, expires: expires_seconds, unixSeconds: $1)
        })
    }
}

/// Releases a signing result.
///
/// - Parameters:
///   - result: The result; NULL, a freed result and a handle of another type are no-ops.
/// - Returns: nothing.
/// - Ownership: the handle and every string read from it go back to r2.
/// - Threads: any thread, once, when no other thread reads the result.
@c public func r2_signed_free(_ result: OpaquePointer?) { release(result, as: SigningResult.self) }

private func signedBox(_ p: OpaquePointer?) -> SigningResult? {
    do { return try handle(p, as: SigningResult.self, "signed") } catch { fail(error); return nil }
}

/// Reads everything a signing result holds in one call, for bindings where each
/// foreign call costs more than the signing: pointer and length pairs, the header
/// table, and the headers as one NUL-separated block.
///
/// - Parameters:
///   - out: Out: the fields (set out->version first; see r2_signed_fields).
///   - result: The signing result.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL, an unknown version, an invalid handle).
/// - Ownership: the strings and arrays in *out are borrowed from result: valid
///   until r2_signed_free(result); nothing to release.
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_get(_ out: UnsafeMutablePointer<r2_signed_fields>?, _ result: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in
        guard out != nil else { throw invalid("out is NULL") }
        let fields = try ResultOut(out, "out")
        let r = try handle(result, as: SigningResult.self, "result")
        fields.store(r2_signed_fields(
            version: 0,
            authorization: r.cString(r.authorization), authorization_len: r.authorization.count,
            canonical_request: r.cString(r.canonicalRequest), canonical_request_len: r.canonicalRequest.count,
            string_to_sign: r.cString(r.stringToSign), string_to_sign_len: r.stringToSign.count,
            signature: r.cString(r.signature), signature_len: r.signature.count,
            query: r.cString(r.query), query_len: r.query.count,
            headers: r.headers, header_count: r.headerCount,
            header_block: r.pointer(r.headerBlock), header_block_len: r.headerBlock.count))
    }
}

/// The Authorization header value of a signing result ("" for a presigned one).
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: a NUL-terminated string, or NULL for an invalid handle (then
///   r2_error_last() says why).
/// - Ownership: the string belongs to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_authorization(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.authorization) }
}

/// The canonical request of a signing result (SigV4's step 1), for debugging and tests.
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: a NUL-terminated string, or NULL for an invalid handle.
/// - Ownership: the string belongs to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_canonical_request(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.canonicalRequest) }
}

/// The string to sign of a signing result (SigV4's step 2), for debugging and tests.
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: a NUL-terminated string, or NULL for an invalid handle.
/// - Ownership: the string belongs to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_string_to_sign(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.stringToSign) }
}

/// The hex signature of a signing result.
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: a NUL-terminated string of 64 hex digits, or NULL for an invalid handle.
/// - Ownership: the string belongs to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_signature(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.signature) }
}

/// The query string to send (presigned: with the X-Amz-* parameters).
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: a NUL-terminated string ("" for none), or NULL for an invalid handle.
/// - Ownership: the string belongs to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_query(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.query) }
}

/// The number of headers to send with a signed request.
///
/// - Parameters:
///   - result: The signing result.
/// - Returns: the count, or 0 for an invalid handle.
/// - Ownership: nothing to release.
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_header_count(_ result: OpaquePointer?) -> UInt {
    signedBox(result).map { UInt($0.headerCount) } ?? 0
}

/// One header to send with a signed request, in send order.
///
/// - Parameters:
///   - out: Out: the header's name and value.
///   - result: The signing result.
///   - index: 0 to r2_signed_header_count(result) - 1.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out, an invalid handle or
///   an index out of range.
/// - Ownership: the strings in *out belong to result: valid until r2_signed_free(result).
/// - Threads: any thread; results are immutable and may be read by many threads at once.
@c public func r2_signed_header(_ out: UnsafeMutablePointer<r2_header>?, _ result: OpaquePointer?, _ index: UInt) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        let r = try handle(result, as: SigningResult.self, "result")
        guard index < UInt(r.headerCount) else {
            throw invalid("header index \(index) is out of range (count \(r.headerCount))")
        }
        out.pointee = r.headers[Int(index)]
    }
}
