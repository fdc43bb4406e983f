import Glibc

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
    /// Encrypt with this customer key (SSE-C); reads then need it too.
    public var sseCustomerKey: SSECustomerKey?
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
    /// The customer key the object was written with (SSE-C).
    public var sseCustomerKey: SSECustomerKey?
    /// Stops the call from any thread (it fails with `.cancelled`).
    public var cancellation: Cancellation?
    /// The object's size when known (a transfer's HEAD): the answer's
    /// Content-Range must then name exactly this total.
    var objectSize: UInt64?
    /// The body is large (a transfer's part or big object): bigger transport buffers.
    var isBulkBody = false

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
            let name = asciiLowercase(rawName)
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
    /// SSE-C: the key to encrypt the copy with, and the key the source was written with.
    public var sseCustomerKey: SSECustomerKey?
    public var sourceSSECustomerKey: SSECustomerKey?

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
        try run(putObjectExchange(bucket: bucket, key: key, body: body, options: options))
    }

    /// PutObject of bytes; `body` must stay valid until the exchange is over.
    package func putObjectExchange(bucket: String, key: String, body: UnsafeRawBufferPointer,
                                   options: PutOptions = PutOptions()) throws(R2Error) -> Exchange<BufferSink, ObjectInfo> {
        try Validate.bucket(bucket)
        try Validate.key(key)
        try Self.checkSinglePutSize(UInt64(body.count))
        var call = Call(operation: .putObject, method: "PUT", bucket: bucket, key: key)
        call.headers = try Self.putHeaders(options)
        if options.checksum != .none, let name = options.checksum.headerName {
            call.headers.append((name, options.checksumValue ?? ChecksumHasher.base64(options.checksum, of: body)))
        }
        call.payloadHash = (options.payloadMode ?? config.payloadMode) == .signed
            ? Payload.sha256Hex(body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
            : SigV4Signer.unsignedPayload
        call.isLargeTransfer = body.count > 8 * 1024 * 1024
        call.cancellation = options.cancellation
        var put = Exchange(call: call, body: .bytes(body), sink: BufferSink(limit: 1 << 20)) { head, _ in ObjectInfo(head) }
        let conditional = [options.ifMatch, options.ifNoneMatch, options.ifModifiedSince, options.ifUnmodifiedSince]
            .contains { !($0 ?? "").isEmpty }
        // SSE-C objects' ETags are not MD5s of their bytes: nothing to compare then.
        if conditional && options.sseCustomerKey == nil {
            put.afterLostAnswer = { [self] failure in
                self.lostPutResolution(bucket: bucket, key: key, body: body, failure: failure, cancellation: options.cancellation)
            }
        }
        return put
    }

    /// After a conditional PUT failed its condition following an attempt whose
    /// answer was lost: a HEAD of the key. The object is this PUT's when its
    /// ETag is the MD5 of `body`, and the PUT succeeded; otherwise the failure
    /// stands, saying that the lost attempt did not write the object. A plain
    /// re-send reports the PreconditionFailed its own first write caused (a
    /// "create if absent" caller would think another writer won).
    private func lostPutResolution(bucket: String, key: String, body: UnsafeRawBufferPointer, failure: R2Error,
                                   cancellation: Cancellation?) -> Exchange<BufferSink, ObjectInfo>? {
        var options = GetOptions()
        options.cancellation = cancellation
        guard var head = try? headObjectExchange(bucket: bucket, key: key, options: options) else { return nil }
        let md5 = Hex.encode(Digest.md5(body))
        head.finish = { (head, _) throws(R2Error) -> ObjectInfo in
            let info = ObjectInfo(head)
            guard MultipartLimits.bareETag(info.etag) == md5 else {
                throw failure.withMessage(failure.message + "; the object's ETag \(info.etag) is not this body's MD5: the lost attempt did not write it")
            }
            return info
        }
        // The HEAD's own failure (404: no object, a network error) leaves the
        // PUT's; the finish's PreconditionFailed above passes through.
        head.failure = { error, _ in error.code == .preconditionFailed ? error : failure }
        return head
    }

    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8],
                          options: PutOptions = PutOptions()) throws(R2Error) -> ObjectInfo {
        try withBytes(body) { (raw) throws(R2Error) in try putObject(bucket: bucket, key: key, body: raw, options: options) }
    }

    /// Uploads `length` bytes produced by `read` (which fills the buffer and
    /// returns the count, 0 at the end, or throws to abort). The body is sent
    /// `UNSIGNED-PAYLOAD`; a checksum needs `options.checksumValue`.
    /// With `rewind` (which starts the source again from its first byte: a
    /// file, a seekable stream) a failed attempt is re-sent per the retry
    /// policy (429, 5xx, network); without it the source is one-shot and is not
    /// retried once any of it was read (the error says so).
    /// - Throws: `.incompleteBody` when `read` ends early or gives more than `length`.
    @discardableResult
    public func putObject(bucket: String, key: String, length: UInt64, options: PutOptions = PutOptions(),
                          rewind: (() throws(R2Error) -> Void)? = nil,
                          read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> ObjectInfo {
        do {
            return try withoutActuallyEscaping(read) { read in
                try run(putObjectExchange(bucket: bucket, key: key, length: length, options: options, rewind: rewind, read: read))
            }
        } catch { throw error as! R2Error }
    }

    /// PutObject of `length` bytes from `read` (see above); in an asynchronous
    /// operation `read` may return `RequestBody.readPaused`.
    package func putObjectExchange(bucket: String, key: String, length: UInt64, options: PutOptions = PutOptions(),
                                   rewind: (() throws(R2Error) -> Void)? = nil,
                                   read: @escaping (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int)
        throws(R2Error) -> Exchange<BufferSink, ObjectInfo>
    {
        try Validate.bucket(bucket)
        try Validate.key(key)
        try Self.checkSinglePutSize(length)
        var call = Call(operation: .putObject, method: "PUT", bucket: bucket, key: key)
        call.headers = try Self.putHeaders(options)
        if options.checksum != .none, let name = options.checksum.headerName {
            guard let value = options.checksumValue else {
                throw R2Error.invalidArgument("a streamed put cannot compute \(name) before sending; pass its value (checksum_value)")
            }
            call.headers.append((name, value))
        }
        call.payloadHash = SigV4Signer.unsignedPayload
        call.isLargeTransfer = length > 8 * 1024 * 1024
        call.isBulkBody = length >= Self.bulkBodyBytes
        call.cancellation = options.cancellation
        call.rewindBody = rewind
        return Exchange(call: call, body: .stream(length: length, read: read), sink: BufferSink(limit: 1 << 20)) { head, _ in ObjectInfo(head) }
    }

    /// From this size on a body moves through the transport's larger buffers.
    static let bulkBodyBytes: UInt64 = 1 << 20

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
            guard let value, !value.isEmpty else { return }  // empty means not set: R2 refuses empty header values
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
        if let sc = o.storageClass, !sc.isEmpty {
            guard sc == "STANDARD" || sc == "STANDARD_IA" else {
                throw R2Error.invalidArgument("storage class \"\(Validate.printable(sc))\" is not one of R2's: STANDARD or STANDARD_IA")
            }
            h.append(("x-amz-storage-class", sc))
        }
        try h += metadataHeaders(o.metadata)
        if let key = o.sseCustomerKey { h += key.headers() }
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
        guard total <= 8192 else { throw R2Error(.metadataTooLarge, "user metadata is \(total) bytes (names and values); R2 allows 8192") }
        return h
    }

    // MARK: GetObject / HeadObject

    /// Reads an object (or a range of it) into memory.
    /// - Throws: `.noSuchKey`, `.notModified`, `.preconditionFailed`, `.invalidRange`,
    ///   `.checksumMismatch` (whole-object reads with `validateChecksum`).
    /// The body is bounded by `config.maxGetBytes`: a larger object (or an
    /// endless body) fails with `.entityTooLarge` after at most that many bytes;
    /// stream large objects instead.
    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions()) throws(R2Error) -> GetObjectOutput {
        var body: [UInt8] = []
        let cap = config.maxGetBytes
        var over = false
        do {
            let info = try getObject(bucket: bucket, key: key, options: options, announced: { length in
                // Refused before any byte is kept when the announced length is already too large.
                if length > cap { over = true; return false }
                body.reserveCapacity(Int(min(length, 64 << 20)))  // a claim, not yet bytes: reserve a bounded amount
                return true
            }) { chunk in
                guard UInt64(body.count + chunk.count) <= cap else { over = true; return false }
                body.append(contentsOf: chunk)
                return true
            }
            return GetObjectOutput(info: info, body: body)
        } catch {
            guard over else { throw error }
            throw R2Error(.entityTooLarge, "\(bucket)/\(key) is larger than the in-memory limit of \(cap) bytes (max_get_bytes); stream it instead",
                          httpStatus: error.httpStatus, requestID: error.requestID)
        }
    }

    /// The body in one `malloc`'d buffer with a NUL after it, which the C ABI
    /// hands to its caller as is: reserved from the Content-Length and filled
    /// as the bytes arrive, so each byte is copied once. The caller `free`s it.
    package func getObjectMalloced(bucket: String, key: String, options: GetOptions = GetOptions())
        throws(R2Error) -> (info: ObjectInfo, body: UnsafeMutablePointer<UInt8>, count: Int)
    {
        try run(getObjectMallocedExchange(bucket: bucket, key: key, options: options))
    }

    /// GetObject into one `malloc`'d buffer (see `getObjectMalloced`).
    package func getObjectMallocedExchange(bucket: String, key: String, options: GetOptions = GetOptions())
        throws(R2Error) -> Exchange<StreamingGetSink, (info: ObjectInfo, body: UnsafeMutablePointer<UInt8>, count: Int)>
    {
        let cap = config.maxGetBytes
        let b = MallocBody()
        let get = try getObjectExchange(bucket: bucket, key: key, options: options, announced: { length in
            // Refused before any byte is kept when the announced length is already too large.
            if length > cap { b.over = true; return false }
            return b.reserve(Int(min(length, 64 << 20)))  // a claim, not yet bytes: reserve a bounded amount
        }) { chunk in
            guard UInt64(b.count + chunk.count) <= cap else { b.over = true; return .aborted }
            guard b.reserve(b.count + chunk.count <= b.capacity ? b.capacity : max(b.count + chunk.count, b.capacity * 2)) else { return .aborted }
            if chunk.count > 0 { memcpy(b.buffer! + b.count, chunk.baseAddress!, chunk.count) }
            b.count += chunk.count
            return .accepted
        }
        return get.map({ (info) throws(R2Error) in
            guard b.reserve(b.count) else { throw R2Error(.libraryBug, "out of memory for a \(b.count)-byte body") }
            b.buffer![b.count] = 0
            let body = b.buffer!
            b.buffer = nil  // handed over
            return (info, body, b.count)
        }, failure: { error in
            free(b.buffer)
            b.buffer = nil
            if b.outOfMemory { return R2Error(.libraryBug, "out of memory for the body of \(bucket)/\(key)") }
            guard b.over else { return error }
            return R2Error(.entityTooLarge, "\(bucket)/\(key) is larger than the in-memory limit of \(cap) bytes (max_get_bytes); stream it instead",
                           httpStatus: error.httpStatus, requestID: error.requestID)
        })
    }

    /// Streams an object to `write` as it arrives; `write` returns false to abort (`.aborted`).
    /// With `validateChecksum` a mismatch is detected at the end, after the bytes were delivered.
    @discardableResult
    public func getObject(bucket: String, key: String, options: GetOptions = GetOptions(), cancellation: Cancellation? = nil,
                          write: (UnsafeRawBufferPointer) -> Bool) throws(R2Error) -> ObjectInfo {
        try getObject(bucket: bucket, key: key, options: options, cancellation: cancellation, announced: { _ in true }, write: write)
    }

    /// `announced` sees the response's Content-Length before any body byte and may refuse it (false aborts).
    func getObject(bucket: String, key: String, options: GetOptions, cancellation: Cancellation? = nil,
                   announced: (UInt64) -> Bool, write: (UnsafeRawBufferPointer) -> Bool) throws(R2Error) -> ObjectInfo {
        // The sink holds `write`; nothing of it may outlive this block.
        do {
            return try withoutActuallyEscaping(write) { write in
                try withoutActuallyEscaping(announced) { announced in
                    try run(getObjectExchange(bucket: bucket, key: key, options: options, cancellation: cancellation,
                                              announced: announced) { write($0) ? .accepted : .aborted })
                }
            }
        } catch { throw error as! R2Error }
    }

    /// GetObject streamed to `write` (which may pause an asynchronous operation).
    package func getObjectExchange(bucket: String, key: String, options: GetOptions, cancellation: Cancellation? = nil,
                                   announced: @escaping (UInt64) -> Bool = { _ in true },
                                   write: @escaping (UnsafeRawBufferPointer) -> SinkVerdict) throws(R2Error) -> Exchange<StreamingGetSink, ObjectInfo> {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: .getObject, method: "GET", bucket: bucket, key: key)
        call.cancellation = cancellation ?? options.cancellation
        call.headers = try Self.getHeaders(options)
        call.isLargeTransfer = true
        call.isBulkBody = options.isBulkBody
        let expected = try options.range.map { (r) throws(R2Error) in try RequestedRange(r, objectSize: options.objectSize) }
        var sink = StreamingGetSink(write: write, validate: options.validateChecksum && options.range == nil)
        sink.expectedRange = expected
        sink.announced = announced
        var e = Exchange(call: call, sink: sink) { (head, sink) throws(R2Error) -> ObjectInfo in
            if let rangeProblem = sink.rangeProblem {
                throw R2Error(.malformedResponse, "GetObject \(bucket)/\(key): \(rangeProblem)", httpStatus: head.status, requestID: head.requestID)
            }
            if let expected, head.status != 206 || head.header("content-range") == nil {
                // An empty 2xx body never reached the sink's checks.
                throw R2Error(.malformedResponse, "GetObject \(bucket)/\(key): asked \(expected.asked), the server answered HTTP \(head.status) without that range",
                              httpStatus: head.status, requestID: head.requestID)
            }
            var info = ObjectInfo(head)
            if sink.received != info.contentLength && info.contentLength > 0 {
                throw R2Error(.incompleteBody, "GetObject received \(sink.received) of \(info.contentLength) bytes",
                              httpStatus: head.status, requestID: info.requestID)
            }
            info.contentLength = sink.received
            if let (algorithm, expectedValue) = sink.expected {
                let actual = sink.hasher.finalizeBase64()
                if actual != expectedValue {
                    throw R2Error(.checksumMismatch, "\(algorithm) of the body is \(actual) but the server said \(expectedValue)",
                                  httpStatus: head.status, requestID: info.requestID)
                }
            }
            return info
        }
        e.failure = { error, sink in
            guard let rangeProblem = sink.rangeProblem, error.code != .malformedResponse else { return error }
            return R2Error(.malformedResponse, "GetObject \(bucket)/\(key): \(rangeProblem)", httpStatus: error.httpStatus, requestID: error.requestID)
        }
        return e
    }

    /// Reads an object's metadata without its body.
    public func headObject(bucket: String, key: String, options: GetOptions = GetOptions()) throws(R2Error) -> ObjectInfo {
        try run(headObjectExchange(bucket: bucket, key: key, options: options))
    }

    package func headObjectExchange(bucket: String, key: String, options: GetOptions = GetOptions()) throws(R2Error) -> Exchange<BufferSink, ObjectInfo> {
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: .headObject, method: "HEAD", bucket: bucket, key: key)
        var o = options
        o.range = nil  // R2: Range has no effect on HEAD
        call.headers = try Self.getHeaders(o)
        call.cancellation = options.cancellation
        return Exchange(call: call, sink: BufferSink(limit: 0)) { head, _ in ObjectInfo(head) }
    }

    static func getHeaders(_ o: GetOptions) throws(R2Error) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = []
        if let range = o.range {
            try validateRange(range)
            h.append(("Range", range))
        }
        for (name, value) in [("If-Match", o.ifMatch), ("If-None-Match", o.ifNoneMatch),
                              ("If-Modified-Since", o.ifModifiedSince), ("If-Unmodified-Since", o.ifUnmodifiedSince)] {
            guard let value, !value.isEmpty else { continue }
            try validateHeader((name, value))
            h.append((name, value))
        }
        if let key = o.sseCustomerKey { h += key.headers() }
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
        try run(deleteObjectExchange(bucket: bucket, key: key))
    }

    package func deleteObjectExchange(bucket: String, key: String) throws(R2Error) -> Exchange<BufferSink, ObjectInfo> {
        try Validate.bucket(bucket)
        try Validate.key(key)
        return Exchange(call: Call(operation: .deleteObject, method: "DELETE", bucket: bucket, key: key),
                        sink: BufferSink(limit: 1 << 16)) { head, _ in ObjectInfo(head) }
    }

    /// Deletes many objects, 1000 per request (larger lists are split into
    /// batches in order). Per-key failures are returned in `errors`, not thrown;
    /// a failed request throws, with the keys of earlier batches already deleted.
    public func deleteObjects(bucket: String, keys: [String], quiet: Bool = false) throws(R2Error) -> DeleteResult {
        try Validate.bucket(bucket)
        for key in keys { try Validate.key(key) }
        guard !keys.isEmpty else { throw R2Error.invalidArgument("no keys to delete") }
        var total = DeleteResult(deleted: [], errors: [])
        for batch in Self.deleteBatches(keys) {
            let body = try XMLBuilder.deleteObjects(batch.map { ObjectToDelete(key: $0) }, quiet: quiet)
            let result = try withBytes(body) { (raw) throws(R2Error) in try run(deleteObjectsExchange(bucket: bucket, body: raw)) }
            total.deleted += result.deleted
            total.errors += result.errors
        }
        return total
    }

    /// DeleteObjects on the engine, as `deleteObjects`: the batches one after
    /// another; `done` runs once on the op's loop thread.
    package func startDeleteObjects(bucket: String, keys: [String], quiet: Bool, op: AsyncOp,
                                    done: @escaping (Result<DeleteResult, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        for key in keys { try Validate.key(key) }
        guard !keys.isEmpty else { throw R2Error.invalidArgument("no keys to delete") }
        var bodies: [OwnedBytes] = []
        for batch in Self.deleteBatches(keys) {
            bodies.append(OwnedBytes(try XMLBuilder.deleteObjects(batch.map { ObjectToDelete(key: $0) }, quiet: quiet)))
        }
        var total = DeleteResult(deleted: [], errors: [])
        func next(_ i: Int) {
            guard i < bodies.count else { return done(.success(total)) }
            start(deleteObjectsExchange(bucket: bucket, body: bodies[i].bytes), op: op) { result in
                switch result {
                case .success(let r):
                    total.deleted += r.deleted
                    total.errors += r.errors
                    next(i + 1)
                case .failure(let e):
                    done(.failure(e))
                }
            }
        }
        next(0)
    }

    /// Keys in DeleteObjects batches of at most 1000, in order.
    package static func deleteBatches(_ keys: [String]) -> [ArraySlice<String>] {
        stride(from: 0, to: keys.count, by: XMLBuilder.maxDeleteObjects).map { keys[$0..<min($0 + XMLBuilder.maxDeleteObjects, keys.count)] }
    }

    /// One DeleteObjects request with its XML `body` (valid until the exchange is over).
    package func deleteObjectsExchange(bucket: String, body: UnsafeRawBufferPointer) -> Exchange<BufferSink, DeleteResult> {
        var call = Call(operation: .deleteObjects, method: "POST", bucket: bucket)
        call.query = [("delete", "")]
        call.headers = [("Content-Type", "application/xml"),
                        ("Content-MD5", Base64.encode(Digest.md5(Array(body))))]
        call.payloadHash = Hex.encode(Digest.sha256(Array(body)))
        return bufferedExchange(call, body: .bytes(body)).map { (response) throws(R2Error) in try self.parse(response, S3XML.parseDeleteResult) }
    }

    // MARK: CopyObject

    /// Copies an object (same or other bucket) on the server, up to 5 GiB.
    /// - Throws: `.preconditionFailed` when a source condition fails, `.noSuchKey`.
    public func copyObject(sourceBucket: String, sourceKey: String, bucket: String, key: String,
                           options: CopyOptions = CopyOptions()) throws(R2Error) -> (result: CopyObjectResult, info: ObjectInfo) {
        try run(copyObjectExchange(sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options))
    }

    package func copyObjectExchange(sourceBucket: String, sourceKey: String, bucket: String, key: String, options: CopyOptions = CopyOptions())
        throws(R2Error) -> Exchange<BufferSink, (result: CopyObjectResult, info: ObjectInfo)>
    {
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        try Validate.bucket(bucket)
        try Validate.key(key)
        var call = Call(operation: .copyObject, method: "PUT", bucket: bucket, key: key)
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
        if let k = options.sseCustomerKey { call.headers += k.headers() }
        if let k = options.sourceSSECustomerKey { call.headers += k.headers(copySource: true) }
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
        // S3 may answer 200 with an Error document; the parser raises it.
        return bufferedExchange(call).map { (response) throws(R2Error) in
            (try self.parse(response, S3XML.parseCopyObject), ObjectInfo(response.head))
        }
    }

    // MARK: ListObjectsV2

    /// One page of ListObjectsV2. Keys are requested URL-encoded (so any key
    /// survives XML) and decoded before they are returned.
    public func listObjects(bucket: String, options: ListOptions = ListOptions()) throws(R2Error) -> ListPage {
        let page = try objectListing(bucket: bucket, options: options)
        return ListPage(result: page.result(), requestID: page.string(page.requestID))
    }

    package func listObjectsExchange(bucket: String, options: ListOptions = ListOptions()) throws(R2Error) -> Exchange<BufferSink, ListPage> {
        try objectListingExchange(bucket: bucket, options: options).map { page in
            ListPage(result: page.result(), requestID: page.string(page.requestID))
        }
    }

    /// One page of ListObjectsV2 in its compact form (no String per entry), as
    /// `listObjects` and the C ABI read it.
    package func objectListing(bucket: String, options: ListOptions = ListOptions()) throws(R2Error) -> ObjectListing {
        try run(objectListingExchange(bucket: bucket, options: options))
    }

    package func objectListingExchange(bucket: String, options: ListOptions = ListOptions()) throws(R2Error)
        -> Exchange<BufferSink, ObjectListing>
    {
        try Validate.bucket(bucket)
        var call = Call(operation: .listObjectsV2, method: "GET", bucket: bucket)
        call.query = [("list-type", "2"), ("encoding-type", "url")]
        if let v = options.prefix { call.query.append(("prefix", v)) }
        if let v = options.delimiter { call.query.append(("delimiter", v)) }
        if let v = options.startAfter { call.query.append(("start-after", v)) }
        if let v = options.continuationToken { call.query.append(("continuation-token", v)) }
        if let n = options.maxKeys {
            guard (1...1000).contains(n) else { throw R2Error.invalidArgument("max-keys is \(n); it must be 1 to 1000") }
            call.query.append(("max-keys", String(n)))
        }
        return bufferedExchange(call, limit: Self.maxListingBytes).map { (response) throws(R2Error) -> ObjectListing in
            let page = try self.parse(response, S3XML.parseObjectListing)
            // S3 counts keys and common prefixes together against max-keys (at most 1000).
            guard page.entries.count + page.commonPrefixes.count <= (options.maxKeys ?? 1000) else {
                throw R2Error(.malformedResponse, "ListObjectsV2 returned \(page.entries.count) keys and \(page.commonPrefixes.count) prefixes; "
                              + "max-keys is \(options.maxKeys ?? 1000)", httpStatus: response.head.status, requestID: response.head.requestID)
            }
            page.setRequestID(response.head.requestID)
            return page
        }
    }

    /// The largest listing page read (ListObjectsV2, ListParts, ListMultipartUploads):
    /// 1000 entries of 1024-byte keys, URL-encoded, fit in well under this.
    package static let maxListingBytes = 16 * 1024 * 1024

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
    var page: ObjectListing?
    var index = 0
    var done = false
    /// Common prefixes seen so far (with a delimiter).
    public private(set) var commonPrefixes: [String] = []
    public private(set) var pagesFetched = 0
    var progress = ListingProgress()

    init(client: R2Client, bucket: String, options: ListOptions) {
        self.client = client
        self.bucket = bucket
        self.options = options
    }

    /// The next object, nil at the end.
    public mutating func next() throws(R2Error) -> ListBucketResult.Entry? {
        guard let (page, i) = try nextInPage() else { return nil }
        return page.entry(i)
    }

    /// The next object as its page and its index there (no String made), nil at the end.
    package mutating func nextInPage() throws(R2Error) -> (ObjectListing, Int)? {
        while index == (page?.entries.count ?? 0) {
            if done { return nil }
            let next = try client.objectListing(bucket: bucket, options: options)
            try progress.check(next, sentToken: options.continuationToken)
            pagesFetched += 1
            page = next
            index = 0
            commonPrefixes += next.commonPrefixes.map(next.string)
            if next.isTruncated, let token = next.nextContinuationToken, token.count > 0 {
                options.continuationToken = next.string(token)
                options.startAfter = nil
            } else {
                done = true
            }
        }
        defer { index += 1 }
        return (page!, index)
    }
}

/// The range a GET asked for, and what a 206 must then say in Content-Range.
struct RequestedRange {
    let asked: String
    /// `bytes=a-b` → (a, b); `bytes=a-` → (a, nil); `bytes=-n` → (nil, n).
    let first: UInt64?
    let last: UInt64?
    let objectSize: UInt64?

    init(_ range: String, objectSize: UInt64?) throws(R2Error) {
        try R2Client.validateRange(range)
        asked = range
        let parts = range.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        first = UInt64(parts[0])
        last = UInt64(parts[1])
        self.objectSize = objectSize
    }

    /// Why a response's head does not answer this range, or nil when it does:
    /// a 206 whose `Content-Range: bytes a-b/total` is the range asked (the end
    /// clamped to the object), and whose length agrees.
    func problem(_ head: ResponseHead) -> String? {
        guard head.status == 206 else { return "asked \(asked), the server answered HTTP \(head.status) instead of 206" }
        guard let value = head.header("content-range"), let (a, b, total) = ContentRange.parse(value) else {
            return "asked \(asked), the server's 206 has no readable Content-Range (\(Validate.printable(head.header("content-range") ?? "none")))"
        }
        let wrong = "asked \(asked), the server answered Content-Range \(Validate.printable(value))"
        if let objectSize, total != objectSize { return wrong + " (the object is \(objectSize) bytes)" }
        if let total, b >= total { return wrong }
        switch (first, last) {
        case let (f?, l?):
            // The end may be clamped to the object's last byte, never moved otherwise.
            guard a == f, b == l || (b < l && total.map { b == $0 - 1 } ?? false) else { return wrong }
        case let (f?, nil):
            guard a == f, total.map({ b == $0 - 1 }) ?? true else { return wrong }
        case let (nil, n?):
            guard let total, b == total - 1, a == total - min(n, total) else { return wrong }
        case (nil, nil):
            return wrong
        }
        if let length = head.header("content-length").flatMap({ UInt64($0.trimmingSpaces()) }), length != b - a + 1 {
            return wrong + " with Content-Length \(length)"
        }
        return nil
    }

    /// The bytes the answer may carry (after `problem` found none).
    func length(_ head: ResponseHead) -> UInt64 {
        guard let (a, b, _) = head.header("content-range").flatMap(ContentRange.parse) else { return 0 }
        return b - a + 1
    }
}

/// `Content-Range: bytes first-last/total` (total may be `*`).
enum ContentRange {
    static func parse(_ value: String) -> (first: UInt64, last: UInt64, total: UInt64?)? {
        let v = value.trimmingSpaces()
        guard v.hasPrefix("bytes ") else { return nil }
        let halves = v.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else { return nil }
        let ends = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let a = digits(ends[0]), let b = digits(ends[1]), a <= b else { return nil }
        if halves[1] == "*" { return (a, b, nil) }
        guard let total = digits(halves[1]), b < total else { return nil }
        return (a, b, total)
    }

    private static func digits(_ s: Substring) -> UInt64? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(s)
    }
}

/// Refuses a listing that does not advance, which would otherwise loop
/// forever: every loop over ListObjectsV2 pages checks each page with it.
package struct ListingProgress {
    /// The greatest key or prefix so far (UTF-8): the next page must start after it.
    private var lastName: [UInt8]?

    package init() {}

    /// - Throws: `.malformedResponse` when `page` hands back the token it was
    ///   asked with, or does not start after the previous page (keys and
    ///   common prefixes come in UTF-8 byte order across pages).
    package mutating func check(_ page: ListBucketResult, sentToken: String?) throws(R2Error) {
        try check(nextToken: page.isTruncated ? page.nextContinuationToken : nil, sentToken: sentToken,
                  names: page.contents.lazy.map(\.key.utf8) + page.commonPrefixes.lazy.map(\.utf8))
    }

    /// `check` for a page in its compact form.
    package mutating func check(_ page: ObjectListing, sentToken: String?) throws(R2Error) {
        try check(nextToken: page.isTruncated ? page.nextContinuationToken.map(page.string) : nil, sentToken: sentToken,
                  names: page.entries.lazy.map { page.buffer($0.key) } + page.commonPrefixes.lazy.map(page.buffer))
    }

    private mutating func check<Name: Collection<UInt8>>(nextToken: String?, sentToken: String?, names: [Name]) throws(R2Error) {
        if let token = nextToken, token == sentToken {
            throw R2Error(.malformedResponse, "ListObjectsV2 returned the same continuation token again (the listing does not advance)")
        }
        let byBytes: (Name, Name) -> Bool = { $0.lexicographicallyPrecedes($1) }
        if let previous = lastName, let first = names.min(by: byBytes), !previous.lexicographicallyPrecedes(first) {
            let firstText = String(decoding: first, as: UTF8.self), previousText = String(decoding: previous, as: UTF8.self)
            throw R2Error(.malformedResponse, "a ListObjectsV2 page starts at \"\(Validate.printable(firstText))\", not after "
                          + "\"\(Validate.printable(previousText))\" where the last page ended (the listing does not advance)")
        }
        if let last = names.max(by: byBytes) { lastName = Array(last) }
    }
}

/// Delivers a GET body to the caller, counting bytes and hashing when asked.
/// With a requested range nothing is written unless the answer is that range.
package struct StreamingGetSink: ResponseSink {
    let write: (UnsafeRawBufferPointer) -> SinkVerdict
    let validate: Bool
    var received: Int64 = 0
    var hasher = ChecksumHasher(.none)
    var expected: (String, String)?
    var expectedRange: RequestedRange?
    var announced: (UInt64) -> Bool = { _ in true }
    var rangeProblem: String?
    /// Bytes the head allows (the range's length, else Content-Length); more is refused.
    var allowed: UInt64 = .max
    /// `announced` refused the length: nothing is written.
    var refused = false

    init(write: @escaping (UnsafeRawBufferPointer) -> SinkVerdict, validate: Bool) {
        self.write = write
        self.validate = validate
    }

    package mutating func head(_ head: ResponseHead) {
        if let length = head.header("content-length").flatMap({ UInt64($0.trimmingSpaces()) }) { allowed = length }
        if let expectedRange {
            rangeProblem = expectedRange.problem(head)
            if rangeProblem == nil { allowed = expectedRange.length(head) }
        }
        if rangeProblem == nil, allowed != .max, !announced(allowed) { refused = true }
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

    package mutating func body(_ chunk: UnsafeRawBufferPointer) -> Bool { offer(chunk) == .accepted }

    package mutating func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict {
        if rangeProblem != nil || refused { return .aborted }
        guard UInt64(received) + UInt64(chunk.count) <= allowed else {
            rangeProblem = "the body is longer than the \(allowed) bytes its head announced"
            return .aborted
        }
        let verdict = write(chunk)
        guard verdict == .accepted else { return verdict }  // a paused chunk comes again
        received += Int64(chunk.count)
        if expected != nil { hasher.update(chunk) }
        return .accepted
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

/// A customer-provided encryption key (SSE-C): 32 bytes. R2 encrypts the
/// object with it and needs it again on every read, copy and part. r2 sends
/// `x-amz-server-side-encryption-customer-algorithm: AES256`, the key in base64
/// and its MD5; the key never appears in logs, errors or recordings.
public struct SSECustomerKey: Sendable, CustomStringConvertible {
    let keyBase64: String
    let md5Base64: String

    /// - Throws: `.invalidArgument` unless `key` is 32 bytes.
    public init(_ key: [UInt8]) throws(R2Error) {
        guard key.count == 32 else {
            throw R2Error.invalidArgument("an SSE-C key is 32 bytes (AES-256), not \(key.count)")
        }
        keyBase64 = Base64.encode(key)
        md5Base64 = Base64.encode(Digest.md5(key))
    }

    public var description: String { "SSECustomerKey(<redacted>)" }

    /// The three headers, for the object (`x-amz-server-side-encryption-customer-*`)
    /// or for a copy's source (`x-amz-copy-source-server-side-encryption-customer-*`).
    /// Pass them to `presign(headers:)` to sign them into a URL.
    public func headers(copySource: Bool = false) -> [(name: String, value: String)] {
        let p = copySource ? "x-amz-copy-source-server-side-encryption-customer-" : "x-amz-server-side-encryption-customer-"
        return [(p + "algorithm", "AES256"), (p + "key", keyBase64), (p + "key-MD5", md5Base64)]
    }

    /// Header names whose values are secret (redacted from logs and recordings).
    static let secretHeaders: Set<String> = ["x-amz-server-side-encryption-customer-key",
                                             "x-amz-copy-source-server-side-encryption-customer-key"]
}

/// The growing body of an in-memory GET, in one `malloc`'d buffer.
final class MallocBody {
    var buffer: UnsafeMutablePointer<UInt8>? = nil
    var capacity = 0, count = 0
    var over = false, outOfMemory = false

    func reserve(_ n: Int) -> Bool {
        guard n > capacity || buffer == nil else { return true }
        guard let p = realloc(buffer, n + 1) else { outOfMemory = true; return false }
        buffer = p.assumingMemoryBound(to: UInt8.self)
        capacity = n
        return true
    }

    deinit { free(buffer) }
}

/// A copy of some bytes at a stable address, for a request body of an
/// asynchronous operation (freed with the last reference).
final class OwnedBytes {
    let bytes: UnsafeRawBufferPointer

    init(_ array: [UInt8]) {
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(array.count, 1), alignment: 16)
        array.withUnsafeBytes { if $0.count > 0 { b.copyMemory(from: $0) } }
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[0..<array.count])
    }

    deinit { bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() } }
}
