import CCrypto
import CR2Types
import Glibc
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
    final class DayKey: Sendable {
        /// Days since 1970-01-01 (UTC).
        let day: Int64
        let key: HMACKey
        /// `<date>/<region>/<service>/aws4_request`
        let scope: [UInt8]
        /// `<access key id>/<scope>`
        let credential: [UInt8]
        init(day: Int64, key: HMACKey, scope: [UInt8], credential: [UInt8]) {
            self.day = day; self.key = key; self.scope = scope; self.credential = credential
        }
    }
    private let cache = Mutex<DayKey?>(nil)
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

    /// A signature; each output is read from the signing's buffer when used.
    package struct Signed {
        package let result: SigningResult
        /// The request's headers plus the ones signing added, Authorization last.
        package var headers: [(name: String, value: String)] {
            (0..<result.headerCount).map { (String(cString: result.headers[$0].name), String(cString: result.headers[$0].value)) }
        }
        package var authorization: String { result.string(result.authorization) }
        package var canonicalRequestBytes: [UInt8] { Array(result.bytes(result.canonicalRequest)) }
        package var stringToSignBytes: [UInt8] { Array(result.bytes(result.stringToSign)) }
        package var signature: String { result.string(result.signature) }
        package var canonicalRequest: String { result.string(result.canonicalRequest) }
        package var stringToSign: String { result.string(result.stringToSign) }
    }

    /// A presignature; each output is read from the signing's buffer when used.
    package struct Presigned {
        package let result: SigningResult
        /// The query string to send: the request's parameters, then the X-Amz-* ones.
        package var query: String { result.string(result.query) }
        package var canonicalRequestBytes: [UInt8] { Array(result.bytes(result.canonicalRequest)) }
        package var stringToSignBytes: [UInt8] { Array(result.bytes(result.stringToSign)) }
        package var signature: String { result.string(result.signature) }
        package var canonicalRequest: String { result.string(result.canonicalRequest) }
        package var stringToSign: String { result.string(result.stringToSign) }
    }

    /// Signs a request for the Authorization header.
    package func sign(_ request: Request, at time: SigningTime? = nil) -> Signed {
        let unix = time?.unixSeconds ?? clock()
        return Signed(result: withBytes(of: request) { sign($0, unixSeconds: unix) })
    }

    /// Presigns a request: the signature goes in the query string.
    package func presign(_ request: Request, expires: Int64, at time: SigningTime? = nil) -> Presigned {
        let unix = time?.unixSeconds ?? clock()
        return Presigned(result: withBytes(of: request) { presign($0, expires: expires, unixSeconds: unix) })
    }

    /// Calls `body` with a byte view of `request`, its strings copied into one
    /// temporary (stack) buffer.
    private func withBytes<R>(of request: Request, _ body: (RequestBytes) -> R) -> R {
        var size = request.method.utf8.count + request.path.utf8.count + (request.query?.utf8.count ?? 0) + request.payloadHash.utf8.count
        for h in request.headers { size += h.name.utf8.count + h.value.utf8.count }
        let fields = 4 + 2 * request.headers.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(size, 1)) { storage in
            withUnsafeTemporaryAllocation(of: Bytes.self, capacity: fields) { spans in
                var at = 0, n = 0
                func put(_ s: String) {
                    var s = s
                    s.withUTF8 { b in
                        if b.count > 0 { memcpy(storage.baseAddress! + at, b.baseAddress!, b.count) }
                        spans[n] = Bytes(start: storage.baseAddress! + at, count: b.count)
                    }
                    at += spans[n].count; n += 1
                }
                put(request.method); put(request.path); put(request.query ?? ""); put(request.payloadHash)
                for h in request.headers { put(h.name); put(h.value) }
                return withUnsafeTemporaryAllocation(of: HeaderBytes.self, capacity: request.headers.count) { hs in
                    for i in 0..<request.headers.count { hs[i] = HeaderBytes(name: spans[4 + 2 * i], value: spans[5 + 2 * i]) }
                    var r = RequestBytes(method: spans[0], path: spans[1], query: spans[2], headers: UnsafeBufferPointer(hs),
                                         payloadHash: spans[3])
                    r.addContentSHA256Header = request.addContentSHA256Header
                    r.omitSessionToken = request.omitSessionToken
                    return body(r)
                }
            }
        }
    }

    /// The day's key and scope strings, from the cache when the day is the same.
    /// One lookup per signature, so the cache-hit count is a count of signatures.
    func day(_ unixSeconds: Int64) -> DayKey {
        let day = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        if let hit = cache.withLock({ $0?.day == day ? $0 : nil }) {
            cacheHits.add(1, ordering: .relaxed)
            return hit
        }
        let dateStamp = String(SigningTime(unixSeconds: day * 86_400).dateStamp)
        let scope = dateStamp + "/" + region + "/" + service + "/aws4_request"
        let context = DayKey(day: day, key: deriveSigningKey(dateStamp), scope: Array(scope.utf8),
                             credential: Array((credentials.accessKeyID + "/" + scope).utf8))
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

    // MARK: Query matching for the replay transport (not the signing path)

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
}

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendUTF8(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }
}


package func asciiEqualsIgnoringCase(_ a: String, _ b: String) -> Bool {
    // Over the contiguous UTF-8 (every response header is looked up this way).
    var a = a, b = b
    guard a.utf8.count == b.utf8.count else { return false }
    return a.withUTF8 { x in
        b.withUTF8 { y in
            for i in 0..<x.count where asciiLower(x[i]) != asciiLower(y[i]) { return false }
            return true
        }
    }
}

@inline(__always) func asciiLower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5a ? c | 0x20 : c }

/// `s` with ASCII letters lowered (header names); `s` itself when it has no upper-case letter.
package func asciiLowercase(_ s: String) -> String {
    var s = s
    return s.withUTF8 { u -> String? in
        guard u.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) else { return nil }
        return String(unsafeUninitializedCapacity: u.count) { out in
            for i in 0..<u.count { out[i] = asciiLower(u[i]) }
            return u.count
        }
    } ?? s
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

// MARK: The signing core: borrowed bytes in, one malloc'd buffer out

/// A borrowed byte string.
package typealias Bytes = UnsafeBufferPointer<UInt8>

/// One header as borrowed bytes.
package struct HeaderBytes {
    package var name: Bytes
    package var value: Bytes
    package init(name: Bytes, value: Bytes) { self.name = name; self.value = value }
}

/// A request to sign as borrowed bytes: what the C ABI passes straight from
/// its C strings, and what `sign(_:)` builds from Swift strings.
package struct RequestBytes {
    package var method: Bytes
    package var path: Bytes
    package var query: Bytes
    package var headers: UnsafeBufferPointer<HeaderBytes>
    package var payloadHash: Bytes
    package var addContentSHA256Header = true
    package var omitSessionToken = false

    package init(method: Bytes, path: Bytes, query: Bytes, headers: UnsafeBufferPointer<HeaderBytes>, payloadHash: Bytes) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.payloadHash = payloadHash
    }
}

/// A growable byte buffer, on borrowed (stack) memory until it outgrows it,
/// then on malloc'd memory.
struct ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    var count = 0
    private var capacity: Int
    private(set) var owned: Bool

    /// A buffer on malloc'd memory.
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = malloc(self.capacity)!.bindMemory(to: UInt8.self, capacity: self.capacity)
        owned = true
    }

    /// A buffer that starts on `storage` (not owned, never freed here).
    init(borrowing storage: UnsafeMutableBufferPointer<UInt8>) {
        base = storage.baseAddress!; capacity = storage.count; owned = false
    }

    @inline(never) private mutating func grow(_ needed: Int) {
        var c = max(capacity * 2, 64)
        while c < needed { c *= 2 }
        if owned {
            base = realloc(base, c)!.bindMemory(to: UInt8.self, capacity: c)
        } else {
            let p = malloc(c)!.bindMemory(to: UInt8.self, capacity: c)
            memcpy(p, base, count)
            base = p; owned = true
        }
        capacity = c
    }

    /// Frees the memory if it is malloc'd (scratch buffers).
    func disposeIfOwned() { if owned { free(base) } }

    @inline(__always) mutating func reserve(_ n: Int) { if count + n > capacity { grow(count + n) } }
    /// Reserves `max` bytes and lets `body` write up to that many at the end
    /// through a raw pointer (no per-byte bookkeeping); it returns how many.
    @inline(__always) mutating func write(max: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(max)
        count += body(base + count)
    }
    @inline(__always) mutating func append(_ b: UInt8) { reserve(1); base[count] = b; count += 1 }
    @inline(__always) mutating func append(_ p: Bytes) {
        reserve(p.count)
        if p.count > 0 { memcpy(base + count, p.baseAddress!, p.count) }
        count += p.count
    }
    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { append($0) }
    }
    /// Appends bytes already in this buffer.
    @inline(__always) mutating func append(_ s: Span) {
        reserve(s.count)
        if s.count > 0 { memcpy(base + count, base + s.offset, s.count) }
        count += s.count
    }
    /// Appends a NUL and returns the span from `start` to before it.
    @inline(__always) mutating func terminate(from start: Int) -> Span {
        let s = Span(offset: start, count: count - start)
        append(0)
        return s
    }
    @inline(__always) mutating func appendHex(_ p: UnsafeRawBufferPointer) {
        write(max: p.count * 2) { out in
            let digits = Hex.lower
            for i in 0..<p.count {
                let b = p[i]
                out[2 * i] = digits[Int(b >> 4)]; out[2 * i + 1] = digits[Int(b & 0x0f)]
            }
            return p.count * 2
        }
    }
    /// Appends `bytes` decoded (`%XX` escapes) and then encoded strictly
    /// (unreserved kept, the rest `%XX` upper-case): SigV4's canonical form of
    /// a query name or value, whatever escaping the caller used.
    mutating func appendRecoded(_ bytes: Bytes) {
        write(max: bytes.count * 3) { out in
            var i = 0, o = 0
            let n = bytes.count
            while i < n {
                var b = bytes[i]
                if b == 0x25, i + 2 < n, let h = hexDigitValue(bytes[i + 1]), let l = hexDigitValue(bytes[i + 2]) {
                    b = h << 4 | l; i += 3
                } else {
                    i += 1
                }
                o += encode(b, out + o)
            }
            return o
        }
    }
    /// Appends `bytes` encoded strictly.
    mutating func appendEncoded(_ bytes: Bytes) {
        write(max: bytes.count * 3) { out in
            var o = 0
            for b in bytes { o += encode(b, out + o) }
            return o
        }
    }
    @inline(__always) mutating func appendEncoded(byte b: UInt8) { write(max: 3) { encode(b, $0) } }
    /// Appends `bytes` encoded like a path: unreserved bytes and `/` kept, the rest `%XX`.
    mutating func appendPathEncoded(_ bytes: Bytes) {
        write(max: bytes.count * 3) { out in
            var o = 0
            for b in bytes {
                if b == 0x2f { out[o] = b; o += 1 } else { o += encode(b, out + o) }
            }
            return o
        }
    }
    func bytes(_ s: Span) -> Bytes { Bytes(start: base + s.offset, count: s.count) }
}

/// RFC 3986 unreserved bytes as bit masks (bytes 0-63, 64-127): one shift
/// and test instead of a chain of range comparisons.
private let unreservedLow: UInt64 = 0x03ff_6000_0000_0000   // 0-9 - .
private let unreservedHigh: UInt64 = 0x47ff_fffe_87ff_fffe  // A-Z _ a-z ~
private let pathLow: UInt64 = 0x03ff_e000_0000_0000         // the same and /

@inline(__always) private func inMask(_ b: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
    b < 64 ? (low >> UInt64(b)) & 1 != 0 : b < 128 && (high >> UInt64(b - 64)) & 1 != 0
}

/// Writes `b` encoded strictly (unreserved kept, the rest `%XX`); returns the length.
@inline(__always) private func encode(_ b: UInt8, _ out: UnsafeMutablePointer<UInt8>) -> Int {
    if inMask(b, unreservedLow, unreservedHigh) { out[0] = b; return 1 }
    out[0] = 0x25; out[1] = Hex.upper[Int(b >> 4)]; out[2] = Hex.upper[Int(b & 0x0f)]
    return 3
}

@inline(__always) private func hexDigitValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    case 0x61...0x66: return b - 0x61 + 10
    default: return nil
    }
}

/// Where one output lies in a SigningResult's buffer (NUL-terminated there).
package struct Span {
    package var offset: Int
    package var count: Int
}

/// The outputs of one signing in one malloc'd buffer: a table of the headers
/// to send (r2_header, pointing into the buffer), then every string,
/// NUL-terminated. Immutable once built, so it can be read from any thread.
package final class SigningResult: @unchecked Sendable {
    private let base: UnsafeMutablePointer<UInt8>
    package let authorization: Span
    package let canonicalRequest: Span
    package let stringToSign: Span
    package let signature: Span
    package let query: Span
    /// The headers' strings, consecutive: name, NUL, value, NUL, name, ...
    package let headerBlock: Span
    package let headerCount: Int

    fileprivate init(buffer: ByteBuffer, authorization: Span, canonicalRequest: Span, stringToSign: Span,
                     signature: Span, query: Span, headerBlock: Span, headerCount: Int) {
        base = buffer.base
        self.authorization = authorization; self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign; self.signature = signature; self.query = query
        self.headerBlock = headerBlock; self.headerCount = headerCount
    }

    deinit { free(base) }

    package func bytes(_ s: Span) -> Bytes { Bytes(start: base + s.offset, count: s.count) }
    package func cString(_ s: Span) -> UnsafePointer<CChar> { UnsafeRawPointer(base + s.offset).assumingMemoryBound(to: CChar.self) }
    package func string(_ s: Span) -> String { String(decoding: bytes(s), as: UTF8.self) }
    package func pointer(_ s: Span) -> UnsafePointer<UInt8> { UnsafePointer(base + s.offset) }
    /// The headers to send, as C strings owned by this result.
    package var headers: UnsafePointer<r2_header> { UnsafeRawPointer(base).assumingMemoryBound(to: r2_header.self) }
}

/// `YYYYMMDD'T'HHMMSS'Z'` for a Unix time, without the C library.
@inline(__always) private func writeAmzDate(_ unixSeconds: Int64, _ out: UnsafeMutablePointer<UInt8>) {
    let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
    let secs = Int(unixSeconds - days * 86_400)
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func put(_ v: Int, _ at: Int, _ width: Int) {
        var v = v
        for k in stride(from: at + width - 1, through: at, by: -1) { out[k] = UInt8(0x30 + v % 10); v /= 10 }
    }
    put(Int(y), 0, 4); put(Int(m), 4, 2); put(Int(d), 6, 2)
    out[8] = 0x54  // T
    put(secs / 3600, 9, 2); put(secs / 60 % 60, 11, 2); put(secs % 60, 13, 2)
    out[15] = 0x5a  // Z
}

/// The headers SigV4 never signs, lower-case.
private let unsignedHeaderNames: [StaticString] = ["authorization", "expect", "user-agent", "x-amzn-trace-id", "transfer-encoding"]

/// Case-insensitive equality with a lower-case ASCII literal.
private func equalsLowercase(_ a: Bytes, _ literal: StaticString) -> Bool {
    guard a.count == literal.utf8CodeUnitCount else { return false }
    let l = literal.utf8Start
    for i in 0..<a.count where asciiLower(a[i]) != l[i] { return false }
    return true
}

/// Byte order of two header names compared lower-cased.
private func lowercaseLess(_ a: Bytes, _ b: Bytes) -> Int {
    if a.baseAddress == b.baseAddress && a.count == b.count { return 0 }
    let n = min(a.count, b.count)
    for i in 0..<n {
        let x = asciiLower(a[i]), y = asciiLower(b[i])
        if x != y { return x < y ? -1 : 1 }
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// Byte order of two spans of a buffer (memcmp, then length).
@inline(__always) private func compare(_ base: UnsafeMutablePointer<UInt8>, _ a: Span, _ b: Span) -> Int {
    let n = min(a.count, b.count)
    if n > 0 { let c = memcmp(base + a.offset, base + b.offset, n); if c != 0 { return Int(c) } }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// One query parameter, encoded, in a scratch buffer.
private struct QueryParam { var name: Span; var value: Span }

extension SigV4Signer {
    /// The signed headers' indices sorted by lower-cased name (stable, so
    /// repeated names keep their order); returns how many there are.
    private static func sortHeaders(_ headers: UnsafeBufferPointer<HeaderBytes>, into order: UnsafeMutableBufferPointer<Int>) -> Int {
        var n = 0
        outer: for i in 0..<headers.count {
            let name = headers[i].name
            for u in unsignedHeaderNames where equalsLowercase(name, u) { continue outer }
            // Insertion sort: a request has a handful of headers.
            var j = n
            while j > 0 && lowercaseLess(headers[order[j - 1]].name, name) > 0 { order[j] = order[j - 1]; j -= 1 }
            order[j] = i
            n += 1
        }
        return n
    }

    /// `name:value\n` lines: lower-cased names, values trimmed with inner
    /// whitespace folded, values of repeated names joined by commas.
    private static func appendCanonicalHeaderLines(_ headers: UnsafeBufferPointer<HeaderBytes>, _ order: UnsafeMutableBufferPointer<Int>,
                                                   _ n: Int, to out: inout ByteBuffer) {
        var i = 0
        while i < n {
            let name = headers[order[i]].name
            appendLowercased(name, to: &out)
            out.append(0x3a)
            var first = true
            while i < n && lowercaseLess(headers[order[i]].name, name) == 0 {
                if !first { out.append(0x2c) }
                appendFolded(headers[order[i]].value, to: &out)
                first = false
                i += 1
            }
            out.append(0x0a)
        }
    }

    /// The signed-headers list `a;b;c` (`;` as `%3B` when `encoded`).
    private static func appendSignedHeaderNames(_ headers: UnsafeBufferPointer<HeaderBytes>, _ order: UnsafeMutableBufferPointer<Int>,
                                                _ n: Int, encoded: Bool, to out: inout ByteBuffer) {
        var previous: Bytes? = nil
        for i in 0..<n {
            let name = headers[order[i]].name
            if let p = previous, lowercaseLess(p, name) == 0 { continue }
            if encoded {
                if previous != nil { out.append("%3B") }
                for b in name { out.appendEncoded(byte: asciiLower(b)) }
            } else {
                if previous != nil { out.append(0x3b) }
                appendLowercased(name, to: &out)
            }
            previous = name
        }
    }

    @inline(__always) private static func appendLowercased(_ name: Bytes, to out: inout ByteBuffer) {
        out.write(max: name.count) { p in
            for i in 0..<name.count { p[i] = asciiLower(name[i]) }
            return name.count
        }
    }

    /// Trims the value and folds each run of inner whitespace to one space.
    private static func appendFolded(_ value: Bytes, to out: inout ByteBuffer) {
        // Whitespace is all <= 0x20: a value without such bytes is copied as is.
        var least: UInt8 = 0xff
        for b in value { least = min(least, b) }
        if least > 0x20 { out.append(value); return }
        out.write(max: value.count) { p in
            var o = 0
            var pendingSpace = false
            var started = false
            for b in value {
                if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                    pendingSpace = started
                } else {
                    if pendingSpace { p[o] = 0x20; o += 1; pendingSpace = false }
                    p[o] = b; o += 1
                    started = true
                }
            }
            return o
        }
    }

    /// S3's canonical URI: the path as sent, with every byte that is not
    /// unreserved or `/` percent-encoded once; existing `%XX` escapes are kept.
    private static func appendCanonicalURI(_ path: Bytes, to out: inout ByteBuffer) {
        if path.isEmpty { out.append(0x2f); return }
        // Most paths need no escaping at all: copy them whole.
        var clean = true
        for b in path where !inMask(b, pathLow, unreservedHigh) { clean = false; break }
        if clean { out.append(path); return }
        out.write(max: path.count * 3) { p in
            var i = 0, o = 0
            let n = path.count
            while i < n {
                let b = path[i]
                if b == 0x25, i + 2 < n, hexDigitValue(path[i + 1]) != nil, hexDigitValue(path[i + 2]) != nil {
                    p[o] = b; p[o + 1] = upperHex(path[i + 1]); p[o + 2] = upperHex(path[i + 2])
                    i += 3; o += 3
                    continue
                }
                if b == 0x2f { p[o] = b; o += 1 } else { o += encode(b, p + o) }
                i += 1
            }
            return o
        }
    }
    @inline(__always) private static func upperHex(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x66 ? b - 0x20 : b }

    /// Splits a raw query (`&`-separated, empty parts skipped) and appends
    /// each parameter recoded to `scratch`; returns how many.
    private static func recodeQuery(_ query: Bytes, into params: UnsafeMutableBufferPointer<QueryParam>, _ scratch: inout ByteBuffer) -> Int {
        var n = 0
        var start = 0
        let count = query.count
        while start <= count {
            var end = start
            while end < count && query[end] != 0x26 { end += 1 }
            if end > start {
                var eq = start
                while eq < end && query[eq] != 0x3d { eq += 1 }
                let nameStart = scratch.count
                scratch.appendRecoded(Bytes(rebasing: query[start..<eq]))
                let name = Span(offset: nameStart, count: scratch.count - nameStart)
                let valueStart = scratch.count
                if eq < end { scratch.appendRecoded(Bytes(rebasing: query[(eq + 1)..<end])) }
                params[n] = QueryParam(name: name, value: Span(offset: valueStart, count: scratch.count - valueStart))
                n += 1
            }
            start = end + 1
        }
        return n
    }

    /// The first `n` parameters sorted by name, then value, joined as `a=b&c=d`.
    private static func appendSortedQuery(_ params: UnsafeMutableBufferPointer<QueryParam>, _ n: Int, _ scratch: ByteBuffer,
                                          _ order: UnsafeMutableBufferPointer<Int>, to out: inout ByteBuffer) {
        let base = scratch.base
        for i in 0..<n {
            var j = i
            while j > 0 {
                let a = params[order[j - 1]], b = params[i]
                var c = compare(base, a.name, b.name)
                if c == 0 { c = compare(base, a.value, b.value) }
                if c <= 0 { break }
                order[j] = order[j - 1]; j -= 1
            }
            order[j] = i
        }
        for i in 0..<n {
            if i > 0 { out.append(0x26) }
            let p = params[order[i]]
            out.append(scratch.bytes(p.name)); out.append(0x3d); out.append(scratch.bytes(p.value))
        }
    }

    private func withTokenBytes<R>(_ omit: Bool, _ body: (Bytes?) -> R) -> R {
        guard let token = credentials.sessionToken, !omit else { return body(nil) }
        return token.withBytes { body($0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// Appends the string to sign and then the signature; returns their spans.
    private func appendStringToSignAndSignature(_ canonical: Span, _ amzDate: Bytes, _ d: DayKey,
                                                to out: inout ByteBuffer) -> (Span, Span) {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digest) { raw in
            var ctx = SHA256_CTX()
            SHA256_Init(&ctx)
            SHA256_Update(&ctx, out.base + canonical.offset, canonical.count)
            SHA256_Final(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &ctx)
        }
        let stsStart = out.count
        out.append("AWS4-HMAC-SHA256\n")
        out.append(amzDate); out.append(0x0a)
        d.scope.withUnsafeBufferPointer { out.append($0) }
        out.append(0x0a)
        withUnsafeBytes(of: &digest) { out.appendHex($0) }
        let sts = out.terminate(from: stsStart)
        var mac = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &mac) { raw in
            d.key.authenticate(UnsafeRawBufferPointer(start: out.base + sts.offset, count: sts.count),
                               into: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        let sigStart = out.count
        withUnsafeBytes(of: &mac) { out.appendHex($0) }
        return (sts, out.terminate(from: sigStart))
    }

    /// Writes the header table's entries (offsets for now) and the strings.
    @inline(__always) private static func appendHeaderStrings(_ name: Bytes, _ value: Bytes, slot: Int, to out: inout ByteBuffer) {
        let nameAt = out.count
        out.append(name); out.append(0)
        let valueAt = out.count
        out.append(value); out.append(0)
        let table = UnsafeMutableRawPointer(out.base).assumingMemoryBound(to: Int.self)
        table[2 * slot] = nameAt; table[2 * slot + 1] = valueAt
    }

    /// Turns the table's offsets into pointers once the buffer will not move.
    private static func finishHeaderTable(_ out: ByteBuffer, _ count: Int) {
        let table = UnsafeMutableRawPointer(out.base).assumingMemoryBound(to: Int.self)
        let base = Int(bitPattern: out.base)
        for k in 0..<(2 * count) { table[k] += base }
    }

    /// Signs for the Authorization header. The headers to send are the
    /// request's, then X-Amz-Date, x-amz-content-sha256 and
    /// X-Amz-Security-Token unless present, then Authorization.
    package func sign(_ r: RequestBytes, unixSeconds: Int64) -> SigningResult {
        var hasDate = false, hasSHA = false, hasToken = false
        for h in r.headers {
            if equalsLowercase(h.name, "x-amz-date") { hasDate = true }
            else if equalsLowercase(h.name, "x-amz-content-sha256") { hasSHA = true }
            else if equalsLowercase(h.name, "x-amz-security-token") { hasToken = true }
        }
        let d = day(unixSeconds)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { dateStorage in
            writeAmzDate(unixSeconds, dateStorage.baseAddress!)
            let amzDate = Bytes(dateStorage)
            return withTokenBytes(r.omitSessionToken || hasToken) { token in
                let total = r.headers.count + 3
                return withUnsafeTemporaryAllocation(of: HeaderBytes.self, capacity: total) { all in
                    var n = 0
                    for h in r.headers { all[n] = h; n += 1 }
                    if !hasDate { all[n] = HeaderBytes(name: Bytes(staticString: "X-Amz-Date"), value: amzDate); n += 1 }
                    if r.addContentSHA256Header && !hasSHA {
                        all[n] = HeaderBytes(name: Bytes(staticString: "x-amz-content-sha256"), value: r.payloadHash); n += 1
                    }
                    if let token { all[n] = HeaderBytes(name: Bytes(staticString: "X-Amz-Security-Token"), value: token); n += 1 }
                    let headers = UnsafeBufferPointer(rebasing: all[0..<n])
                    return withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { order in
                        sign(r, headers, order, amzDate, d)
                    }
                }
            }
        }
    }

    private func sign(_ r: RequestBytes, _ headers: UnsafeBufferPointer<HeaderBytes>, _ order: UnsafeMutableBufferPointer<Int>,
                      _ amzDate: Bytes, _ d: DayKey) -> SigningResult {
        let sent = headers.count + 1
        var size = 1024 + sent * 16 + r.method.count + r.path.count * 3 + r.query.count * 4 + d.credential.count
        for h in headers { size += 3 * (h.name.count + h.value.count) }
        var out = ByteBuffer(capacity: size)
        out.count = sent * 16
        let signedCount = Self.sortHeaders(headers, into: order)
        let canonicalStart = out.count
        out.append(r.method); out.append(0x0a)
        Self.appendCanonicalURI(r.path, to: &out); out.append(0x0a)
        if !r.query.isEmpty {
            let slots = r.query.reduce(1) { $0 + ($1 == 0x26 ? 1 : 0) }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: r.query.count * 3 + 16) { storage in
                var scratch = ByteBuffer(borrowing: storage)
                withUnsafeTemporaryAllocation(of: QueryParam.self, capacity: slots) { params in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: slots) { qorder in
                        let n = Self.recodeQuery(r.query, into: params, &scratch)
                        Self.appendSortedQuery(params, n, scratch, qorder, to: &out)
                    }
                }
                scratch.disposeIfOwned()
            }
        }
        out.append(0x0a)
        Self.appendCanonicalHeaderLines(headers, order, signedCount, to: &out); out.append(0x0a)
        let signedStart = out.count
        Self.appendSignedHeaderNames(headers, order, signedCount, encoded: false, to: &out)
        let signedNames = Span(offset: signedStart, count: out.count - signedStart)
        out.append(0x0a)
        out.append(r.payloadHash)
        let canonical = out.terminate(from: canonicalStart)
        let (sts, signature) = appendStringToSignAndSignature(canonical, amzDate, d, to: &out)
        let authStart = out.count
        out.append("AWS4-HMAC-SHA256 Credential=")
        d.credential.withUnsafeBufferPointer { out.append($0) }
        out.append(", SignedHeaders="); out.append(signedNames)
        out.append(", Signature="); out.append(signature)
        let authorization = out.terminate(from: authStart)
        let queryStart = out.count
        out.append(r.query)
        let query = out.terminate(from: queryStart)
        let blockStart = out.count
        for (i, h) in headers.enumerated() { Self.appendHeaderStrings(h.name, h.value, slot: i, to: &out) }
        let nameAt = out.count
        out.append("Authorization"); out.append(0)
        let valueAt = out.count
        out.append(authorization); out.append(0)
        let table = UnsafeMutableRawPointer(out.base).assumingMemoryBound(to: Int.self)
        table[2 * (sent - 1)] = nameAt; table[2 * (sent - 1) + 1] = valueAt
        let block = Span(offset: blockStart, count: out.count - blockStart)
        Self.finishHeaderTable(out, sent)
        return SigningResult(buffer: out, authorization: authorization, canonicalRequest: canonical, stringToSign: sts,
                             signature: signature, query: query, headerBlock: block, headerCount: sent)
    }

    /// Presigns: the signature goes in the query, which is the request's
    /// parameters then the X-Amz-* ones. The headers to send are the request's.
    package func presign(_ r: RequestBytes, expires: Int64, unixSeconds: Int64) -> SigningResult {
        let d = day(unixSeconds)
        let headers = r.headers
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { dateStorage in
            writeAmzDate(unixSeconds, dateStorage.baseAddress!)
            let amzDate = Bytes(dateStorage)
            return withTokenBytes(r.omitSessionToken) { token in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: headers.count) { order in
                    let signedCount = Self.sortHeaders(headers, into: order)
                    var namesSize = 0
                    for h in headers { namesSize += h.name.count + 3 }
                    let scratchSize = r.query.count * 3 + 3 * (d.credential.count + (token?.count ?? 0)) + namesSize + 256
                    let slots = r.query.reduce(1) { $0 + ($1 == 0x26 ? 1 : 0) } + 7
                    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchSize) { storage in
                        var scratch = ByteBuffer(borrowing: storage)
                        defer { scratch.disposeIfOwned() }
                        return withUnsafeTemporaryAllocation(of: QueryParam.self, capacity: slots) { params in
                            withUnsafeTemporaryAllocation(of: Int.self, capacity: slots) { qorder in
                                var n = Self.recodeQuery(r.query, into: params, &scratch)
                                // Each X-Amz-* parameter is written to `scratch` and recorded in `params`
                                // (both passed inout: a nested function capturing them costs an
                                // exclusivity check on each access).
                                func add(_ name: StaticString, _ scratch: inout ByteBuffer, _ n: inout Int,
                                         _ write: (inout ByteBuffer) -> Void) {
                                    let nameStart = scratch.count
                                    scratch.append(name)
                                    let valueStart = scratch.count
                                    write(&scratch)
                                    params[n] = QueryParam(name: Span(offset: nameStart, count: valueStart - nameStart),
                                                           value: Span(offset: valueStart, count: scratch.count - valueStart))
                                    n += 1
                                }
                                add("X-Amz-Algorithm", &scratch, &n) { $0.append("AWS4-HMAC-SHA256") }
                                add("X-Amz-Credential", &scratch, &n) { s in d.credential.withUnsafeBufferPointer { s.appendEncoded($0) } }
                                add("X-Amz-Date", &scratch, &n) { $0.append(amzDate) }
                                add("X-Amz-Expires", &scratch, &n) { s in
                                    var e = String(expires)
                                    e.withUTF8 { s.append($0) }
                                }
                                add("X-Amz-SignedHeaders", &scratch, &n) {
                                    Self.appendSignedHeaderNames(headers, order, signedCount, encoded: true, to: &$0)
                                }
                                if let token { add("X-Amz-Security-Token", &scratch, &n) { $0.appendEncoded(token) } }
                                return presign(r, headers, order, signedCount, params, n, scratch, qorder, amzDate, d)
                            }
                        }
                    }
                }
            }
        }
    }

    private func presign(_ r: RequestBytes, _ headers: UnsafeBufferPointer<HeaderBytes>, _ order: UnsafeMutableBufferPointer<Int>,
                         _ signedCount: Int, _ params: UnsafeMutableBufferPointer<QueryParam>, _ n: Int, _ scratch: ByteBuffer,
                         _ qorder: UnsafeMutableBufferPointer<Int>, _ amzDate: Bytes, _ d: DayKey) -> SigningResult {
        var size = 1024 + headers.count * 16 + r.method.count + r.path.count * 3 + scratch.count * 2
        for h in headers { size += 3 * (h.name.count + h.value.count) }
        var out = ByteBuffer(capacity: size)
        out.count = headers.count * 16
        let canonicalStart = out.count
        out.append(r.method); out.append(0x0a)
        Self.appendCanonicalURI(r.path, to: &out); out.append(0x0a)
        Self.appendSortedQuery(params, n, scratch, qorder, to: &out); out.append(0x0a)
        Self.appendCanonicalHeaderLines(headers, order, signedCount, to: &out); out.append(0x0a)
        Self.appendSignedHeaderNames(headers, order, signedCount, encoded: false, to: &out); out.append(0x0a)
        out.append(r.payloadHash)
        let canonical = out.terminate(from: canonicalStart)
        let (sts, signature) = appendStringToSignAndSignature(canonical, amzDate, d, to: &out)
        let authorization = out.terminate(from: out.count)
        // The query to send: the parameters in order, encoded once above, then the signature.
        let queryStart = out.count
        for i in 0..<n {
            if i > 0 { out.append(0x26) }
            out.append(scratch.bytes(params[i].name)); out.append(0x3d); out.append(scratch.bytes(params[i].value))
        }
        if n > 0 { out.append(0x26) }
        out.append("X-Amz-Signature="); out.append(signature)
        let query = out.terminate(from: queryStart)
        let blockStart = out.count
        for (i, h) in headers.enumerated() { Self.appendHeaderStrings(h.name, h.value, slot: i, to: &out) }
        let block = Span(offset: blockStart, count: out.count - blockStart)
        Self.finishHeaderTable(out, headers.count)
        return SigningResult(buffer: out, authorization: authorization, canonicalRequest: canonical, stringToSign: sts,
                             signature: signature, query: query, headerBlock: block, headerCount: headers.count)
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The bytes of a literal (static storage, valid for the program's life).
    package init(staticString s: StaticString) { self.init(start: s.utf8Start, count: s.utf8CodeUnitCount) }
}
