import Glibc

/// A client for Cloudflare R2 (or any S3-compatible endpoint): configuration,
/// signer and transport. Safe to share between threads and tasks.
public final class R2Client: Sendable {
    public let config: ClientConfig
    public let endpoint: Endpoint
    package let signer: SigV4Signer
    /// libcurl, or a cassette (replay), optionally wrapped by a recorder.
    package let transport: any Transport
    /// Retries, circuit breaker, rate limiter, metrics, logs and traces (Resilience/).
    package let resilience: Resilience
    /// Sizes of the parts this client sent per upload id (low-level multipart
    /// checks R2's equal-size rule before bytes go out, and at Complete).
    package let sentParts = SentParts()
    /// `endpoint.hostHeader` as bytes, for presigned URLs.
    private let hostHeaderBytes: [UInt8]

    /// - Throws: `R2Error` with code `.config` when the configuration is invalid.
    public convenience init(config: ClientConfig) throws(R2Error) {
        try self.init(config: config, clock: systemClock)
    }

    /// - Parameter monotonic: the time retries, the breaker and the rate limiter run on (tests use virtual time).
    package init(config: ClientConfig, clock: @escaping Clock, transport: (any Transport)? = nil,
                 monotonic: MonotonicClock = .system) throws(R2Error) {
        try config.validate()
        self.config = config
        self.endpoint = try config.resolvedEndpoint()
        self.hostHeaderBytes = Array(endpoint.hostHeader.utf8)
        self.signer = SigV4Signer(credentials: config.credentials, region: config.region, service: "s3", clock: clock)
        var base: any Transport
        if let transport {
            base = transport
        } else if let replay = config.replayPath {
            base = try ReplayTransport(path: replay, simulateLatency: config.replayLatency)
        } else {
            var options = CurlTransport.Options()
            options.connectTimeoutMs = config.connectTimeoutMs
            options.requestTimeoutMs = config.requestTimeoutMs
            options.transferTimeoutMs = config.transferTimeoutMs
            options.poolSize = Int(config.poolSize)
            options.caBundlePath = config.caBundlePath
            options.stallTimeoutMs = config.resilience.stallTimeoutMs
            options.stallMinBytesPerSecond = config.resilience.stallMinBytesPerSecond
            base = try CurlTransport(options: options)
        }
        if let record = config.recordPath { base = try RecordingTransport(wrapping: base, path: record) }
        self.transport = base
        self.resilience = Resilience(options: config.resilience, observability: config.observability, clock: monotonic)
    }

    /// A client configured from the `R2_*` environment variables.
    public static func fromEnvironment() throws(R2Error) -> R2Client {
        try R2Client(config: .fromEnvironment())
    }

    /// Where a request for `bucket`/`key` goes: path style (`host/bucket/key`)
    /// or, with `virtualHostedStyle`, `bucket.host/key`; the key encoded once with `/` kept.
    package func location(bucket: String, key: String?) -> (baseURL: String, host: String, path: String) {
        guard config.virtualHostedStyle, !bucket.isEmpty else {
            return (endpoint.baseURL, endpoint.hostHeader, Self.objectPath(bucket: bucket, key: key))
        }
        let host = bucket + "." + endpoint.hostHeader
        return (endpoint.scheme + "://" + host, host, "/" + (key.map { URIEncoding.encode($0, keepSlash: true) } ?? ""))
    }

    /// The path-style request path `/<bucket>/<key>`, the key encoded once with `/` kept.
    package static func objectPath(bucket: String, key: String?) -> String {
        guard let key else { return "/" + bucket }
        return "/" + bucket + "/" + URIEncoding.encode(key, keepSlash: true)
    }

    /// Methods a presigned URL may be made for (R2 refuses POST uploads).
    public static let presignMethods: Set<String> = ["GET", "PUT", "HEAD", "DELETE"]

    /// A presigned URL for GET, PUT, HEAD or DELETE of one object, or (key nil)
    /// of the bucket, e.g. a ListObjectsV2 URL with `presignListObjects`. No network call.
    /// - Parameters:
    ///   - method: "GET", "PUT", "HEAD" or "DELETE".
    ///   - expiresIn: seconds, 1 to 604 800 (7 days).
    ///   - headers: extra headers to sign (e.g. Content-Type for PUT); the URL's user must send them.
    ///   - query: extra query parameters (e.g. `response-content-type`, `versionId`).
    ///   - unixTime: signing time, default now.
    /// - Throws: `R2Error` `.invalidArgument`, `.invalidBucketName` or `.invalidObjectName`.
    public func presign(method: String, bucket: String, key: String?, expiresIn: Int64,
                        headers: [(name: String, value: String)] = [], query: [(String, String)] = [],
                        unixTime: Int64? = nil) throws(R2Error) -> String
    {
        var strings = [method, bucket, key ?? ""]
        for h in headers { strings += [h.name, h.value] }
        for q in query { strings += [q.0, q.1] }
        let pairs = headers.count + query.count
        let url: Result<PresignedURL, R2Error> = withUTF8(of: strings) { b in
            withUnsafeTemporaryAllocation(of: HeaderBytes.self, capacity: pairs) { table in
                for i in 0..<pairs { table[i] = HeaderBytes(name: b[3 + 2 * i], value: b[4 + 2 * i]) }
                let all = UnsafeBufferPointer(table)
                do throws(R2Error) {
                    return .success(try presignedURL(method: b[0], bucket: b[1], key: key == nil ? nil : b[2], expiresIn: expiresIn,
                                                     headers: UnsafeBufferPointer(rebasing: all[0..<headers.count]),
                                                     query: UnsafeBufferPointer(rebasing: all[headers.count...]), unixTime: unixTime))
                } catch { return .failure(error) }
            }
        }
        let presigned = try url.get()
        defer { free(presigned.pointer) }
        return String(decoding: presigned.bytes, as: UTF8.self)
    }

    /// A presigned URL in one malloc'd, NUL-terminated buffer (release it with `free`).
    package struct PresignedURL {
        package let pointer: UnsafeMutablePointer<UInt8>
        package let count: Int
        package var bytes: Bytes { Bytes(start: pointer, count: count) }
    }

    /// `presignedURL(..., into:)` into a malloc'd buffer.
    package func presignedURL(method: Bytes, bucket: Bytes, key: Bytes?, expiresIn: Int64,
                              headers: UnsafeBufferPointer<HeaderBytes>, query: UnsafeBufferPointer<HeaderBytes>,
                              unixTime: Int64?) throws(R2Error) -> PresignedURL
    {
        var pointer: UnsafeMutablePointer<UInt8>? = nil
        let count = try presignedURL(method: method, bucket: bucket, key: key, expiresIn: expiresIn, headers: headers,
                                     query: query, unixTime: unixTime) { size in
            pointer = malloc(size)!.assumingMemoryBound(to: UInt8.self)
            return pointer
        }
        return PresignedURL(pointer: pointer!, count: count)
    }

    /// `presign` on borrowed UTF-8 (the C ABI's strings, checked as UTF-8 by
    /// the caller), built as bytes from start to end: the URL is written once,
    /// NUL-terminated, into the buffer `into(size)` returns for its `size`
    /// bytes (the NUL included); `into` returning nil leaves it unwritten (a
    /// caller's buffer too small). Returns the URL's length without the NUL.
    package func presignedURL(method: Bytes, bucket: Bytes, key: Bytes?, expiresIn: Int64,
                              headers: UnsafeBufferPointer<HeaderBytes>, query: UnsafeBufferPointer<HeaderBytes>,
                              unixTime: Int64?, into: (Int) -> UnsafeMutablePointer<UInt8>?) throws(R2Error) -> Int
    {
        guard Self.isPresignMethod(method) else {
            let m = String(decoding: method, as: UTF8.self)
            throw R2Error.invalidArgument("presign method must be GET, PUT, HEAD or DELETE, not \"\(Validate.printable(m))\"")
        }
        try Validate.bucket(utf8: bucket)
        if let key { try Validate.key(utf8: key) }
        try Validate.presignExpiry(expiresIn)
        for h in headers { try Self.validateHeader(name: h.name, value: h.value) }
        let time = unixTime ?? signer.clock()
        let virtualHosted = config.virtualHostedStyle
        return hostHeaderBytes.withUnsafeBufferPointer { endpointHost in
            // Path, host and query in one stack buffer sized for the worst case (it never grows).
            var size = 2 + bucket.count + 3 * (key?.count ?? 0) + bucket.count + 1 + endpointHost.count
            for q in query { size += 3 * (q.name.count + q.value.count) + 2 }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { storage in
                var b = ByteBuffer(borrowing: storage)
                // The path-style `/<bucket>/<key>` or, virtual-hosted, `/<key>`; the key encoded once with `/` kept.
                b.append(0x2f)
                if !virtualHosted {
                    b.append(bucket)
                    if key != nil { b.append(0x2f) }
                }
                if let key { b.appendPathEncoded(key) }
                let path = Span(offset: 0, count: b.count)
                let hostStart = b.count
                if virtualHosted { b.append(bucket); b.append(0x2e) }
                b.append(endpointHost)
                let host = Span(offset: hostStart, count: b.count - hostStart)
                let queryStart = b.count
                for (i, q) in query.enumerated() {
                    if i > 0 { b.append(0x26) }
                    b.appendEncoded(q.name); b.append(0x3d); b.appendEncoded(q.value)
                }
                let rawQuery = Span(offset: queryStart, count: b.count - queryStart)
                precondition(!b.owned, "presign: the stack buffer was sized too small")
                let result = withUnsafeTemporaryAllocation(of: HeaderBytes.self, capacity: headers.count + 1) { signed in
                    signed[0] = HeaderBytes(name: Bytes(staticString: "host"), value: b.bytes(host))
                    for (i, h) in headers.enumerated() { signed[i + 1] = h }
                    let request = RequestBytes(method: method, path: b.bytes(path), query: b.bytes(rawQuery),
                                               headers: UnsafeBufferPointer(signed), payloadHash: Bytes(staticString: "UNSIGNED-PAYLOAD"))
                    return signer.presign(request, expires: expiresIn, unixSeconds: time)
                }
                // scheme://host, the path, '?', the presigned query, NUL.
                let scheme = endpoint.scheme == "http" ? Bytes(staticString: "http://") : Bytes(staticString: "https://")
                let signedQuery = result.bytes(result.query)
                let count = scheme.count + host.count + path.count + 1 + signedQuery.count
                guard let out = into(count + 1) else { return count }
                memcpy(out, scheme.baseAddress!, scheme.count)
                memcpy(out + scheme.count, storage.baseAddress! + host.offset, host.count)
                var at = scheme.count + host.count
                memcpy(out + at, storage.baseAddress!, path.count)
                at += path.count
                out[at] = 0x3f
                memcpy(out + at + 1, signedQuery.baseAddress!, signedQuery.count)
                out[count] = 0
                return count
            }
        }
    }

    private static func isPresignMethod(_ m: Bytes) -> Bool {
        func equals(_ s: StaticString) -> Bool {
            m.count == s.utf8CodeUnitCount && memcmp(m.baseAddress!, s.utf8Start, m.count) == 0
        }
        return !m.isEmpty && (equals("GET") || equals("PUT") || equals("HEAD") || equals("DELETE"))
    }

    /// A presigned ListObjectsV2 URL (GET on the bucket) with the listing's
    /// parameters signed in; `encodingType` "url" makes any key survive XML.
    public func presignListObjects(bucket: String, prefix: String? = nil, delimiter: String? = nil,
                                   continuationToken: String? = nil, startAfter: String? = nil, maxKeys: Int? = nil,
                                   encodingType: String? = "url", expiresIn: Int64, unixTime: Int64? = nil) throws(R2Error) -> String {
        var query: [(String, String)] = [("list-type", "2")]
        if let v = prefix { query.append(("prefix", v)) }
        if let v = delimiter { query.append(("delimiter", v)) }
        if let v = continuationToken { query.append(("continuation-token", v)) }
        if let v = startAfter { query.append(("start-after", v)) }
        if let n = maxKeys {
            guard (1...1000).contains(n) else { throw R2Error.invalidArgument("max-keys is \(n); it must be 1 to 1000") }
            query.append(("max-keys", String(n)))
        }
        if let v = encodingType {
            guard v == "url" else { throw R2Error.invalidArgument("encoding-type must be \"url\" (the only one S3 defines)") }
            query.append(("encoding-type", v))
        }
        return try presign(method: "GET", bucket: bucket, key: nil, expiresIn: expiresIn, query: query, unixTime: unixTime)
    }

    static func validateHeader(_ h: (name: String, value: String)) throws(R2Error) {
        try validateHeader(name: h.name.utf8, value: h.value.utf8)
    }

    static func validateHeader(name: some Collection<UInt8>, value: some Collection<UInt8>) throws(R2Error) {
        guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
            throw R2Error.invalidArgument("invalid header name \"\(Validate.printable(String(decoding: name, as: UTF8.self)))\"")
        }
        guard !value.contains(where: { $0 == 0x0a || $0 == 0x0d || $0 == 0 }) else {
            throw R2Error.invalidArgument("header \(String(decoding: name, as: UTF8.self)) has a line break or NUL in its value")
        }
    }
}

/// Calls `body` with the UTF-8 of each string, copied into one temporary buffer.
private func withUTF8<R>(of strings: [String], _ body: (UnsafeBufferPointer<Bytes>) -> R) -> R {
    let size = strings.reduce(0) { $0 + $1.utf8.count }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(size, 1)) { storage in
        withUnsafeTemporaryAllocation(of: Bytes.self, capacity: strings.count) { spans in
            var at = 0
            for (i, s) in strings.enumerated() {
                let n = UnsafeMutableBufferPointer(rebasing: storage[at...]).initialize(fromContentsOf: s.utf8)
                spans[i] = Bytes(start: storage.baseAddress! + at, count: n)
                at += n
            }
            return body(UnsafeBufferPointer(spans))
        }
    }
}
