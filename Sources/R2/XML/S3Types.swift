// The S3 response documents r2 reads, and their parsers.
//
// Every parser is strict about the root element (a different root is a
// `.malformedResponse` naming both), reads elements by local name wherever
// they appear among their siblings, ignores elements it does not know
// (Owner, Initiator, checksums, ...), rejects a repeated singular element and
// a number that does not parse, and keeps strings exactly as sent after XML
// unescaping: an ETag keeps its quotes, a timestamp stays text.

/// One page of ListObjectsV2 (root `ListBucketResult`).
///
/// When the server used `encoding-type=url` (`encodingType == "url"`), the
/// parser has already URL-decoded `prefix`, `delimiter`, `startAfter`, every
/// key and every common prefix, so callers always see real keys.
public struct ListBucketResult: Sendable, Equatable {
    /// One object of the listing (a `<Contents>` element).
    public struct Entry: Sendable, Equatable {
        public var key: String
        /// As sent, e.g. "2026-11-24T10:08:51Z" or "2026-11-24T10:09:19.000Z".
        public var lastModified: String
        /// As sent, quotes included, e.g. "\"9dd4e461268c8034f5c8564e155c67a6\"".
        public var etag: String
        public var size: UInt64
        public var storageClass: String
    }

    public var name: String
    public var prefix: String
    public var delimiter: String
    public var maxKeys: Int?
    public var keyCount: Int?
    public var isTruncated: Bool
    public var continuationToken: String?
    /// Present whenever `isTruncated` is true (the parser checks it).
    public var nextContinuationToken: String?
    public var startAfter: String
    /// "" or "url".
    public var encodingType: String
    public var contents: [Entry]
    public var commonPrefixes: [String]
}

/// An S3 error document (root `Error`). Absent elements are "".
package struct S3ErrorResponse: Sendable, Equatable {
    package var code: String
    package var message: String
    package var requestID: String
    package var resource: String
    package var key: String
    package var bucketName: String
    package var hostID: String
}

/// The answer to CreateMultipartUpload (root `InitiateMultipartUploadResult`).
package struct InitiateMultipartUploadResult: Sendable, Equatable {
    package var bucket: String
    package var key: String
    /// Never empty (the parser checks it).
    package var uploadID: String
}

/// The answer to CompleteMultipartUpload (root `CompleteMultipartUploadResult`).
public struct CompleteMultipartUploadResult: Sendable, Equatable {
    public var location: String
    public var bucket: String
    public var key: String
    /// As sent, e.g. "\"03ea87a5790ef586173426797c8028a3-2\"".
    public var etag: String
}

/// One page of ListParts (root `ListPartsResult`, or moto's `ListPartsResponse`).
public struct ListPartsResult: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public var partNumber: Int
        public var lastModified: String
        public var etag: String
        public var size: UInt64
    }

    public var bucket: String
    public var key: String
    public var uploadID: String
    public var partNumberMarker: Int?
    /// Present whenever `isTruncated` is true (the parser checks it).
    public var nextPartNumberMarker: Int?
    public var maxParts: Int?
    public var isTruncated: Bool
    public var parts: [Part]
}

/// One page of ListMultipartUploads (root `ListMultipartUploadsResult`).
///
/// With `encodingType == "url"` the keys, markers, prefix, delimiter and
/// common prefixes are URL-decoded by the parser.
public struct ListMultipartUploadsResult: Sendable, Equatable {
    public struct Upload: Sendable, Equatable {
        public var key: String
        public var uploadID: String
        public var initiated: String
    }

    public var bucket: String
    public var keyMarker: String
    public var uploadIDMarker: String
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
    public var prefix: String
    public var delimiter: String
    public var maxUploads: Int?
    public var isTruncated: Bool
    public var encodingType: String
    public var uploads: [Upload]
    public var commonPrefixes: [String]
}

/// The answer to CopyObject (root `CopyObjectResult`) or UploadPartCopy
/// (root `CopyPartResult`).
public struct CopyObjectResult: Sendable, Equatable {
    /// As sent; SeaweedFS sends it without quotes.
    public var etag: String
    public var lastModified: String
}

/// The answer to DeleteObjects (root `DeleteResult`).
public struct DeleteResult: Sendable, Equatable {
    public struct Deleted: Sendable, Equatable {
        public var key: String
        public var versionID: String?
        public var deleteMarker: Bool
        public var deleteMarkerVersionID: String?
    }

    /// A key the server did not delete (an `<Error>` entry).
    public struct Failure: Sendable, Equatable {
        public var key: String
        public var code: String
        public var message: String
        public var versionID: String?
    }

    public var deleted: [Deleted]
    public var errors: [Failure]
}

// MARK: - Parsers

/// Parsers for the S3 response documents.
package enum S3XML {
    /// Parses a ListObjectsV2 response body.
    /// - Parameter body: the response body.
    /// - Returns: the page, with keys URL-decoded when the server used encoding-type=url.
    /// - Throws: `R2Error(.malformedResponse)` for invalid or unexpected XML, a wrong root,
    ///   a bad number, a `<Contents>` without `<Key>` or `<Size>`, a truncated page without
    ///   `<NextContinuationToken>` (e.g. a ListObjects v1 answer), or bad URL encoding.
    package static func parseListObjectsV2(_ body: UnsafeRawBufferPointer) throws(R2Error) -> ListBucketResult {
        try parseObjectListing(body).result()
    }

    /// Parses a ListObjectsV2 response body into its compact form (no String
    /// per entry); `parseListObjectsV2` is this, then `result()`.
    package static func parseObjectListing(_ body: UnsafeRawBufferPointer) throws(R2Error) -> ObjectListing {
        let sink = ListBucketSink(capacity: body.count / 2)
        try XMLStreamParser.parse(body, into: sink)
        return try sink.listing()
    }

    /// Parses an S3 error body (root `Error`).
    /// - Parameter body: the response body.
    /// - Returns: the error's fields.
    /// - Throws: `R2Error(.malformedResponse)` for invalid XML or another root element.
    package static func parseError(_ body: UnsafeRawBufferPointer) throws(R2Error) -> S3ErrorResponse {
        let sink = ErrorSink()
        try XMLStreamParser.parse(body, into: sink)
        return sink.result()
    }

    /// Parses a CreateMultipartUpload response body.
    /// - Parameter body: the response body.
    /// - Returns: bucket, key and the (non-empty) upload id.
    /// - Throws: `R2Error(.malformedResponse)` for invalid XML, a wrong root or no `<UploadId>`.
    package static func parseInitiateMultipartUpload(_ body: UnsafeRawBufferPointer) throws(R2Error)
        -> InitiateMultipartUploadResult
    {
        let sink = FlatSink(roots: [.initiateMultipartUploadResult], fields: [.bucket, .key, .uploadID])
        try XMLStreamParser.parse(body, into: sink)
        guard let id = sink.values[2], !id.isEmpty else {
            throw XMLFailure.missing("UploadId", in: "InitiateMultipartUploadResult")
        }
        return InitiateMultipartUploadResult(bucket: sink.values[0] ?? "", key: sink.values[1] ?? "", uploadID: id)
    }

    /// Parses a CompleteMultipartUpload response body. S3 may answer this
    /// request with status 200 and an `<Error>` document; that is reported
    /// as the S3 error it carries.
    /// - Parameter body: the response body of a 200 response.
    /// - Returns: location, bucket, key and ETag.
    /// - Throws: the mapped `R2Error` (e.g. `.invalidPart`, `.serverInternal`, with `s3Code` set)
    ///   when the root is `Error`; `R2Error(.malformedResponse)` for invalid XML, another root or no `<ETag>`.
    package static func parseCompleteMultipartUpload(_ body: UnsafeRawBufferPointer) throws(R2Error)
        -> CompleteMultipartUploadResult
    {
        let sink = FlatSink(roots: [.completeMultipartUploadResult], fields: [.location, .bucket, .key, .etag])
        try parseAllowingEmbeddedError(body, into: sink)
        guard let etag = sink.values[3] else { throw XMLFailure.missing("ETag", in: "CompleteMultipartUploadResult") }
        return CompleteMultipartUploadResult(location: sink.values[0] ?? "", bucket: sink.values[1] ?? "",
                                             key: sink.values[2] ?? "", etag: etag)
    }

    /// Parses a ListParts response body (root `ListPartsResult` or `ListPartsResponse`).
    /// - Parameter body: the response body.
    /// - Returns: the page of parts, in document order.
    /// - Throws: `R2Error(.malformedResponse)` for invalid XML, a wrong root, a bad number, a
    ///   `<Part>` without `<PartNumber>`, `<ETag>` or `<Size>`, or a truncated page without
    ///   `<NextPartNumberMarker>`.
    package static func parseListParts(_ body: UnsafeRawBufferPointer) throws(R2Error) -> ListPartsResult {
        let sink = ListPartsSink()
        try XMLStreamParser.parse(body, into: sink)
        return try sink.result()
    }

    /// Parses a ListMultipartUploads response body.
    /// - Parameter body: the response body.
    /// - Returns: the page of uploads, URL-decoded when the server used encoding-type=url.
    /// - Throws: `R2Error(.malformedResponse)` for invalid XML, a wrong root, a bad number, an
    ///   `<Upload>` without `<Key>` or `<UploadId>`, a truncated page without `<NextKeyMarker>`,
    ///   or bad URL encoding.
    package static func parseListMultipartUploads(_ body: UnsafeRawBufferPointer) throws(R2Error)
        -> ListMultipartUploadsResult
    {
        let sink = ListUploadsSink()
        try XMLStreamParser.parse(body, into: sink)
        return try sink.result()
    }

    /// Parses a CopyObject (root `CopyObjectResult`) or UploadPartCopy (root
    /// `CopyPartResult`) response body. Like CompleteMultipartUpload, these
    /// may come with status 200 and an `<Error>` document, reported as the S3
    /// error it carries.
    /// - Parameter body: the response body of a 200 response.
    /// - Returns: the new ETag and LastModified.
    /// - Throws: the mapped `R2Error` when the root is `Error`; `R2Error(.malformedResponse)`
    ///   for invalid XML, another root or no `<ETag>`.
    package static func parseCopyObject(_ body: UnsafeRawBufferPointer) throws(R2Error) -> CopyObjectResult {
        let sink = FlatSink(roots: [.copyObjectResult, .copyPartResult], fields: [.etag, .lastModified])
        try parseAllowingEmbeddedError(body, into: sink)
        guard let etag = sink.values[0] else { throw XMLFailure.missing("ETag", in: "CopyObjectResult") }
        return CopyObjectResult(etag: etag, lastModified: sink.values[1] ?? "")
    }

    /// Parses a DeleteObjects response body.
    /// - Parameter body: the response body.
    /// - Returns: the deleted keys and the per-key errors, in document order.
    /// - Throws: `R2Error(.malformedResponse)` for invalid XML, a wrong root, a `<Deleted>`
    ///   or `<Error>` entry without `<Key>`, or a `<DeleteMarker>` that is not a boolean.
    package static func parseDeleteResult(_ body: UnsafeRawBufferPointer) throws(R2Error) -> DeleteResult {
        let sink = DeleteResultSink()
        try XMLStreamParser.parse(body, into: sink)
        return sink.result
    }

    /// Reads `body` into `sink`; when its root is `Error` instead, throws the S3 error it carries.
    private static func parseAllowingEmbeddedError(_ body: UnsafeRawBufferPointer, into sink: any XMLSink)
        throws(R2Error)
    {
        let parser = try XMLStreamParser(sink: sink)
        do {
            try parser.feed(body, last: true)
            try parser.finish()
        } catch {
            guard parser.rootName == .error else { throw error }
            let e = try parseError(body)
            let text = e.message.isEmpty ? e.code : e.message
            throw R2Error.fromResponse(status: 200, s3Code: e.code, message: "\(text) (an error document in a 200 response)",
                                       requestID: e.requestID, retryAfterMs: nil)
        }
    }
}

// MARK: - [UInt8] conveniences

extension S3XML {
    /// Parses a ListObjectsV2 response body; see `parseListObjectsV2(_:)` taking a buffer.
    package static func parseListObjectsV2(_ body: [UInt8]) throws(R2Error) -> ListBucketResult {
        try withBytes(body) { b throws(R2Error) in try parseListObjectsV2(b) }
    }

    /// Parses a ListObjectsV2 response body; see `parseObjectListing(_:)` taking a buffer.
    package static func parseObjectListing(_ body: [UInt8]) throws(R2Error) -> ObjectListing {
        try withBytes(body) { b throws(R2Error) in try parseObjectListing(b) }
    }

    /// Parses an S3 error body; see `parseError(_:)` taking a buffer.
    package static func parseError(_ body: [UInt8]) throws(R2Error) -> S3ErrorResponse {
        try withBytes(body) { b throws(R2Error) in try parseError(b) }
    }

    /// Parses a CreateMultipartUpload body; see `parseInitiateMultipartUpload(_:)` taking a buffer.
    package static func parseInitiateMultipartUpload(_ body: [UInt8]) throws(R2Error) -> InitiateMultipartUploadResult {
        try withBytes(body) { b throws(R2Error) in try parseInitiateMultipartUpload(b) }
    }

    /// Parses a CompleteMultipartUpload body; see `parseCompleteMultipartUpload(_:)` taking a buffer.
    package static func parseCompleteMultipartUpload(_ body: [UInt8]) throws(R2Error) -> CompleteMultipartUploadResult {
        try withBytes(body) { b throws(R2Error) in try parseCompleteMultipartUpload(b) }
    }

    /// Parses a ListParts body; see `parseListParts(_:)` taking a buffer.
    package static func parseListParts(_ body: [UInt8]) throws(R2Error) -> ListPartsResult {
        try withBytes(body) { b throws(R2Error) in try parseListParts(b) }
    }

    /// Parses a ListMultipartUploads body; see `parseListMultipartUploads(_:)` taking a buffer.
    package static func parseListMultipartUploads(_ body: [UInt8]) throws(R2Error) -> ListMultipartUploadsResult {
        try withBytes(body) { b throws(R2Error) in try parseListMultipartUploads(b) }
    }

    /// Parses a CopyObject or UploadPartCopy body; see `parseCopyObject(_:)` taking a buffer.
    package static func parseCopyObject(_ body: [UInt8]) throws(R2Error) -> CopyObjectResult {
        try withBytes(body) { b throws(R2Error) in try parseCopyObject(b) }
    }

    /// Parses a DeleteObjects body; see `parseDeleteResult(_:)` taking a buffer.
    package static func parseDeleteResult(_ body: [UInt8]) throws(R2Error) -> DeleteResult {
        try withBytes(body) { b throws(R2Error) in try parseDeleteResult(b) }
    }

    private static func withBytes<T>(_ body: [UInt8], _ f: (UnsafeRawBufferPointer) throws(R2Error) -> T)
        throws(R2Error) -> T
    {
        var result: Result<T, R2Error>!
        body.withUnsafeBytes { b in
            do throws(R2Error) { result = .success(try f(b)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}

// MARK: - URL decoding (encoding-type=url)

enum URLDecoding {
    /// Decodes an `encoding-type=url` value: %XX escapes, and '+' as a space
    /// (S3 form-encodes: it writes a real '+' as %2B; SeaweedFS writes a
    /// space as '+', moto as %20).
    /// - Throws: `.malformedResponse` for a broken escape, a NUL or a non-UTF-8 result.
    static func decode(_ s: String, _ element: String) throws(R2Error) -> String {
        let utf8 = s.utf8
        guard utf8.contains(where: { $0 == 0x25 || $0 == 0x2B }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var it = utf8.makeIterator()
        while let b = it.next() {
            switch b {
            case 0x2B: out.append(0x20)
            case 0x25:
                guard let h = it.next().flatMap(hex), let l = it.next().flatMap(hex) else {
                    throw XMLFailure.error("<\(element)> has a broken %-escape: \(XMLFailure.quote(utf8))")
                }
                out.append(h << 4 | l)
            default: out.append(b)
            }
        }
        // A NUL would cut the value short in every C string downstream (a
        // list-then-delete loop would delete another key): refuse it.
        guard !out.contains(0) else {
            throw XMLFailure.error("<\(element)> contains a NUL after URL-decoding: \(XMLFailure.quote(utf8))")
        }
        guard let r = String(validating: out, as: UTF8.self) else {
            throw XMLFailure.error("<\(element)> is not UTF-8 after URL-decoding: \(XMLFailure.quote(utf8))")
        }
        return r
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    /// Whether values need decoding; an encoding other than "" or "url" cannot be read.
    static func isURL(_ encodingType: String) throws(R2Error) -> Bool {
        switch encodingType {
        case "": return false
        case "url", "URL", "Url": return true
        default: throw XMLFailure.error("unsupported <EncodingType> \(XMLFailure.quote(encodingType.utf8))")
        }
    }
}

// MARK: - Sinks

/// Leaf children of the root, by name; everything else is ignored.
final class FlatSink: XMLSink {
    let rootNames: [XMLName]
    let fields: [XMLName]
    var values: [String?]

    init(roots: [XMLName], fields: [XMLName]) {
        rootNames = roots
        self.fields = fields
        values = Array(repeating: nil, count: fields.count)
    }

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) {
        guard path.count == 2, let i = fields.firstIndex(of: path[1]) else { return }
        try assignOnce(&values[i], try text.string(), path[1].text)
    }
}

final class ErrorSink: XMLSink {
    let rootNames: [XMLName] = [.error]
    private let flat = FlatSink(roots: [.error], fields: [.code, .message, .requestID, .resource, .key, .bucketName, .hostID])

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) { try flat.didEnd(path, text) }

    func result() -> S3ErrorResponse {
        let v = flat.values.map { $0 ?? "" }
        return S3ErrorResponse(code: v[0], message: v[1], requestID: v[2], resource: v[3], key: v[4],
                               bucketName: v[5], hostID: v[6])
    }
}

final class ListPartsSink: XMLSink {
    let rootNames: [XMLName] = [.listPartsResult, .listPartsResponse]
    private var bucket, key, uploadID: String?
    private var partNumberMarker, nextPartNumberMarker, maxParts: Int?
    private var isTruncated: Bool?
    private var parts: [ListPartsResult.Part] = []
    private var partNumber: Int?
    private var lastModified, etag: String?
    private var size: UInt64?

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) {
        switch path.count {
        case 3 where path[1] == .part:
            switch path[2] {
            case .partNumber: try assignOnce(&partNumber, try text.int("PartNumber"), "PartNumber")
            case .lastModified: try assignOnce(&lastModified, try text.string(), "LastModified")
            case .etag: try assignOnce(&etag, try text.string(), "ETag")
            case .size: try assignOnce(&size, try text.uint64("Size"), "Size")
            default: break
            }
        case 2:
            switch path[1] {
            case .part:
                guard let n = partNumber else { throw XMLFailure.missing("PartNumber", in: "Part") }
                guard let e = etag else { throw XMLFailure.missing("ETag", in: "Part") }
                guard let s = size else { throw XMLFailure.missing("Size", in: "Part") }
                parts.append(.init(partNumber: n, lastModified: lastModified ?? "", etag: e, size: s))
                partNumber = nil; lastModified = nil; etag = nil; size = nil
            case .bucket: try assignOnce(&bucket, try text.string(), "Bucket")
            case .key: try assignOnce(&key, try text.string(), "Key")
            case .uploadID: try assignOnce(&uploadID, try text.string(), "UploadId")
            case .partNumberMarker: try assignOnce(&partNumberMarker, try text.int("PartNumberMarker"), "PartNumberMarker")
            case .nextPartNumberMarker:
                try assignOnce(&nextPartNumberMarker, try text.int("NextPartNumberMarker"), "NextPartNumberMarker")
            case .maxParts: try assignOnce(&maxParts, try text.int("MaxParts"), "MaxParts")
            case .isTruncated: try assignOnce(&isTruncated, try text.bool("IsTruncated"), "IsTruncated")
            default: break
            }
        default: break
        }
    }

    func result() throws(R2Error) -> ListPartsResult {
        guard let isTruncated else { throw XMLFailure.missing("IsTruncated", in: "ListPartsResult") }
        if isTruncated, nextPartNumberMarker == nil {
            throw XMLFailure.error("<IsTruncated> is true but <NextPartNumberMarker> is missing")
        }
        return ListPartsResult(bucket: bucket ?? "", key: key ?? "", uploadID: uploadID ?? "",
                               partNumberMarker: partNumberMarker, nextPartNumberMarker: nextPartNumberMarker,
                               maxParts: maxParts, isTruncated: isTruncated, parts: parts)
    }
}

final class ListUploadsSink: XMLSink {
    let rootNames: [XMLName] = [.listMultipartUploadsResult]
    private var bucket, keyMarker, uploadIDMarker, nextKeyMarker, nextUploadIDMarker, prefix, delimiter,
        encodingType: String?
    private var maxUploads: Int?
    private var isTruncated: Bool?
    private var uploads: [ListMultipartUploadsResult.Upload] = []
    private var commonPrefixes: [String] = []
    private var key, uploadID, initiated, commonPrefix: String?

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) {
        switch path.count {
        case 3 where path[1] == .upload:
            switch path[2] {
            case .key: try assignOnce(&key, try text.string(), "Key")
            case .uploadID: try assignOnce(&uploadID, try text.string(), "UploadId")
            case .initiated: try assignOnce(&initiated, try text.string(), "Initiated")
            default: break
            }
        case 3 where path[1] == .commonPrefixes && path[2] == .prefix:
            try assignOnce(&commonPrefix, try text.string(), "Prefix")
        case 2:
            switch path[1] {
            case .upload:
                guard let k = key else { throw XMLFailure.missing("Key", in: "Upload") }
                guard let u = uploadID, !u.isEmpty else { throw XMLFailure.missing("UploadId", in: "Upload") }
                uploads.append(.init(key: k, uploadID: u, initiated: initiated ?? ""))
                key = nil; uploadID = nil; initiated = nil
            case .commonPrefixes:
                guard let p = commonPrefix else { throw XMLFailure.missing("Prefix", in: "CommonPrefixes") }
                commonPrefixes.append(p)
                commonPrefix = nil
            case .bucket: try assignOnce(&bucket, try text.string(), "Bucket")
            case .keyMarker: try assignOnce(&keyMarker, try text.string(), "KeyMarker")
            case .uploadIDMarker: try assignOnce(&uploadIDMarker, try text.string(), "UploadIdMarker")
            case .nextKeyMarker: try assignOnce(&nextKeyMarker, try text.string(), "NextKeyMarker")
            case .nextUploadIDMarker: try assignOnce(&nextUploadIDMarker, try text.string(), "NextUploadIdMarker")
            case .prefix: try assignOnce(&prefix, try text.string(), "Prefix")
            case .delimiter: try assignOnce(&delimiter, try text.string(), "Delimiter")
            case .encodingType: try assignOnce(&encodingType, try text.string(), "EncodingType")
            case .maxUploads: try assignOnce(&maxUploads, try text.int("MaxUploads"), "MaxUploads")
            case .isTruncated: try assignOnce(&isTruncated, try text.bool("IsTruncated"), "IsTruncated")
            default: break
            }
        default: break
        }
    }

    func result() throws(R2Error) -> ListMultipartUploadsResult {
        guard let isTruncated else { throw XMLFailure.missing("IsTruncated", in: "ListMultipartUploadsResult") }
        if isTruncated, (nextKeyMarker ?? "").isEmpty {
            throw XMLFailure.error("<IsTruncated> is true but <NextKeyMarker> is missing")
        }
        var r = ListMultipartUploadsResult(
            bucket: bucket ?? "", keyMarker: keyMarker ?? "", uploadIDMarker: uploadIDMarker ?? "",
            nextKeyMarker: nextKeyMarker, nextUploadIDMarker: nextUploadIDMarker, prefix: prefix ?? "",
            delimiter: delimiter ?? "", maxUploads: maxUploads, isTruncated: isTruncated,
            encodingType: encodingType ?? "", uploads: uploads, commonPrefixes: commonPrefixes)
        if try URLDecoding.isURL(r.encodingType) {
            r.keyMarker = try URLDecoding.decode(r.keyMarker, "KeyMarker")
            r.nextKeyMarker = try r.nextKeyMarker.map { s throws(R2Error) in try URLDecoding.decode(s, "NextKeyMarker") }
            r.prefix = try URLDecoding.decode(r.prefix, "Prefix")
            r.delimiter = try URLDecoding.decode(r.delimiter, "Delimiter")
            for i in r.uploads.indices { r.uploads[i].key = try URLDecoding.decode(r.uploads[i].key, "Key") }
            for i in r.commonPrefixes.indices {
                r.commonPrefixes[i] = try URLDecoding.decode(r.commonPrefixes[i], "Prefix")
            }
        }
        return r
    }
}

final class DeleteResultSink: XMLSink {
    let rootNames: [XMLName] = [.deleteResult]
    private(set) var result = DeleteResult(deleted: [], errors: [])
    private var key, versionID, deleteMarkerVersionID, code, message: String?
    private var deleteMarker: Bool?

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) {
        switch path.count {
        case 3 where path[1] == .deleted || path[1] == .error:
            switch path[2] {
            case .key: try assignOnce(&key, try text.string(), "Key")
            case .versionID: try assignOnce(&versionID, try text.string(), "VersionId")
            case .deleteMarker: try assignOnce(&deleteMarker, try text.bool("DeleteMarker"), "DeleteMarker")
            case .deleteMarkerVersionID:
                try assignOnce(&deleteMarkerVersionID, try text.string(), "DeleteMarkerVersionId")
            case .code: try assignOnce(&code, try text.string(), "Code")
            case .message: try assignOnce(&message, try text.string(), "Message")
            default: break
            }
        case 2 where path[1] == .deleted:
            guard let k = key else { throw XMLFailure.missing("Key", in: "Deleted") }
            result.deleted.append(.init(key: k, versionID: versionID, deleteMarker: deleteMarker ?? false,
                                        deleteMarkerVersionID: deleteMarkerVersionID))
            reset()
        case 2 where path[1] == .error:
            guard let k = key else { throw XMLFailure.missing("Key", in: "Error") }
            result.errors.append(.init(key: k, code: code ?? "", message: message ?? "", versionID: versionID))
            reset()
        default: break
        }
    }

    private func reset() {
        key = nil; versionID = nil; deleteMarker = nil; deleteMarkerVersionID = nil; code = nil; message = nil
    }
}
