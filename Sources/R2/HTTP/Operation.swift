/// What a request does. Metrics, logs, traces and cassettes name it by its
/// S3 name (`name`); everything else switches on the case.
package enum Operation: String, Sendable, CaseIterable {
    case putObject = "PutObject"
    case getObject = "GetObject"
    case headObject = "HeadObject"
    case deleteObject = "DeleteObject"
    case deleteObjects = "DeleteObjects"
    case copyObject = "CopyObject"
    case listObjectsV2 = "ListObjectsV2"
    case createMultipartUpload = "CreateMultipartUpload"
    case uploadPart = "UploadPart"
    case uploadPartCopy = "UploadPartCopy"
    case completeMultipartUpload = "CompleteMultipartUpload"
    case abortMultipartUpload = "AbortMultipartUpload"
    case listParts = "ListParts"
    case listMultipartUploads = "ListMultipartUploads"

    /// The S3 API name ("GetObject").
    package var name: String { rawValue }

    /// Which per-attempt timeout applies (see `R2Client.attemptTimeoutMs`).
    package enum TimeoutClass { case listing, part, byBody }

    package var timeoutClass: TimeoutClass {
        switch self {
        case .listObjectsV2, .listParts, .listMultipartUploads: return .listing
        case .uploadPart, .uploadPartCopy: return .part
        default: return .byBody
        }
    }
}

extension Operation: CustomStringConvertible {
    package var description: String { rawValue }
}
