import Synchronization

/// Access key id, secret and optional session token.
public struct Credentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    let secret: Secret
    let sessionToken: Secret?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        secret = Secret(secretAccessKey)
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : Secret($0) }
    }

    public var description: String {
        "Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }
}

/// AWS Signature Version 4 with S3's rules: the path is signed exactly as sent
/// (no normalisation, each byte encoded once), and the derived signing key is
/// cached per day and shared between threads.
package final class SigV4Signer: Sendable {
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    package let credentials: Credentials
    package let region: String
    package let service: String
    package let clock: Clock

    /// The day's signing key and the strings derived from the date, reused by
    /// every request signed that day.
    package struct DayContext: Sendable {
        let dateStamp: String
        let key: HMACKey
        /// `<date>/<region>/<service>/aws4_request`
        let scope: String
        /// `<access key id>/<scope>`
        let credential: String
    }
    private typealias CachedKey = DayContext
    private let cache = Mutex<CachedKey?>(nil)
    private let cacheHits = Atomic<UInt64>(0)

    package init(credentials: Credentials, region: String = "auto", service: String = "s3", clock: @escaping Clock = systemClock) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.clock = clock
    }

    /// Number of signatures served from the cached signing key.
    package var signingKeyCacheHits: UInt64 { cacheHits.load(ordering: .relaxed) }

    package struct Request {
        package var method: String
        /// The request-target path exactly as sent.
        package var path: String
        /// The raw query string (without `?`), or nil.
        package var query: String?
        package var headers: [(name: String, value: String)]
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        package var payloadHash: String
        package var addContentSHA256Header = true
        package var omitSessionToken = false

        package init(method: String, path: String, query: String? = nil,
                     headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method; self.path = path; self.query = query
            self.headers = headers; self.payloadHash = payloadHash
        }
    }

    package struct Signed {
        /// The request's headers plus the ones signing added, Authorization last.
        package var headers: [(name: String, value: String)]
        package var authorization: String
        package var canonicalRequestBytes: [UInt8]
        package var stringToSignBytes: [UInt8]
        package var signature: String
        package var canonicalRequest: String { String(decoding: canonicalRequestBytes, as: UTF8.self) }
        package var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }
    }

    package struct Presigned {
        /// The query string to send: the request's parameters, then the X-Amz-* ones.
        package var query: String
        package var canonicalRequestBytes: [UInt8]
        package var stringToSignBytes: [UInt8]
        package var signature: String
        package var canonicalRequest: String { String(decoding: canonicalRequestBytes, as: UTF8.self) }
        package var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }
    }

    /// Signs a request for the Authorization header.
    package func sign(_ request: Request, at time: SigningTime? = nil) -> Signed {
        let t = time ?? SigningTime(unixSeconds: clock())
        var headers = request.headers
        var hasDate = false, hasSHA = false, hasToken = false
        for h in headers {
            if asciiEqualsIgnoringCase(h.name, "x-amz-date") { hasDate = true }
            else if asciiEqualsIgnoringCase(h.name, "x-amz-content-sha256") { hasSHA = true }
            else if asciiEqualsIgnoringCase(h.name, "x-amz-security-token") { hasToken = true }
        }
        if !hasDate { headers.append(("X-Amz-Date", t.amzDate)) }
        if request.addContentSHA256Header && !hasSHA { headers.append(("x-amz-content-sha256", request.payloadHash)) }
        if let token = credentials.sessionToken, !request.omitSessionToken, !hasToken {
            headers.append(("X-Amz-Security-Token", token.reveal()))
        }
        var canonical = [UInt8]()
        canonical.reserveCapacity(512)
        canonical.appendUTF8(request.method)
        canonical.append(0x0a)
        Self.appendCanonicalURI(request.path, to: &canonical)
        canonical.append(0x0a)
        Self.appendCanonicalQuery(Self.parseQueryBytes(request.query), to: &canonical)
        canonical.append(0x0a)
        let signedHeaders = Self.appendCanonicalHeaders(headers, to: &canonical)
        canonical.append(0x0a)
        canonical.append(contentsOf: signedHeaders)
        canonical.append(0x0a)
        canonical.appendUTF8(request.payloadHash)
        let signedHeadersString = String(decoding: signedHeaders, as: UTF8.self)
        // One cache lookup per signature, so the cache-hit count is a count of signatures.
        let d = day(t.dateStamp)
        let (sts, signature) = stringToSignAndSignature(canonical, t, d)
        var authorization = "AWS4-HMAC-SHA256 Credential="
        authorization.reserveCapacity(200)
        authorization += d.credential
        authorization += ", SignedHeaders="
        authorization += signedHeadersString
        authorization += ", Signature="
        authorization += signature
        headers.append(("Authorization", authorization))
        return Signed(headers: headers, authorization: authorization, canonicalRequestBytes: canonical,
                      stringToSignBytes: sts, signature: signature)
    }

    /// Presigns a request: the signature goes in the query string.
    package func presign(_ request: Request, expires: Int64, at time: SigningTime? = nil) -> Presigned {
        let t = time ?? SigningTime(unixSeconds: clock())
        var canonical = [UInt8]()
        canonical.reserveCapacity(768)
        canonical.appendUTF8(request.method)
        canonical.append(0x0a)
        Self.appendCanonicalURI(request.path, to: &canonical)
        canonical.append(0x0a)
        let queryStart = canonical.count
        // Headers first (into a scratch buffer) because the query needs the signed-headers list.
        var headerBytes = [UInt8]()
        headerBytes.reserveCapacity(256)
        let signedHeaders = Self.appendCanonicalHeaders(request.headers, to: &headerBytes)
        let original = Self.parseQueryBytes(request.query)
        let d = day(t.dateStamp)
        var amz: [([UInt8], [UInt8])] = [
            (Array("X-Amz-Algorithm".utf8), Array("AWS4-HMAC-SHA256".utf8)),
            (Array("X-Amz-Credential".utf8), Array(d.credential.utf8)),
            (Array("X-Amz-Date".utf8), Array(t.amzDate.utf8)),
            (Array("X-Amz-Expires".utf8), Array(String(expires).utf8)),
            (Array("X-Amz-SignedHeaders".utf8), signedHeaders),
        ]
        if let token = credentials.sessionToken, !request.omitSessionToken {
            amz.append((Array("X-Amz-Security-Token".utf8), Array(token.reveal().utf8)))
        }
        Self.appendCanonicalQuery(original + amz, to: &canonical)
        _ = queryStart
        canonical.append(0x0a)
        canonical.append(contentsOf: headerBytes)
        canonical.append(0x0a)
        canonical.append(contentsOf: signedHeaders)
        canonical.append(0x0a)
        canonical.appendUTF8(request.payloadHash)
        let (sts, signature) = stringToSignAndSignature(canonical, t, d)
        amz.append((Array("X-Amz-Signature".utf8), Array(signature.utf8)))
        var query = [UInt8]()
        query.reserveCapacity(512)
        for (i, p) in (original + amz).enumerated() {
            if i > 0 { query.append(0x26) }
            URIEncoding.appendEncoded(p.0, to: &query)
            query.append(0x3d)
            URIEncoding.appendEncoded(p.1, to: &query)
        }
        return Presigned(query: String(decoding: query, as: UTF8.self), canonicalRequestBytes: canonical,
                         stringToSignBytes: sts, signature: signature)
    }

    private func stringToSignAndSignature(_ canonical: [UInt8], _ t: SigningTime, _ d: DayContext) -> (sts: [UInt8], signature: String) {
        var sts = [UInt8]()
        sts.reserveCapacity(160)
        sts.appendUTF8("AWS4-HMAC-SHA256\n")
        sts.appendUTF8(t.amzDate)
        sts.append(0x0a)
        sts.appendUTF8(d.scope)
        sts.append(0x0a)
        Hex.append(Digest.sha256(canonical), to: &sts)
        let signature = Hex.encode(d.key.authenticate(sts))
        return (sts, signature)
    }

    /// The signing key for a day, from the cache when the day is the same.
    package func signingKey(for dateStamp: String) -> HMACKey { day(dateStamp).key }

    /// The day's context, from the cache when the day is the same.
    package func day(_ dateStamp: String) -> DayContext {
        if let hit = cache.withLock({ $0?.dateStamp == dateStamp ? $0 : nil }) {
            cacheHits.add(1, ordering: .relaxed)
            return hit
        }
        let scope = dateStamp + "/" + region + "/" + service + "/aws4_request"
        let context = DayContext(dateStamp: dateStamp, key: deriveSigningKey(dateStamp), scope: scope,
                                 credential: credentials.accessKeyID + "/" + scope)
        cache.withLock { $0 = context }
        return context
    }

    /// Derives the day's signing key: four chained HMACs from "AWS4" + secret.
    package func deriveSigningKey(_ dateStamp: String) -> HMACKey {
        var seed = Array("AWS4".utf8)
        credentials.secret.withBytes { seed.append(contentsOf: $0) }
        var kDate = HMACKey(seed).authenticate(dateStamp)
        var kRegion = HMACKey(kDate).authenticate(region)
        var kService = HMACKey(kRegion).authenticate(service)
        var kSigning = HMACKey(kService).authenticate("aws4_request")
        let key = HMACKey(kSigning)
        secureZero(&seed); secureZero(&kDate); secureZero(&kRegion); secureZero(&kService); secureZero(&kSigning)
        return key
    }

    // MARK: Canonical forms (built as bytes: this is the hot path of every request)

    /// S3's canonical URI: the path as sent, with every byte that is not
    /// unreserved or `/` percent-encoded once; existing `%XX` escapes are kept.
    package static func appendCanonicalURI(_ path: String, to out: inout [UInt8]) {
        if path.isEmpty { out.append(0x2f); return }
        var path = path
        path.withUTF8 { bytes in
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                if b == 0x25, i + 2 < n, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
                    out.append(b); out.append(upperHex(bytes[i + 1])); out.append(upperHex(bytes[i + 2]))
                    i += 3
                    continue
                }
                if URIEncoding.isUnreserved(b) || b == 0x2f { out.append(b) } else { URIEncoding.appendEscaped(b, to: &out) }
                i += 1
            }
        }
    }

    package static func canonicalURI(_ path: String) -> String {
        var out = [UInt8]()
        appendCanonicalURI(path, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits a raw query string into decoded name/value byte pairs (`+` is literal).
    package static func parseQueryBytes(_ query: String?) -> [([UInt8], [UInt8])] {
        guard let query, !query.isEmpty else { return [] }
        var out: [([UInt8], [UInt8])] = []
        for part in query.utf8.split(separator: 0x26, omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: 0x3d) {
                out.append((URIEncoding.decodeBytes(part[..<eq]), URIEncoding.decodeBytes(part[part.index(after: eq)...])))
            } else {
                out.append((URIEncoding.decodeBytes(part[...]), []))
            }
        }
        return out
    }

    /// Parameters encoded strictly and sorted by name, then value.
    package static func appendCanonicalQuery(_ params: [([UInt8], [UInt8])], to out: inout [UInt8]) {
        if params.isEmpty { return }
        var encoded: [([UInt8], [UInt8])] = []
        encoded.reserveCapacity(params.count)
        for p in params {
            var k = [UInt8](), v = [UInt8]()
            URIEncoding.appendEncoded(p.0, to: &k)
            URIEncoding.appendEncoded(p.1, to: &v)
            encoded.append((k, v))
        }
        encoded.sort { a, b in a.0 != b.0 ? a.0.lexicographicallyPrecedes(b.0) : a.1.lexicographicallyPrecedes(b.1) }
        for (i, p) in encoded.enumerated() {
            if i > 0 { out.append(0x26) }
            out.append(contentsOf: p.0); out.append(0x3d); out.append(contentsOf: p.1)
        }
    }

    package static func canonicalQuery(_ params: [(String, String)]) -> String {
        var out = [UInt8]()
        appendCanonicalQuery(params.map { (Array($0.0.utf8), Array($0.1.utf8)) }, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Headers that are never signed: they change in transit or are added by
    /// the HTTP layer (botocore and aws-c-auth skip the same ones).
    private static let unsignedHeaders: [[UInt8]] = ["authorization", "expect", "user-agent", "x-amzn-trace-id", "transfer-encoding"].map { Array($0.utf8) }

    /// Appends `name:value\n` lines: lower-cased names, trimmed values with
    /// inner whitespace folded, values of repeated names joined by commas in
    /// order, sorted by name. Returns the signed-headers list.
    @discardableResult
    package static func appendCanonicalHeaders(_ headers: [(name: String, value: String)], to out: inout [UInt8]) -> [UInt8] {
        var names: [(name: [UInt8], index: Int)] = []
        names.reserveCapacity(headers.count)
        for (i, h) in headers.enumerated() {
            var lower = Array(h.name.utf8)
            for j in lower.indices where lower[j] >= 0x41 && lower[j] <= 0x5a { lower[j] += 0x20 }
            if unsignedHeaders.contains(lower) { continue }
            names.append((lower, i))
        }
        names.sort { a, b in a.name != b.name ? a.name.lexicographicallyPrecedes(b.name) : a.index < b.index }
        var signed = [UInt8]()
        signed.reserveCapacity(128)
        var i = 0
        while i < names.count {
            let name = names[i].name
            if !signed.isEmpty { signed.append(0x3b) }
            signed.append(contentsOf: name)
            out.append(contentsOf: name)
            out.append(0x3a)
            var first = true
            while i < names.count && names[i].name == name {
                if !first { out.append(0x2c) }
                appendFolded(headers[names[i].index].value, to: &out)
                first = false
                i += 1
            }
            out.append(0x0a)
        }
        return signed
    }

    package static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var out = [UInt8]()
        let signed = appendCanonicalHeaders(headers, to: &out)
        return (String(decoding: out, as: UTF8.self), String(decoding: signed, as: UTF8.self))
    }

    /// Trims the value and folds each run of inner whitespace to one space.
    private static func appendFolded(_ value: String, to out: inout [UInt8]) {
        var pendingSpace = false
        var started = false
        for b in value.utf8 {
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                pendingSpace = started
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
                started = true
            }
        }
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }
    private static func upperHex(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x66 ? b - 0x20 : b }
}

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendUTF8(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }
}

func asciiLowercase(_ s: String) -> String {
    if !s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) { return s }
    return String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }, as: UTF8.self)
}

func asciiEqualsIgnoringCase(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return zip(a.utf8, b.utf8).allSatisfy { x, y in
        (x >= 0x41 && x <= 0x5a ? x + 0x20 : x) == (y >= 0x41 && y <= 0x5a ? y + 0x20 : y)
    }
}

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved bytes kept,
/// everything else `%XX` with upper-case hex.
package enum URIEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always) static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)
            || b == 0x2d || b == 0x2e || b == 0x5f || b == 0x7e
    }

    @inline(__always) static func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
        out.append(0x25); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0x0f)])
    }

    /// Encodes every byte except unreserved ones (and `/` when `keepSlash`).
    package static func encode(_ s: String, keepSlash: Bool = false) -> String {
        var s = s
        return s.withUTF8 { bytes -> String in
            var clean = true
            for b in bytes where !(isUnreserved(b) || (keepSlash && b == 0x2f)) { clean = false; break }
            if clean { return String(decoding: bytes, as: UTF8.self) }
            var out = [UInt8]()
            out.reserveCapacity(bytes.count * 3)
            for b in bytes {
                if isUnreserved(b) || (keepSlash && b == 0x2f) { out.append(b) } else { appendEscaped(b, to: &out) }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Appends `bytes` encoded strictly (unreserved kept, the rest `%XX`).
    package static func appendEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes {
            if isUnreserved(b) { out.append(b) } else { appendEscaped(b, to: &out) }
        }
    }

    /// Decodes `%XX` escapes into bytes; anything else, `+` included, is literal.
    package static func decodeBytes(_ s: Substring.UTF8View.SubSequence) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i != s.endIndex {
            let b = s[i]
            if b == 0x25 {
                let i1 = s.index(after: i)
                if i1 != s.endIndex {
                    let i2 = s.index(after: i1)
                    if i2 != s.endIndex, let h = hexValue(s[i1]), let l = hexValue(s[i2]) {
                        out.append(h << 4 | l)
                        i = s.index(after: i2)
                        continue
                    }
                }
            }
            out.append(b)
            i = s.index(after: i)
        }
        return out
    }

    /// Decodes `%XX` escapes; anything else, `+` included, is literal.
    package static func decode(_ s: Substring) -> String {
        guard s.utf8.contains(0x25) else { return String(s) }
        let bytes = Array(s.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x25, i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
