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
        guard Self.presignMethods.contains(method) else {
            throw R2Error.invalidArgument("presign method must be GET, PUT, HEAD or DELETE, not \"\(Validate.printable(method))\"")
        }
        try Validate.bucket(bucket)
        if let key { try Validate.key(key) }
        try Validate.presignExpiry(expiresIn)
        for h in headers { try Self.validateHeader(h) }
        let (baseURL, host, path) = location(bucket: bucket, key: key)
        let rawQuery = query.isEmpty ? nil : query.map { URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }.joined(separator: "&")
        var signHeaders = [(name: "host", value: host)]
        signHeaders += headers
        let request = SigV4Signer.Request(method: method, path: path, query: rawQuery, headers: signHeaders,
                                          payloadHash: SigV4Signer.unsignedPayload)
        let time = unixTime.map { SigningTime(unixSeconds: $0) }
        let presigned = signer.presign(request, expires: expiresIn, at: time)
        return baseURL + path + "?" + presigned.query
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
        guard !h.name.isEmpty, h.name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
            throw R2Error.invalidArgument("invalid header name \"\(Validate.printable(h.name))\"")
        }
        guard !h.value.utf8.contains(where: { $0 == 0x0a || $0 == 0x0d || $0 == 0 }) else {
            throw R2Error.invalidArgument("header \(h.name) has a line break or NUL in its value")
        }
    }
}
