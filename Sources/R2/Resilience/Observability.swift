/// Log levels, most severe first; the raw values are the C ABI's `r2_log_level`.
public enum LogLevel: Int32, Sendable, Comparable {
    case off = 0, error, warn, info, debug, trace

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One log event. Fields that do not apply are "" or 0. Nothing in a record
/// is secret: Authorization, security tokens and signatures are redacted
/// before a record is made, at every level.
public struct LogRecord: Sendable {
    public var level: LogLevel
    public var message: String
    public var operation = ""
    public var bucket = ""
    public var key = ""
    public var httpStatus = 0
    public var requestID = ""
    /// 1 for the first attempt; 0 when the event is not about one attempt.
    public var attempt = 0
    /// Of the attempt (or the call, for call-level events); 0 when not timed.
    public var durationMs = 0.0
    /// The failure's code, or nil.
    public var error: R2Error.Code?

    public init(level: LogLevel, message: String) {
        self.level = level
        self.message = message
    }
}

/// One finished call (every attempt included), for tracing.
public struct TraceRecord: Sendable {
    public var operation = ""
    public var bucket = ""
    public var key = ""
    /// The last response's status, 0 when none arrived.
    public var httpStatus = 0
    public var requestID = ""
    public var durationMs = 0.0
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var retries = 0
    /// nil when the call succeeded.
    public var error: R2Error?
    /// The W3C `traceparent` sent with the call's requests, or "".
    public var traceparent = ""
}

/// Logging and tracing. Everything is off by default: a logger or tracer is
/// the caller's code running on the calling thread of each operation, so
/// r2 calls it only when asked to.
public struct ObservabilityOptions: Sendable {
    /// Events at this level and more severe reach `logger`.
    public var logLevel = LogLevel.off
    public var logger: (@Sendable (LogRecord) -> Void)?
    /// Called once per finished call (success or failure).
    public var tracer: (@Sendable (TraceRecord) -> Void)?
    /// Send a W3C `traceparent` header with every request (not signed, so
    /// tracing proxies may rewrite it). The same value is used for all
    /// attempts of one call and reported in its `TraceRecord`.
    public var propagateTraceparent = false
    /// The caller's current `traceparent`, if any: r2's requests then join
    /// its trace (same trace id, a new span id). Without it each call starts
    /// a new trace.
    public var parentTraceparent: (@Sendable () -> String?)?

    public init() {}
}

/// What logs and error messages must never show.
package enum Redact {
    static let headers: Set<String> = Set(["authorization", "proxy-authorization", "x-amz-security-token", "cookie", "set-cookie"])
        .union(SSECustomerKey.secretHeaders)
    static let query: Set<String> = ["x-amz-signature", "x-amz-credential", "x-amz-security-token"]
    static let mark = "<redacted>"

    /// Headers as `name: value` pairs with secret values replaced.
    package static func headers(_ h: [(name: String, value: String)]) -> String {
        h.map { "\($0.name): \(headers.contains(asciiLowercase($0.name)) ? mark : $0.value)" }.joined(separator: ", ")
    }

    /// The raw query with the values of signing parameters replaced.
    package static func query(_ raw: String?) -> String {
        guard let raw, !raw.isEmpty else { return "" }
        return raw.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let name = part.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return query.contains(asciiLowercase(name)) ? name + "=" + mark : String(part)
        }.joined(separator: "&")
    }

    /// `text` with every occurrence of each secret replaced (a server may
    /// echo what it was sent, e.g. the signature, in an error message).
    package static func scrub(_ text: String, _ secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.utf8.count >= 8 && out.contains(secret) {
            out = out.split(separator: secret, omittingEmptySubsequences: false).joined(separator: mark)
        }
        return out
    }

    /// The values a request carries that must not be shown: the Authorization
    /// header, its signature, a session token.
    package static func secrets(of request: HTTPRequest) -> [String] {
        var out: [String] = []
        for (name, value) in request.headers where headers.contains(asciiLowercase(name)) {
            out.append(value)
            if let r = value.firstRange(of: "Signature=") { out.append(String(value[r.upperBound...])) }
        }
        return out
    }
}

/// W3C Trace Context `traceparent`: version 00, 16-byte trace id, 8-byte
/// span id, sampled.
package enum Traceparent {
    /// `rng` should be seeded from the system: ids must be unpredictable
    /// enough not to collide, not secret.
    package static func make(parent: String?, rng: inout some RandomNumberGenerator) -> String {
        var traceID = ""
        if let parent, let id = parse(parent) { traceID = id } else {
            repeat { traceID = hex(rng.next()) + hex(rng.next()) } while traceID.allSatisfy { $0 == "0" }
        }
        var span = ""
        repeat { span = hex(rng.next()) } while span.allSatisfy { $0 == "0" }
        return "00-\(traceID)-\(span)-01"
    }

    /// The trace id of a valid `traceparent`, else nil.
    package static func parse(_ s: String) -> String? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
              parts[3].count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }),
              !parts[1].allSatisfy({ $0 == "0" }) else { return nil }
        return String(parts[1])
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
