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

    private struct CachedKey { let dateStamp: String; let key: HMACKey }
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
        package var canonicalRequest: String
        package var stringToSign: String
        package var signature: String
    }

    package struct Presigned {
        /// The query string to send: the request's parameters, then the X-Amz-* ones.
        package var query: String
        package var canonicalRequest: String
        package var stringToSign: String
        package var signature: String
    }

    /// Signs a request for the Authorization header.
    package func sign(_ request: Request, at time: SigningTime? = nil) -> Signed {
        let t = time ?? SigningTime(unixSeconds: clock())
        var headers = request.headers
        func has(_ name: String) -> Bool { headers.contains { asciiEqualsIgnoringCase($0.name, name) } }
        if !has("x-amz-date") { headers.append(("X-Amz-Date", t.amzDate)) }
        if request.addContentSHA256Header && !has("x-amz-content-sha256") {
            headers.append(("x-amz-content-sha256", request.payloadHash))
        }
        if let token = credentials.sessionToken, !request.omitSessionToken, !has("x-amz-security-token") {
            headers.append(("X-Amz-Security-Token", token.reveal()))
        }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        var canonical = request.method
        canonical += "\n"
        canonical += Self.canonicalURI(request.path)
        canonical += "\n"
        canonical += Self.canonicalQuery(Self.parseQuery(request.query))
        canonical += "\n"
        canonical += canonicalHeaders
        canonical += "\n"
        canonical += signedHeaders
        canonical += "\n"
        canonical += request.payloadHash
        let scope = "\(t.dateStamp)/\(region)/\(service)/aws4_request"
        let sts = "AWS4-HMAC-SHA256\n\(t.amzDate)\n\(scope)\n\(Hex.encode(Digest.sha256(canonical)))"
        let signature = Hex.encode(signingKey(for: t.dateStamp).authenticate(sts))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append(("Authorization", authorization))
        return Signed(headers: headers, authorization: authorization, canonicalRequest: canonical,
                      stringToSign: sts, signature: signature)
    }

    /// Presigns a request: the signature goes in the query string.
    package func presign(_ request: Request, expires: Int64, at time: SigningTime? = nil) -> Presigned {
        let t = time ?? SigningTime(unixSeconds: clock())
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let scope = "\(t.dateStamp)/\(region)/\(service)/aws4_request"
        let original = Self.parseQuery(request.query)
        var amz: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", t.amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken, !request.omitSessionToken {
            amz.append(("X-Amz-Security-Token", token.reveal()))
        }
        let canonicalQuery = Self.canonicalQuery(original + amz)
        let canonical = [request.method, Self.canonicalURI(request.path), canonicalQuery, canonicalHeaders,
                         signedHeaders, request.payloadHash].joined(separator: "\n")
        let sts = "AWS4-HMAC-SHA256\n\(t.amzDate)\n\(scope)\n\(Hex.encode(Digest.sha256(canonical)))"
        let signature = Hex.encode(signingKey(for: t.dateStamp).authenticate(sts))
        amz.append(("X-Amz-Signature", signature))
        let query = (original + amz).map { URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }
            .joined(separator: "&")
        return Presigned(query: query, canonicalRequest: canonical, stringToSign: sts, signature: signature)
    }

    /// The signing key for a day, from the cache when the day is the same.
    package func signingKey(for dateStamp: String) -> HMACKey {
        if let hit = cache.withLock({ $0?.dateStamp == dateStamp ? $0?.key : nil }) {
            cacheHits.add(1, ordering: .relaxed)
            return hit
        }
        let key = deriveSigningKey(dateStamp)
        cache.withLock { $0 = CachedKey(dateStamp: dateStamp, key: key) }
        return key
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

    // MARK: Canonical forms

    /// S3's canonical URI: the path as sent, with every byte that is not
    /// unreserved or `/` percent-encoded once; existing `%XX` escapes are kept.
    package static func canonicalURI(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var out = [UInt8]()
        out.reserveCapacity(path.utf8.count + 16)
        let bytes = Array(path.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
                out.append(b); out.append(upperHex(bytes[i + 1])); out.append(upperHex(bytes[i + 2]))
                i += 3
                continue
            }
            if URIEncoding.isUnreserved(b) || b == UInt8(ascii: "/") {
                out.append(b)
            } else {
                URIEncoding.appendEscaped(b, to: &out)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits a raw query string into decoded name/value pairs (`+` is literal).
    package static func parseQuery(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { part in
            if let eq = part.firstIndex(of: "=") {
                return (URIEncoding.decode(part[..<eq]), URIEncoding.decode(part[part.index(after: eq)...]))
            }
            return (URIEncoding.decode(part[...]), "")
        }
    }

    /// Parameters encoded strictly and sorted by name, then value.
    package static func canonicalQuery(_ params: [(String, String)]) -> String {
        if params.isEmpty { return "" }
        let encoded = params.map { (URIEncoding.encode($0.0), URIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { a, b in
            a.0 != b.0 ? a.0.utf8.lexicographicallyPrecedes(b.0.utf8) : a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        var out = ""
        for (i, p) in sorted.enumerated() {
            if i > 0 { out += "&" }
            out += p.0; out += "="; out += p.1
        }
        return out
    }

    /// Headers that are never signed: they change in transit or are added by
    /// the HTTP layer (botocore and aws-c-auth skip the same ones).
    private static let unsignedHeaders: Set<String> = ["authorization", "expect", "user-agent", "x-amzn-trace-id", "transfer-encoding"]

    /// Lower-cased names, trimmed values with inner whitespace folded, values of
    /// repeated names joined by commas in order, sorted by name.
    package static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var merged: [(String, String)] = []
        merged.reserveCapacity(headers.count)
        for h in headers {
            let name = asciiLowercase(h.name)
            if unsignedHeaders.contains(name) { continue }
            let value = foldWhitespace(h.value)
            if let idx = merged.firstIndex(where: { $0.0 == name }) {
                merged[idx].1 += "," + value
            } else {
                merged.append((name, value))
            }
        }
        merged.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        var canonical = ""
        var signed = ""
        for (i, (name, value)) in merged.enumerated() {
            canonical += name; canonical += ":"; canonical += value; canonical += "\n"
            if i > 0 { signed += ";" }
            signed += name
        }
        return (canonical, signed)
    }

    private static func foldWhitespace(_ value: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for b in value.utf8 {
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }
    private static func upperHex(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x66 ? b - 0x20 : b }
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
        if s.utf8.allSatisfy({ isUnreserved($0) || (keepSlash && $0 == 0x2f) }) { return s }
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count * 3)
        for b in s.utf8 {
            if isUnreserved(b) || (keepSlash && b == 0x2f) { out.append(b) } else { appendEscaped(b, to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
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
