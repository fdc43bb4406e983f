import CR2Types

/// The one error type of r2, shared by the Swift API and the C ABI.
///
/// `code` is the stable `r2_status` number; the static members name them, so
/// new codes can be added without breaking `switch`-free callers.
public struct R2Error: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ status: r2_status) { rawValue = status.rawValue }
    }

    public let code: Code
    /// HTTP status of the failing response, 0 when there was none.
    public let httpStatus: Int
    /// The S3 error code from the response body ("NoSuchKey"), or "".
    public let s3Code: String
    /// A description; never contains secrets.
    public let message: String
    /// `x-amz-request-id` (or `cf-ray`) of the failing response, or "".
    public let requestID: String
    /// Server-requested delay before a retry, in milliseconds.
    public let retryAfterMs: Int64?
    /// The call's last answer came after an earlier attempt whose answer was
    /// lost (a network failure once the request was out), which may have taken
    /// effect: a PreconditionFailed then may be that attempt's own doing.
    package var afterLostAnswer = false

    public init(_ code: Code, _ message: String, httpStatus: Int = 0, s3Code: String = "",
                requestID: String = "", retryAfterMs: Int64? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.s3Code = s3Code
        self.requestID = requestID
        self.retryAfterMs = retryAfterMs
    }

    /// Whether trying the same call again may succeed (the status's
    /// "retryable" mark in r2_types.h).
    public var isRetryable: Bool { Code.retryable.contains(code.rawValue) }

    public var description: String {
        var s = "\(code.name): \(message)"
        if httpStatus != 0 { s += " (HTTP \(httpStatus)" + (s3Code.isEmpty ? "" : " \(s3Code)") + ")" }
        if !requestID.isEmpty { s += " [request id \(requestID)]" }
        return s
    }

    static func invalidArgument(_ message: String) -> R2Error { R2Error(.invalidArgument, message) }
    static func config(_ message: String) -> R2Error { R2Error(.config, message) }
}

// The members, names and retryable flags of the codes are generated from the
// r2_status enum (R2Error+Codes.swift, scripts/gen_status.py).
extension R2Error.Code {
    /// The code's name, e.g. "NoSuchKey".
    public var name: String { Self.names[rawValue] ?? "Unknown(\(rawValue))" }
}

extension R2Error {
    /// Maps an S3 error response to the taxonomy: the S3 code decides when it
    /// is known, the HTTP status otherwise (HEAD responses carry no body).
    static func fromResponse(status: Int, s3Code: String, message: String, requestID: String,
                             retryAfterMs: Int64?, isHead: Bool = false) -> R2Error {
        var code: Code
        switch s3Code {
        case "InvalidAccessKeyId": code = .invalidAccessKey
        case "SignatureDoesNotMatch": code = .signatureMismatch
        case "ExpiredToken", "TokenRefreshRequired": code = .expiredCredentials
        case "ExpiredRequest": code = .expiredRequest
        case "Unauthorized": code = .unauthorized
        case "NoSuchBucket": code = .noSuchBucket
        case "AccessDenied", "NotEntitled", "ObjectLockedByBucketPolicy": code = .accessDenied
        case "InvalidBucketName": code = .invalidBucketName
        case "NoSuchKey": code = .noSuchKey
        case "PreconditionFailed": code = .preconditionFailed
        case "EntityTooLarge": code = .entityTooLarge
        case "MetadataTooLarge": code = .metadataTooLarge
        case "InvalidRange": code = .invalidRange
        case "InvalidObjectName", "KeyTooLongError": code = .invalidObjectName
        case "NoSuchUpload": code = .noSuchUpload
        case "InvalidPart": code = .invalidPart
        case "InvalidPartOrder": code = .invalidPartOrder
        case "EntityTooSmall": code = .entityTooSmall
        case "InternalError": code = .serverInternal
        case "ServiceUnavailable": code = .serviceUnavailable
        case "SlowDown", "TooManyRequests", "TooMuchConcurrency": code = .slowDown
        case "NotImplemented": code = .notImplemented
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch": code = .badDigest
        case "MissingContentLength": code = .missingContentLength
        case "InvalidRequest", "InvalidArgument", "MalformedXML": code = .invalidRequest
        case "IncompleteBody", "RequestTimeout", "ClientDisconnect": code = .incompleteBody
        default:
            switch status {
            case 304: code = .notModified
            case 400: code = .invalidRequest
            case 401: code = .unauthorized
            case 403: code = .accessDenied
            case 404: code = isHead ? .noSuchKey : .http
            case 411: code = .missingContentLength
            case 412: code = .preconditionFailed
            case 416: code = .invalidRange
            case 429: code = .slowDown
            case 500: code = .serverInternal
            case 501: code = .notImplemented
            case 503: code = .serviceUnavailable
            default: code = .http
            }
        }
        var text = message.isEmpty ? (s3Code.isEmpty ? "HTTP \(status)" : s3Code) : message
        // A read of an SSE-C object without its key: S3 servers answer 400
        // InvalidRequest/InvalidArgument naming customer keys or SSE.
        let lower = asciiLowercase(message)
        if status == 400, lower.contains("customer") || lower.contains("server side encryption") {
            code = .sseCustomerKeyRequired
            text += " (the object is encrypted with a customer key, SSE-C: pass sse_customer_key)"
        }
        return R2Error(code, text, httpStatus: status, s3Code: s3Code, requestID: requestID,
                       retryAfterMs: retryAfterMs)
    }
}
