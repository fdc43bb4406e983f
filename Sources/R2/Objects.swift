/// Object operations: put, get, head, delete, delete many, copy, list.
/// Every call blocks its thread (the async API in Client+Async.swift runs
/// them off the cooperative pool); callbacks run on the calling thread.

/// Headers and conditions of a PutObject.
public struct PutOptions: Sendable {
    public var contentType: String?
    public var cacheControl: String?
    public var contentDisposition: String?
    public var contentEncoding: String?
    public var contentLanguage: String?
    /// An HTTP date.
    public var expires: String?
    /// User metadata, names without the `x-amz-meta-` prefix. Non-ASCII values
    /// are sent RFC 2047-encoded (R2 decodes them).
    public var metadata: [(name: String, value: String)] = []
    /// Conditional write: an ETag or `*`.
    public var ifMatch: String?
    /// `*` creates the object only when the key does not exist.
    public var ifNoneMatch: String?
    public var ifModifiedSince: String?
    public var ifUnmodifiedSince: String?
    /// nil uses the client's payload mode; streams are always `UNSIGNED-PAYLOAD`.
    public var payloadMode: PayloadMode?
    /// One integrity check, computed from the bytes (a stream needs `checksumValue`).
    public var checksum: ChecksumAlgorithm = .none
    /// The base64 digest for `checksum`, when the caller already has it.
    public var checksumValue: String?
    /// `STANDARD` or `STANDARD_IA`.
    public var storageClass: String?
    /// Stops the call from any thread (it fails with `.cancelled`).
    public var cancellation: Cancellation?

    public init() {}
}

/// Range and conditions of a GetObject or HeadObject.
public struct GetOptions: Sendable {
    /// `bytes=a-b`, `bytes=a-` or `bytes=-n`; nil for the whole object.
    public var range: String?
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: String?
    public var ifUnmodifiedSince: String?
    /// Check a whole-object `x-amz-checksum-*` response header against the body.
    public var validateChecksum = false
    /// Stops the call from any thread (it fails with `.cancelled`).
    public var cancellation: Cancellation?

    public init() {}
}

/// What a response said about an object.
public struct ObjectInfo: Sendable {
    public var etag = ""
    public var versionID = ""
    public var contentType = ""
    public var contentRange = ""
    /// As the server sent it (an HTTP date).
    public var lastModified = ""
    public var cacheControl = ""
    public var contentDisposition = ""
    public var contentEncoding = ""
    public var contentLanguage = ""
    public var expires = ""
    public var storageClass = ""
    /// `x-amz-checksum-*` response headers by algorithm name (`crc32`, …).
    public var checksums: [(algorithm: String, value: String)] = []
    /// `x-amz-request-id`, else `cf-ray`.
    public var requestID = ""
    /// Bytes in this response's body; the object's size for HeadObject.
    public var contentLength: Int64 = 0
    public var httpStatus = 0
    /// User metadata, names without the prefix, RFC 2047 values decoded.
    public var metadata: [(name: String, value: String)] = []

    public init() {}

    package init(_ head: ResponseHead) {
        httpStatus = head.status
        requestID = head.requestID
        for (rawName, value) in head.headers {
            let name = rawName.lowercased()
            switch name {
            case "etag": etag = value
            case "x-amz-version-id": versionID = value
            case "content-type": contentType = value
            case "content-range": contentRange = value
            case "last-modified": lastModified = value
            case "cache-control": cacheControl = value
            case "content-disposition": contentDisposition = value
            case "content-encoding": contentEncoding = value
            case "content-language": contentLanguage = value
            case "expires": expires = value
            case "x-amz-storage-class": storageClass = value
            case "content-length": contentLength = Int64(value.trimmingSpaces()) ?? 0
            default:
                if name.hasPrefix("x-amz-meta-") {
                    metadata.append((String(name.dropFirst(11)), RFC2047.decode(value)))
                } else if name.hasPrefix("x-amz-checksum-"), name != "x-amz-checksum-type" {
                    checksums.append((String(name.dropFirst(15)), value))
                }
            }
        }
    }

    public func metadata(_ name: String) -> String? {
        metadata.first { asciiEqualsIgnoringCase($0.name, name) }?.value
    }
}

/// A whole object read into memory.
public struct GetObjectOutput: Sendable {
    public var info: ObjectInfo
    public var body: [UInt8]
}

/// CopyObject's destination headers and source conditions.
public struct CopyOptions: Sendable {
    /// REPLACE the destination's metadata with the fields below instead of COPYing the source's.
    public var replaceMetadata = false
    public var contentType: String?
    public var cacheControl: String?
    public var contentDisposition: String?
    public var contentEncoding: String?
    public var metadata: [(name: String, value: String)] = []
    /// `x-amz-copy-source-if-*` conditions on the source.
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: String?
    public var ifUnmodifiedSince: String?

    public init() {}
}

/// One ListObjectsV2 request.
public struct ListOptions: Sendable {
    public var prefix: String?
    public var delimiter: String?
    public var startAfter: String?
    public var continuationToken: String?
    /// 1 to 1000; nil is the server's default (1000).
    public var maxKeys: Int?

    public init() {}
}

/// One page of a listing, keys decoded.
public struct ListPage: Sendable {
    public var result: ListBucketResult
    public var requestID: String
}

extension R2Client {
    // MARK: PutObject

    /// Uploads `body` as one object (a single PUT; see the orchestrator for multipart).
    /// - Returns: the response's ETag, version id and request id.
    /// - Throws: `R2Error`: `.preconditionFailed` when a condition fails, `.badDigest`, network errors.
    @discardableResult
    public func putObject(bucket: String, key: String, body: UnsafeRawBufferPointer,
                          options: PutOptions = PutOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        try Self.checkSinglePutSize(UInt64(body.count))
        var call = Call(operation: "PutObject", method: "PUT", bucket: bucket, key: key)
        call.headers = try Self.putHeaders(options)
        if options.checksum != .none, let name = options.checksum.headerName {
            call.headers.append((name, options.checksumValue ?? ChecksumHasher.base64(options.checksum, of: body)))
        }
        call.payloadHash = (options.payloadMode ?? config.payloadMode) == .signed
            ? Payload.sha256Hex(body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
            : SigV4Signer.unsignedPayload
        call.isLargeTransfer = body.count > 8 * 1024 * 1024
        call.cancellation = options.cancellation
        var sink = BufferSink(limit: 1 << 20)
        return ObjectInfo(try perform(call, body: .bytes(body), sink: &sink))
    }

    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8],
                          options: PutOptions = PutOptions()) throws(R2Error) -> ObjectInfo {
        try withBytes(body) { (raw) throws(R2Error) in try putObject(bucket: bucket, key: key, body: raw, options: options) }
    }

    /// Uploads `length` bytes produced by `read` (which fills the buffer and
    /// returns the count, 0 at the end, or throws to abort). The body is sent
    /// `UNSIGNED-PAYLOAD`; a checksum needs `options.checksumValue`.
    /// - Throws: `.incompleteBody` when `read` ends early or gives more than `length`.
    @discardableResult
    public func putObject(bucket: String, key: String, length: UInt64, options: PutOptions = PutOptions(),
                          read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        try Self.checkSinglePutSize(length)
        var call = Call(operation: "PutObject", method: "PUT", bucket: bucket, key: key)
        call.headers = try Self.putHeaders(options)
        if options.checksum != .none, let name = options.checksum.headerName {
            guard let value = options.checksumValue else {
                throw R2Error.invalidArgument("a streamed put cannot compute \(name) before sending; pass its value (checksum_value)")
            }
            call.headers.append((name, value))
        }
        call.payloadHash = SigV4Signer.unsignedPayload
        call.isLargeTransfer = length > 8 * 1024 * 1024
        call.cancellation = options.cancellation
        var sink = BufferSink(limit: 1 << 20)
        let head: ResponseHead
        do {
            head = try withoutActuallyEscaping(read) { read in try perform(call, body: .stream(length: length, read: read), sink: &sink) }
        } catch { throw error as! R2Error }
        return ObjectInfo(head)
    }

    /// R2's single-PUT limit (5 GiB less 5 MiB); larger objects go multipart.
    package static let maxSinglePutSize: UInt64 = 5 * 1024 * 1024 * 1024 - 5 * 1024 * 1024

    static func checkSinglePutSize(_ n: UInt64) throws(R2Error) {
        guard n <= maxSinglePutSize else {
            throw R2Error(.entityTooLarge, "a single PUT carries at most \(maxSinglePutSize) bytes; \(n) needs a multipart upload")
        }
    }

    static func putHeaders(_ o: PutOptions) throws(R2Error) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String?) throws(R2Error) {
            guard let value else { return }
            try validateHeader((name, value))
            h.append((name, value))
        }
        try add("Content-Type", o.contentType)
        try add("Cache-Control", o.cacheControl)
        try add("Content-Disposition", o.contentDisposition)
        try add("Content-Encoding", o.contentEncoding)
        try add("Content-Language", o.contentLanguage)
        try add("Expires", o.expires)
        try add("If-Match", o.ifMatch)
        try add("If-None-Match", o.ifNoneMatch)
        try add("If-Modified-Since", o.ifModifiedSince)
        try add("If-Unmodified-Since", o.ifUnmodifiedSince)
        try add("x-amz-storage-class", o.storageClass)
        try h += metadataHeaders(o.metadata)
        if o.checksumValue != nil && o.checksum == .none {
            throw R2Error.invalidArgument("checksum_value is set but no checksum algorithm is chosen")
        }
        return h
    }

    static func metadataHeaders(_ metadata: [(name: String, value: String)]) throws(R2Error) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = []
        var total = 0
        for (name, value) in metadata {
            let header = "x-amz-meta-" + name
            try validateHeader((header, value))
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw R2Error.invalidArgument("metadata name \"\(Validate.printable(name))\" must be printable ASCII")
            }
            total += name.utf8.count + value.utf8.count
            h.append((header, RFC2047.encodeIfNeeded(value)))
        }
        guard total <= 8192 else { throw R2Error(.entityTooLarge, "user metadata is \(total) bytes; R2 allows 8192") }
        return h
    }

    // MARK: GetObject / HeadObject

    /// Reads an object (or a range of it) into memory.
    /// - Throws: `.noSuchKey`, `.notModified`, `.preconditionFailed`, `.invalidRange`,
    ///   `.checksumMismatch` (whole-object reads with `validateChecksum`).
    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions()) throws(R2Error) -> GetObjectOutput {
        var body: [UInt8] = []
        let info = try getObject(bucket: bucket, key: key, options: options) { chunk in
            body.append(contentsOf: chunk)
            return true
        }
        return GetObjectOutput(info: info, body: body)
    }

    /// Streams an object to `write` as it arrives; `write` returns false to abort (`.aborted`).
    /// With `validateChecksum` a mismatch is detected at the end, after the bytes were delivered.
    @discardableResult
    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions(), cancellation: Cancellation? = nil,
                          write: (UnsafeRawBufferPointer) -> Bool) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: "GetObject", method: "GET", bucket: bucket, key: key)
        call.cancellation = cancellation ?? options.cancellation
        call.headers = try Self.getHeaders(options)
        call.isLargeTransfer = true
        // The sink holds `write`; nothing of it may outlive this block.
        let (head, received, check): (ResponseHead, Int64, (algorithm: String, expected: String, actual: String)?)
        do {
            (head, received, check) = try withoutActuallyEscaping(write) { write in
                var sink = StreamingGetSink(write: write, validate: options.validateChecksum && options.range == nil)
                let head = try perform(call, body: .empty, sink: &sink)
                let check = sink.expected.map { (algorithm: $0.0, expected: $0.1, actual: sink.hasher.finalizeBase64()) }
                return (head, sink.received, check)
            }
        } catch { throw error as! R2Error }
        var info = ObjectInfo(head)
        if received != info.contentLength && info.contentLength > 0 {
            throw R2Error(.incompleteBody, "GetObject received \(received) of \(info.contentLength) bytes",
                          httpStatus: head.status, requestID: info.requestID)
        }
        info.contentLength = received
        if let check, check.actual != check.expected {
            throw R2Error(.checksumMismatch, "\(check.algorithm) of the body is \(check.actual) but the server said \(check.expected)",
                          httpStatus: head.status, requestID: info.requestID)
        }
        return info
    }

    /// Reads an object's metadata without its body.
    public func headObject(bucket: String, key: String, options: GetOptions = GetOptions()) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: "HeadObject", method: "HEAD", bucket: bucket, key: key)
        var o = options
        o.range = nil  // R2: Range has no effect on HEAD
        call.headers = try Self.getHeaders(o)
        call.cancellation = options.cancellation
        var sink = BufferSink(limit: 0)
        return ObjectInfo(try perform(call, body: .empty, sink: &sink))
    }

    static func getHeaders(_ o: GetOptions) throws(R2Error) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = []
        if let range = o.range {
            try validateRange(range)
            h.append(("Range", range))
        }
        for (name, value) in [("If-Match", o.ifMatch), ("If-None-Match", o.ifNoneMatch),
                              ("If-Modified-Since", o.ifModifiedSince), ("If-Unmodified-Since", o.ifUnmodifiedSince)] {
            guard let value else { continue }
            try validateHeader((name, value))
            h.append((name, value))
        }
        return h
    }

    /// `bytes=a-b` (a ≤ b), `bytes=a-` or `bytes=-n` (n > 0): one range only.
    static func validateRange(_ range: String) throws(R2Error) {
        let bad = R2Error.invalidArgument("range \"\(Validate.printable(range))\" must be bytes=a-b, bytes=a- or bytes=-n")
        guard range.hasPrefix("bytes=") else { throw bad }
        let spec = range.dropFirst(6)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && $0.count <= 19 }) else { throw bad }
        switch (UInt64(parts[0]), UInt64(parts[1])) {
        case let (a?, b?): guard a <= b else { throw bad }
        case (_?, nil): break
        case let (nil, n?): guard n > 0 else { throw bad }
        case (nil, nil): throw bad
        }
    }

    // MARK: DeleteObject / DeleteObjects

    /// Deletes one object. Deleting a key that does not exist succeeds (S3 semantics).
    @discardableResult
    public func deleteObject(bucket: String, key: String) throws(R2Error) -> ObjectInfo {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var sink = BufferSink(limit: 1 << 16)
        return ObjectInfo(try perform(Call(operation: "DeleteObject", method: "DELETE", bucket: bucket, key: key),
                                      body: .empty, sink: &sink))
    }

    /// Deletes many objects, 1000 per request (larger lists are split into
    /// batches in order). Per-key failures are returned in `errors`, not thrown;
    /// a failed request throws, with the keys of earlier batches already deleted.
    public func deleteObjects(bucket: String, keys: [String], quiet: Bool = false) throws(R2Error) -> DeleteResult {
        try Validate.bucket(bucket)
        for key in keys { try Validate.key(key) }
        guard !keys.isEmpty else { throw R2Error.invalidArgument("no keys to delete") }
        var total = DeleteResult(deleted: [], errors: [])
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + XMLBuilder.maxDeleteObjects, keys.count)]
            let body = try XMLBuilder.deleteObjects(batch.map { ObjectToDelete(key: $0) }, quiet: quiet)
            var call = Call(operation: "DeleteObjects", method: "POST", bucket: bucket)
            call.query = [("delete", "")]
            call.headers = [("Content-Type", "application/xml"),
                            ("Content-MD5", Base64.encode(Digest.md5(body)))]
            call.payloadHash = Hex.encode(Digest.sha256(body))
            let response = try withBytes(body) { (raw) throws(R2Error) in try performBuffered(call, body: .bytes(raw)) }
            let result = try S3XML.parseDeleteResult(response.body)
            total.deleted += result.deleted
            total.errors += result.errors
            start += batch.count
        }
        return total
    }

    // MARK: CopyObject

    /// Copies an object (same or other bucket) on the server, up to 5 GiB.
    /// - Throws: `.preconditionFailed` when a source condition fails, `.noSuchKey`.
    public func copyObject(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                           options: CopyOptions = CopyOptions()) throws(R2Error) -> (result: CopyObjectResult, info: ObjectInfo) {
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: "CopyObject", method: "PUT", bucket: bucket, key: key)
        call.headers = [("x-amz-copy-source", "/" + sourceBucket + "/" + URIEncoding.encode(sourceKey, keepSlash: true))]
        func add(_ name: String, _ value: String?) throws(R2Error) {
            guard let value else { return }
            try Self.validateHeader((name, value))
            call.headers.append((name, value))
        }
        try add("x-amz-copy-source-if-match", options.ifMatch)
        try add("x-amz-copy-source-if-none-match", options.ifNoneMatch)
        try add("x-amz-copy-source-if-modified-since", options.ifModifiedSince)
        try add("x-amz-copy-source-if-unmodified-since", options.ifUnmodifiedSince)
        if options.replaceMetadata {
            call.headers.append(("x-amz-metadata-directive", "REPLACE"))
            try add("Content-Type", options.contentType)
            try add("Cache-Control", options.cacheControl)
            try add("Content-Disposition", options.contentDisposition)
            try add("Content-Encoding", options.contentEncoding)
            call.headers += try Self.metadataHeaders(options.metadata)
        } else if options.contentType != nil || !options.metadata.isEmpty || options.cacheControl != nil
                    || options.contentDisposition != nil || options.contentEncoding != nil {
            throw R2Error.invalidArgument("copy: content headers and metadata need replace_metadata (the COPY directive keeps the source's)")
        }
        let response = try performBuffered(call)
        // S3 may answer 200 with an Error document; the parser raises it.
        return (try S3XML.parseCopyObject(response.body), ObjectInfo(response.head))
    }

    // MARK: ListObjectsV2

    /// One page of ListObjectsV2. Keys are requested URL-encoded (so any key
    /// survives XML) and decoded before they are returned.
    public func listObjects(bucket: String, options: ListOptions = ListOptions()) throws(R2Error) -> ListPage {
        try Validate.bucket(bucket)
        var call = Call(operation: "ListObjectsV2", method: "GET", bucket: bucket)
        call.query = [("list-type", "2"), ("encoding-type", "url")]
        if let v = options.prefix { call.query.append(("prefix", v)) }
        if let v = options.delimiter { call.query.append(("delimiter", v)) }
        if let v = options.startAfter { call.query.append(("start-after", v)) }
        if let v = options.continuationToken { call.query.append(("continuation-token", v)) }
        if let n = options.maxKeys {
            guard (1...1000).contains(n) else { throw R2Error.invalidArgument("max-keys is \(n); it must be 1 to 1000") }
            call.query.append(("max-keys", String(n)))
        }
        let response = try performBuffered(call)
        return ListPage(result: try S3XML.parseListObjectsV2(response.body), requestID: response.head.requestID)
    }

    /// Every object under the options' prefix, fetching pages lazily as the iterator advances.
    public func listAllObjects(bucket: String, options: ListOptions = ListOptions()) -> ListObjectsIterator {
        ListObjectsIterator(client: self, bucket: bucket, options: options)
    }
}

/// Walks every page of a listing. Use from one thread at a time.
public struct ListObjectsIterator {
    let client: R2Client
    let bucket: String
    var options: ListOptions
    var page: [ListBucketResult.Entry] = []
    var index = 0
    var done = false
    /// Common prefixes seen so far (with a delimiter).
    public private(set) var commonPrefixes: [String] = []
    public private(set) var pagesFetched = 0

    init(client: R2Client, bucket: String, options: ListOptions) {
        self.client = client
        self.bucket = bucket
        self.options = options
    }

    /// The next object, nil at the end.
    public mutating func next() throws(R2Error) -> ListBucketResult.Entry? {
        while index == page.count {
            if done { return nil }
            let result = try client.listObjects(bucket: bucket, options: options).result
            pagesFetched += 1
            page = result.contents
            index = 0
            commonPrefixes += result.commonPrefixes
            if result.isTruncated, let token = result.nextContinuationToken, !token.isEmpty {
                options.continuationToken = token
                options.startAfter = nil
            } else {
                done = true
            }
        }
        defer { index += 1 }
        return page[index]
    }
}

/// Delivers a GET body to the caller, counting bytes and hashing when asked.
struct StreamingGetSink: ResponseSink {
    let write: (UnsafeRawBufferPointer) -> Bool
    let validate: Bool
    var received: Int64 = 0
    var hasher = ChecksumHasher(.none)
    var expected: (String, String)?

    init(write: @escaping (UnsafeRawBufferPointer) -> Bool, validate: Bool) {
        self.write = write
        self.validate = validate
    }

    mutating func head(_ head: ResponseHead) {
        guard validate, head.status == 200 else { return }
        // One check is enough: the strongest the server sent.
        for (name, algorithm) in [("sha256", ChecksumAlgorithm.sha256), ("sha1", .sha1), ("crc32c", .crc32c), ("crc32", .crc32)] {
            if let value = head.header("x-amz-checksum-" + name), !value.contains("-") {
                hasher = ChecksumHasher(algorithm)
                expected = (name, value)
                return
            }
        }
    }

    mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
        received += Int64(chunk.count)
        if expected != nil { hasher.update(chunk) }
        return write(chunk)
    }
}

/// RFC 2047 encoded words for metadata values that are not printable ASCII.
enum RFC2047 {
    static func encodeIfNeeded(_ value: String) -> String {
        // Printable ASCII goes as is, unless it reads as encoded words itself
        // ("=?UTF-8?B?aGk=?=" would come back as "hi"; found by fuzzing).
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) && decode(value) == value { return value }
        return "=?UTF-8?B?" + Base64.encode(Array(value.utf8)) + "?="
    }

    /// Decodes `=?UTF-8?B?…?=` and `=?UTF-8?Q?…?=` words; anything else is returned as is.
    static func decode(_ value: String) -> String {
        guard value.hasPrefix("=?"), value.hasSuffix("?=") else { return value }
        var out = [UInt8]()
        for word in value.split(separator: " ") {
            let parts = word.split(separator: "?", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[0] == "=", parts[4] == "=", parts[1].lowercased() == "utf-8" else { return value }
            switch parts[2].uppercased() {
            case "B":
                guard let bytes = Base64.decode(String(parts[3])) else { return value }
                out += bytes
            case "Q":
                var u = Array(parts[3].utf8)[...]
                while let c = u.popFirst() {
                    if c == UInt8(ascii: "_") { out.append(0x20) }
                    else if c == UInt8(ascii: "="), u.count >= 2, let b = UInt8(String(decoding: u.prefix(2), as: UTF8.self), radix: 16) {
                        out.append(b); u = u.dropFirst(2)
                    } else { out.append(c) }
                }
            default: return value
            }
        }
        return String(validating: out, as: UTF8.self) ?? value
    }
}

/// `Array.withUnsafeBytes` with a typed throw.
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(R2Error) -> R) throws(R2Error) -> R {
    do { return try bytes.withUnsafeBytes { raw in try body(raw) } } catch { throw error as! R2Error }
}
