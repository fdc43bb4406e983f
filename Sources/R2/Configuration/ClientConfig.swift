import Glibc

/// R2 jurisdictions; each has its own endpoint host.
public enum Jurisdiction: String, Sendable, CaseIterable {
    case `default` = ""
    case eu, fedramp, us
}

/// How the request body is covered by the signature.
public enum PayloadMode: Sendable {
    /// `x-amz-content-sha256` is the hex SHA-256 of the body.
    case signed
    /// `UNSIGNED-PAYLOAD`: no hashing pass over the body; TLS protects it.
    case unsigned
}

/// Everything a client needs. Defaults follow the specification.
public struct ClientConfig: Sendable, CustomStringConvertible {
    public var accountID: String
    public var credentials: Credentials
    /// Overrides the R2 endpoint, e.g. `http://127.0.0.1:8333` for a local server.
    public var endpoint: String?
    public var jurisdiction: Jurisdiction = .default
    /// Must be true for an `http://` endpoint; HTTPS is the only silent choice.
    public var allowHTTP = false
    /// A PEM file of CA certificates to trust (private CAs).
    public var caBundlePath: String?
    public var connectTimeoutMs: UInt32 = 10_000
    public var requestTimeoutMs: UInt32 = 60_000
    /// Timeout for large bodies; 0 means none beyond the stalled-transfer check.
    public var transferTimeoutMs: UInt32 = 0
    public var multipartThreshold: UInt64 = 100 * 1024 * 1024
    public var multipartPartSize: UInt64 = 10 * 1024 * 1024
    public var multipartConcurrency: UInt32 = 4
    public var poolSize: UInt32 = 20
    public var payloadMode: PayloadMode = .signed
    /// Record every exchange to this cassette file (secrets redacted).
    public var recordPath: String?
    /// Serve every request from this cassette file; nothing goes to the network.
    public var replayPath: String?
    /// With `replayPath`: wait as long as each recorded response took.
    public var replayLatency = false
    /// The most an in-memory `getObject` holds (1 GiB): a larger or endless
    /// body fails with `.entityTooLarge` instead of growing without bound.
    public var maxGetBytes: UInt64 = 1 << 30
    /// Retries, circuit breaker, rate limit, more timeouts (Resilience/Client+Resilience.swift).
    public var resilience = ResilienceOptions()
    /// Logging and tracing; off by default (Resilience/Observability.swift).
    public var observability = ObservabilityOptions()
    /// Virtual-hosted-style URLs (`<bucket>.<endpoint host>/<key>`) instead of
    /// path style (`<endpoint host>/<bucket>/<key>`); R2 accepts both.
    public var virtualHostedStyle = false
    /// The SigV4 signing region: R2's is `auto`; `us-east-1` and "" are
    /// accepted as aliases of it (for tools that cannot say `auto`).
    public var region = "auto"

    /// The regions R2 accepts in a signature.
    public static let regions: Set<String> = ["auto", "us-east-1", ""]

    public init(accountID: String, credentials: Credentials, endpoint: String? = nil) {
        self.accountID = accountID
        self.credentials = credentials
        self.endpoint = endpoint
    }

    public var description: String {
        "ClientConfig(accountID: \(accountID), credentials: \(credentials), endpoint: \(endpoint ?? "default"))"
    }

    /// The endpoint after applying the override, jurisdiction and HTTPS rules.
    package func resolvedEndpoint() throws(R2Error) -> Endpoint {
        if let endpoint, !endpoint.isEmpty {
            return try Endpoint.parse(endpoint, allowHTTP: allowHTTP)
        }
        guard !accountID.isEmpty else {
            throw R2Error.config("an account id is required when no endpoint is given")
        }
        guard accountID.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) }) else {
            throw R2Error.config("account id must contain only letters and digits")
        }
        let host = jurisdiction == .default
            ? "\(accountID).r2.cloudflarestorage.com"
            : "\(accountID).\(jurisdiction.rawValue).r2.cloudflarestorage.com"
        return Endpoint(scheme: "https", host: host, port: nil)
    }

    /// Validates everything that can be checked without the network.
    package func validate() throws(R2Error) {
        guard !credentials.accessKeyID.isEmpty else { throw R2Error.config("access key id is required") }
        guard !credentials.secret.isEmpty else { throw R2Error.config("secret access key is required") }
        _ = try resolvedEndpoint()
        guard Self.regions.contains(region) else {
            throw R2Error.config("region \"\(Validate.printable(region))\" is not R2's: R2 signs with \"auto\" (\"us-east-1\" and \"\" are accepted as aliases)")
        }
        guard multipartPartSize >= 5 * 1024 * 1024, multipartPartSize <= 5 * 1024 * 1024 * 1024 else {
            throw R2Error.config("multipart part size must be between 5 MiB and 5 GiB")
        }
        guard multipartThreshold >= 5 * 1024 * 1024 else { throw R2Error.config("multipart threshold must be at least 5 MiB") }
        guard (1...256).contains(multipartConcurrency) else { throw R2Error.config("multipart concurrency must be 1 to 256") }
        guard (1...1024).contains(poolSize) else { throw R2Error.config("connection pool size must be 1 to 1024") }
        guard maxGetBytes >= 1, maxGetBytes <= UInt64(Int.max) else { throw R2Error.config("max get bytes must be at least 1") }
        try resilience.validate()
    }

    /// Reads `R2_*` variables: R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY,
    /// R2_SESSION_TOKEN, R2_ENDPOINT, R2_JURISDICTION, R2_ALLOW_HTTP, R2_CA_BUNDLE,
    /// R2_TIMEOUT_SECONDS, R2_MULTIPART_THRESHOLD_BYTES, R2_MULTIPART_PART_SIZE_BYTES,
    /// R2_MULTIPART_CONCURRENCY. A missing or invalid value names the variable.
    public static func fromEnvironment(_ env: (String) -> String? = { getenv($0).map { String(cString: $0) } })
        throws(R2Error) -> ClientConfig
    {
        func required(_ name: String) throws(R2Error) -> String {
            guard let v = env(name), !v.isEmpty else { throw R2Error.config("\(name) is not set") }
            return v
        }
        func number<T: FixedWidthInteger>(_ name: String, _ range: ClosedRange<T>) throws(R2Error) -> T? {
            guard let v = env(name), !v.isEmpty else { return nil }
            guard let n = T(v), range.contains(n) else {
                throw R2Error.config("\(name)=\"\(Validate.printable(v))\" is not a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        let endpoint = env("R2_ENDPOINT").flatMap { $0.isEmpty ? nil : $0 }
        let account = endpoint == nil ? try required("R2_ACCOUNT_ID") : (env("R2_ACCOUNT_ID") ?? "")
        let creds = Credentials(accessKeyID: try required("R2_ACCESS_KEY_ID"),
                                secretAccessKey: try required("R2_SECRET_ACCESS_KEY"),
                                sessionToken: env("R2_SESSION_TOKEN"))
        var config = ClientConfig(accountID: account, credentials: creds, endpoint: endpoint)
        if let j = env("R2_JURISDICTION"), !j.isEmpty {
            guard let jj = Jurisdiction(rawValue: j.lowercased()), jj != .default else {
                throw R2Error.config("R2_JURISDICTION=\"\(Validate.printable(j))\" is not one of eu, fedramp, us")
            }
            config.jurisdiction = jj
        }
        if let h = env("R2_ALLOW_HTTP"), !h.isEmpty {
            guard h == "1" || h == "0" || h == "true" || h == "false" else {
                throw R2Error.config("R2_ALLOW_HTTP must be 1 or 0")
            }
            config.allowHTTP = h == "1" || h == "true"
        }
        config.caBundlePath = env("R2_CA_BUNDLE").flatMap { $0.isEmpty ? nil : $0 }
        if let t: UInt32 = try number("R2_TIMEOUT_SECONDS", 1...86_400) { config.requestTimeoutMs = t * 1000 }
        if let v: UInt64 = try number("R2_MULTIPART_THRESHOLD_BYTES", 5 * 1024 * 1024...UInt64(5) << 40) {
            config.multipartThreshold = v
        }
        if let v: UInt64 = try number("R2_MULTIPART_PART_SIZE_BYTES", 5 * 1024 * 1024...5 * 1024 * 1024 * 1024) {
            config.multipartPartSize = v
        }
        if let v: UInt32 = try number("R2_MULTIPART_CONCURRENCY", 1...256) { config.multipartConcurrency = v }
        try config.validate()
        return config
    }
}

/// Scheme, host and port of the service; requests are path-style
/// (`/<bucket>/<key>`).
public struct Endpoint: Sendable, Equatable {
    public let scheme: String
    public let host: String
    public let port: Int?

    /// The `Host` header value (the port only when it is not the default).
    public var hostHeader: String { port.map { "\(host):\($0)" } ?? host }
    public var baseURL: String { "\(scheme)://\(hostHeader)" }

    static func parse(_ s: String, allowHTTP: Bool) throws(R2Error) -> Endpoint {
        var rest = Substring(s)
        let scheme: String
        if rest.hasPrefix("https://") { scheme = "https"; rest = rest.dropFirst(8) }
        else if rest.hasPrefix("http://") { scheme = "http"; rest = rest.dropFirst(7) }
        else { throw R2Error.config("endpoint \"\(Validate.printable(s))\" must start with https:// (or http:// with allow_http)") }
        if scheme == "http" && !allowHTTP {
            throw R2Error.config("endpoint \"\(Validate.printable(s))\" uses http://; set allow_http (R2_ALLOW_HTTP=1) to opt in to unencrypted traffic")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else {
            throw R2Error.config("endpoint \"\(Validate.printable(s))\" must be scheme://host[:port] with no path")
        }
        var host = String(rest)
        var port: Int? = nil
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw R2Error.config("endpoint \"\(Validate.printable(s))\" has an invalid port")
            }
            host = String(rest[..<colon])
            if !((scheme == "https" && p == 443) || (scheme == "http" && p == 80)) { port = p }
        }
        // A colon belongs only in a bracketed IPv6 address ("h:x:443" is not a host; found by fuzzing).
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }), bracketed || !host.contains(":") else {
            throw R2Error.config("endpoint \"\(Validate.printable(s))\" has an invalid host")
        }
        return Endpoint(scheme: scheme, host: host, port: port)
    }
}
