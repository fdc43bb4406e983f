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

/// The outputs of one signing as C strings packed into one allocation owned
/// by the r2_signed handle (one malloc instead of one per string).
final class SignedBox {
    private let arena: UnsafeMutablePointer<CChar>
    private let offsets: [Int]
    let headerCount: Int

    init(authorization: String, canonicalRequest: [UInt8], stringToSign: [UInt8], signature: String, query: String,
         headers: [(name: String, value: String)]) {
        var total = authorization.utf8.count + canonicalRequest.count + stringToSign.count + signature.utf8.count
            + query.utf8.count + 5
        for h in headers { total += h.name.utf8.count + h.value.utf8.count + 2 }
        arena = .allocate(capacity: total)
        var offsets: [Int] = []
        offsets.reserveCapacity(5 + 2 * headers.count)
        var at = 0
        let arena = self.arena
        func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            offsets.append(at)
            if let base = bytes.baseAddress, bytes.count > 0 { memcpy(arena + at, base, bytes.count) }
            at += bytes.count
            arena[at] = 0
            at += 1
        }
        func put(_ s: String) {
            var s = s
            s.withUTF8 { put($0) }
        }
        func put(_ a: [UInt8]) { a.withUnsafeBufferPointer { put($0) } }
        put(authorization); put(canonicalRequest); put(stringToSign); put(signature); put(query)
        for h in headers { put(h.name); put(h.value) }
        self.offsets = offsets
        headerCount = headers.count
    }

    deinit { arena.deallocate() }

    private func string(_ i: Int) -> UnsafePointer<CChar> { UnsafePointer(arena + offsets[i]) }
    var authorization: UnsafePointer<CChar> { string(0) }
    var canonicalRequest: UnsafePointer<CChar> { string(1) }
    var stringToSign: UnsafePointer<CChar> { string(2) }
    var signature: UnsafePointer<CChar> { string(3) }
    var query: UnsafePointer<CChar> { string(4) }
    func headerName(_ i: Int) -> UnsafePointer<CChar> { string(5 + 2 * i) }
    func headerValue(_ i: Int) -> UnsafePointer<CChar> { string(6 + 2 * i) }
}

/// Fills `opts` with the defaults of `version` (region "auto", service "s3").
/// Returns R2_OK or R2_ERR_INVALID_ARGUMENT.
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

/// Fills `req` with the defaults of `version`. Returns R2_OK or
/// R2_ERR_INVALID_ARGUMENT.
@c public func r2_sign_request_init(_ req: UnsafeMutablePointer<r2_sign_request>?, _ version: UInt32) -> Int32 {
    guarded { () throws(R2Error) in
        guard let req else { throw invalid("req is NULL") }
        try checkVersion(version, current: 1, "r2_sign_request")
        req.pointee = r2_sign_request(version: version, method: nil, path: nil, query: nil, headers: nil,
                                      header_count: 0, body: nil, body_len: 0, payload_hash: nil, unix_time: 0,
                                      content_sha256_header: true, omit_session_token: false)
    }
}

private func signerRequest(_ r: r2_sign_request, presign: Bool, service: String) throws(R2Error) -> (SigV4Signer.Request, SigningTime?) {
    try checkVersion(r.version, current: 1, "r2_sign_request")
    let method = try string(r.method, "req->method")
    guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
        throw invalid("req->method must be an upper-case HTTP method")
    }
    let path = try string(r.path, "req->path")
    guard path.hasPrefix("/") else { throw invalid("req->path must start with '/'") }
    let query = try optionalString(r.query, "req->query")
    let hs = try headers(r.headers, r.header_count, "req->headers")
    guard hs.contains(where: { $0.name.lowercased() == "host" }) else { throw invalid("req->headers must include Host") }
    guard r.body_len >= 0 else { throw invalid("req->body_len \(UInt(bitPattern: r.body_len)) is out of range") }
    if r.body_len > 0 && r.body == nil { throw invalid("req->body is NULL but body_len is \(r.body_len)") }
    let payloadHash: String
    if let given = try optionalString(r.payload_hash, "req->payload_hash") {
        let isHex = given.utf8.count == 64 && given.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard isHex || given == SigV4Signer.unsignedPayload else {
            throw invalid("req->payload_hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD")
        }
        payloadHash = given
    } else if presign && service == "s3" {
        payloadHash = SigV4Signer.unsignedPayload
    } else {
        payloadHash = Payload.sha256Hex(r.body, r.body_len)
    }
    var request = SigV4Signer.Request(method: method, path: path, query: query, headers: hs, payloadHash: payloadHash)
    request.addContentSHA256Header = r.content_sha256_header
    request.omitSessionToken = r.omit_session_token
    return (request, r.unix_time == 0 ? nil : SigningTime(unixSeconds: try unixTime(r.unix_time, "req->unix_time")))
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
        let (request, time) = try signerRequest(req.pointee, presign: false, service: box.signer.service)
        let s = box.signer.sign(request, at: time)
        out.pointee = retain(SignedBox(authorization: s.authorization, canonicalRequest: s.canonicalRequestBytes,
                                       stringToSign: s.stringToSignBytes, signature: s.signature,
                                       query: request.query ?? "", headers: s.headers))
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
        let (request, time) = try signerRequest(req.pointee, presign: true, service: box.signer.service)
        let p = box.signer.presign(request, expires: expires_seconds, at: time)
        out.pointee = retain(SignedBox(authorization: "", canonicalRequest: p.canonicalRequestBytes,
                                       stringToSign: p.stringToSignBytes, signature: p.signature, query: p.query,
                                       headers: request.headers))
    }
}

/// Releases a signing result. NULL is a no-op.
@c public func r2_signed_free(_ result: OpaquePointer?) { release(result, as: SignedBox.self) }

private func signedBox(_ p: OpaquePointer?) -> SignedBox? {
    do { return try handle(p, as: SignedBox.self, "signed") } catch { fail(error); return nil }
}

/// The Authorization header value ("" for a presigned result), or NULL for
/// an invalid handle. Owned by `result`.
@c public func r2_signed_authorization(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.authorization }
}

/// The canonical request, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_canonical_request(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.canonicalRequest }
}

/// The string to sign, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_string_to_sign(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.stringToSign }
}

/// The hex signature, or NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_signature(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.signature }
}

/// The query string to send (presigned: with the X-Amz-* parameters), or
/// NULL for an invalid handle. Owned by `result`.
@c public func r2_signed_query(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    signedBox(result).map { $0.query }
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
        let box = try handle(result, as: SignedBox.self, "result")
        guard index < UInt(box.headerCount) else {
            throw invalid("header index \(index) is out of range (count \(box.headerCount))")
        }
        out.pointee = r2_header(name: box.headerName(Int(index)), value: box.headerValue(Int(index)))
    }
}
