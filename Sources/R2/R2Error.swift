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

    public init(_ code: Code, _ message: String, httpStatus: Int = 0, s3Code: String = "",
                requestID: String = "", retryAfterMs: Int64? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.s3Code = s3Code
        self.requestID = requestID
        self.retryAfterMs = retryAfterMs
    }

    /// Whether trying the same call again may succeed.
    public var isRetryable: Bool {
        switch code {
        case .slowDown, .internalError, .serviceUnavailable, .connectionFailed, .timeout,
             .streamInterrupted, .incompleteBody:
            return true
        default:
            return false
        }
    }

    public var description: String {
        var s = "\(code.name): \(message)"
        if httpStatus != 0 { s += " (HTTP \(httpStatus)" + (s3Code.isEmpty ? "" : " \(s3Code)") + ")" }
        if !requestID.isEmpty { s += " [request id \(requestID)]" }
        return s
    }

    static func invalidArgument(_ message: String) -> R2Error { R2Error(.invalidArgument, message) }
    static func config(_ message: String) -> R2Error { R2Error(.config, message) }
}

extension R2Error.Code {
    public static let invalidArgument = Self(R2_ERR_INVALID_ARGUMENT)
    public static let config = Self(R2_ERR_CONFIG)
    public static let aborted = Self(R2_ERR_ABORTED)
    public static let cancelled = Self(R2_ERR_CANCELLED)
    public static let internalBug = Self(R2_ERR_INTERNAL)
    public static let malformedResponse = Self(R2_ERR_MALFORMED_RESPONSE)
    public static let replayUnmatched = Self(R2_ERR_REPLAY_UNMATCHED)
    public static let circuitOpen = Self(R2_ERR_CIRCUIT_OPEN)
    public static let unsupported = Self(R2_ERR_UNSUPPORTED)
    public static let invalidAccessKey = Self(R2_ERR_INVALID_ACCESS_KEY)
    public static let signatureMismatch = Self(R2_ERR_SIGNATURE_MISMATCH)
    public static let expiredCredentials = Self(R2_ERR_EXPIRED_CREDENTIALS)
    public static let unauthorized = Self(R2_ERR_UNAUTHORIZED)
    public static let expiredRequest = Self(R2_ERR_EXPIRED_REQUEST)
    public static let noSuchBucket = Self(R2_ERR_NO_SUCH_BUCKET)
    public static let accessDenied = Self(R2_ERR_ACCESS_DENIED)
    public static let invalidBucketName = Self(R2_ERR_INVALID_BUCKET_NAME)
    public static let noSuchKey = Self(R2_ERR_NO_SUCH_KEY)
    public static let preconditionFailed = Self(R2_ERR_PRECONDITION_FAILED)
    public static let notModified = Self(R2_ERR_NOT_MODIFIED)
    public static let entityTooLarge = Self(R2_ERR_ENTITY_TOO_LARGE)
    public static let invalidRange = Self(R2_ERR_INVALID_RANGE)
    public static let invalidObjectName = Self(R2_ERR_INVALID_OBJECT_NAME)
    public static let metadataTooLarge = Self(R2_ERR_METADATA_TOO_LARGE)
    public static let sseCustomerKeyRequired = Self(R2_ERR_SSE_CUSTOMER_KEY_REQUIRED)
    public static let noSuchUpload = Self(R2_ERR_NO_SUCH_UPLOAD)
    public static let invalidPart = Self(R2_ERR_INVALID_PART)
    public static let invalidPartOrder = Self(R2_ERR_INVALID_PART_ORDER)
    public static let entityTooSmall = Self(R2_ERR_ENTITY_TOO_SMALL)
    public static let connectionFailed = Self(R2_ERR_CONNECTION_FAILED)
    public static let timeout = Self(R2_ERR_TIMEOUT)
    public static let tls = Self(R2_ERR_TLS)
    public static let internalError = Self(R2_ERR_INTERNAL_ERROR)
    public static let serviceUnavailable = Self(R2_ERR_SERVICE_UNAVAILABLE)
    public static let slowDown = Self(R2_ERR_SLOW_DOWN)
    public static let notImplemented = Self(R2_ERR_NOT_IMPLEMENTED)
    public static let badDigest = Self(R2_ERR_BAD_DIGEST)
    public static let missingContentLength = Self(R2_ERR_MISSING_CONTENT_LENGTH)
    public static let invalidRequest = Self(R2_ERR_INVALID_REQUEST)
    public static let streamInterrupted = Self(R2_ERR_STREAM_INTERRUPTED)
    public static let checksumMismatch = Self(R2_ERR_CHECKSUM_MISMATCH)
    public static let incompleteBody = Self(R2_ERR_INCOMPLETE_BODY)
    public static let http = Self(R2_ERR_HTTP)

    static let names: [Int32: String] = [
        0: "OK",
        -1: "InvalidArgument", -2: "Config", -3: "Aborted", -4: "Cancelled", -5: "Internal",
        -6: "MalformedResponse", -7: "ReplayUnmatched", -8: "CircuitOpen", -9: "Unsupported",
        -100: "InvalidAccessKey", -101: "SignatureDoesNotMatch", -102: "ExpiredCredentials", -103: "Unauthorized", -104: "ExpiredRequest",
        -200: "NoSuchBucket", -201: "AccessDenied", -202: "InvalidBucketName",
        -300: "NoSuchKey", -301: "PreconditionFailed", -302: "NotModified", -303: "EntityTooLarge",
        -304: "InvalidRange", -305: "InvalidObjectName", -306: "MetadataTooLarge", -307: "SSECustomerKeyRequired",
        -400: "NoSuchUpload", -401: "InvalidPart", -402: "InvalidPartOrder", -403: "EntityTooSmall",
        -500: "ConnectionFailed", -501: "Timeout", -502: "TLS",
        -600: "InternalError", -601: "ServiceUnavailable", -602: "SlowDown", -603: "NotImplemented",
        -700: "BadDigest", -701: "MissingContentLength", -702: "InvalidRequest",
        -800: "StreamInterrupted", -801: "ChecksumMismatch", -802: "IncompleteBody",
        -900: "HTTPError",
    ]

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
        case "InternalError": code = .internalError
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
            case 500: code = .internalError
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
