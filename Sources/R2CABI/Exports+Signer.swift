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

/// Sets `opts` to version `version`, every other field zero (the defaults:
/// region "auto", service "s3"). Returns R2_OK or R2_ERR_INVALID_ARGUMENT.
@c public func r2_signer_options_init(_ opts: UnsafeMutablePointer<r2_signer_options>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let opts else { throw invalid("opts is NULL") }
        try checkVersion(version, current: 1, "r2_signer_options")
        opts.pointee = r2_signer_options(version: version, access_key_id: nil, secret_access_key: nil,
                                         session_token: nil, region: nil, service: nil)
    }
}

/// Creates a signer. On success `*out` owns it; release it with
/// r2_signer_free(). The strings are copied. Thread-safe once created.
/// Returns R2_OK, R2_ERR_INVALID_ARGUMENT or R2_ERR_CONFIG.
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

/// Releases a signer. NULL is a no-op.
@c public func r2_signer_free(_ signer: OpaquePointer?) { release(signer, as: SignerBox.self) }

/// Sets `req` to version `version`, every other field zero (the defaults).
/// Returns R2_OK or R2_ERR_INVALID_ARGUMENT.
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

/// Signs `req` for the Authorization header. On success `*out` owns an
/// r2_signed; read it with the r2_signed_* getters and release it with
/// r2_signed_free(). The headers to send are the request's plus X-Amz-Date,
/// x-amz-content-sha256 (unless disabled), X-Amz-Security-Token (with a
/// session token) and Authorization. Returns R2_OK or R2_ERR_INVALID_ARGUMENT.
/// Thread-safe.
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

/// Presigns `req` (query-string auth) for `expires_seconds` (1 to 604800).
/// The payload hash defaults to UNSIGNED-PAYLOAD for service "s3" and to the
/// body's SHA-256 otherwise. On success `*out` owns an r2_signed whose
/// r2_signed_query() is the full query string to send. Returns R2_OK or
/// R2_ERR_INVALID_ARGUMENT. Thread-safe.
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

/// Releases a signing result. NULL is a no-op.
@c public func r2_signed_free(_ result: OpaquePointer?) { release(result, as: SigningResult.self) }

private func signedBox(_ p: OpaquePointer?) -> SigningResult? {
    do { return try handle(p, as: SigningResult.self, "signed") } catch { fail(error); return nil }
}

/// Fills `out` with everything `result` holds, in one call: strings
/// borrowed from `result` (see r2_signed_fields). Set `out->version` first.
/// Returns R2_OK or R2_ERR_INVALID_ARGUMENT (NULL, an unsupported version or
/// an invalid handle).
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

/// The Authorization header value ("" for a presigned result), or NULL for
/// an invalid handle. Owned by `result`.
@c public func r2_signed_authorization(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.authorization) }
}

/// The canonical request, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_canonical_request(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.canonicalRequest) }
}

/// The string to sign, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_string_to_sign(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.stringToSign) }
}

/// The hex signature, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_signature(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.signature) }
}

/// The query string to send (presigned: with the X-Amz-* parameters), or
/// NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_query(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.cString($0.query) }
}

/// The number of headers to send, or 0 for an invalid handle.
@c public func r2_signed_header_count(_ result: OpaquePointer?) -> UInt {
    signedBox(result).map { UInt($0.headerCount) } ?? 0
}

/// Header `index` to send, as borrowed strings owned by `result`. Returns
/// R2_OK, or R2_ERR_INVALID_ARGUMENT for NULL, an invalid handle or an index
/// out of range.
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
