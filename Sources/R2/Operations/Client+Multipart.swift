import Synchronization

/// The low-level multipart API: create, upload part (bytes, stream or copy),
/// complete, abort, list parts, list uploads; and R2's part-size rules,
/// checked on the client before anything is sent.

/// R2's multipart limits.
public enum MultipartLimits {
    public static let minPartSize: UInt64 = 5 * 1024 * 1024
    /// R2's largest part (and single PUT): 5 GiB less 5 MiB (R2-FACTS, Limits).
    public static let maxPartSize: UInt64 = 5 * 1024 * 1024 * 1024 - 5 * 1024 * 1024
    public static let maxParts = 10_000
    /// R2's largest object: 5 TiB less 5 GiB (R2-FACTS: 4.995 TiB).
    public static let maxObjectSize: UInt64 = 5 * 1024 * 1024 * 1024 * 1024 - 5 * 1024 * 1024 * 1024

    /// Checks a whole upload's part sizes (in part order) against R2's rules:
    /// 1 to 10 000 parts, each at most 5 GiB - 5 MiB, every part but the last the same
    /// size and at least 5 MiB, the last no larger. R2 itself only says
    /// "InvalidPart: All non-trailing parts must have the same length" at
    /// Complete, after every byte was sent.
    public static func validate(partSizes: [UInt64]) throws(R2Error) {
        guard !partSizes.isEmpty else { throw R2Error(.invalidPart, "a multipart upload needs at least one part") }
        guard partSizes.count <= maxParts else {
            throw R2Error(.invalidPart, "\(partSizes.count) parts; R2 allows at most \(maxParts)")
        }
        let uniform = partSizes[0]
        for (i, size) in partSizes.enumerated() {
            let number = i + 1
            guard size <= maxPartSize else {
                throw R2Error(.entityTooLarge, "part \(number) is \(size) bytes; the maximum is \(maxPartSize) (5 GiB - 5 MiB)")
            }
            if number < partSizes.count {
                guard size >= minPartSize else {
                    throw R2Error(.entityTooSmall, "part \(number) is \(size) bytes; every part but the last needs at least \(minPartSize) (5 MiB)")
                }
                guard size == uniform else {
                    throw R2Error(.invalidPart, "part \(number) is \(size) bytes but part 1 is \(uniform): R2 needs every part but the last to have the same size")
                }
            } else if partSizes.count > 1, size > uniform {
                throw R2Error(.invalidPart, "the last part (\(number)) is \(size) bytes, larger than the other parts (\(uniform)): R2 refuses that")
            }
        }
    }

    /// One uniform part size for an object of `size` bytes: `preferred` when
    /// it fits in 10 000 parts, else the smallest whole MiB that does.
    /// - Throws: `.entityTooLarge` above R2's maximum object size.
    public static func partSize(for size: UInt64, preferred: UInt64) throws(R2Error) -> UInt64 {
        guard size <= maxObjectSize else {
            throw R2Error(.entityTooLarge, "\(size) bytes is larger than R2's maximum object size (\(maxObjectSize) bytes)")
        }
        var part = min(max(preferred, minPartSize), maxPartSize)
        let needed = (size + UInt64(maxParts) - 1) / UInt64(maxParts)
        if part < needed {
            let mib: UInt64 = 1024 * 1024
            part = min((needed + mib - 1) / mib * mib, maxPartSize)
        }
        return part
    }
    /// The ETag R2 (like S3) gives a multipart object: the MD5 of the
    /// concatenated binary MD5s of its parts, then `-<parts>`. nil when a part
    /// ETag is not a hex MD5 (uploads before 2023-06-21 had other ETags).
    public static func multipartETag(partETags: [String]) -> String? {
        var concatenated: [UInt8] = []
        for etag in partETags {
            guard let md5 = hexMD5(etag) else { return nil }
            concatenated += md5
        }
        return Hex.encode(Digest.md5(concatenated)) + "-\(partETags.count)"
    }

    /// An ETag without quotes (and a weak `W/` prefix), lowercased.
    static func bareETag(_ etag: String) -> String {
        var e = Substring(etag.trimmingSpaces())
        if e.hasPrefix("W/") { e = e.dropFirst(2) }
        if e.hasPrefix("\""), e.hasSuffix("\""), e.count >= 2 { e = e.dropFirst().dropLast() }
        return asciiLowercase(String(e))
    }

    /// The 16 bytes of a 32-hex-digit ETag, else nil.
    static func hexMD5(_ etag: String) -> [UInt8]? {
        let hex = Array(bareETag(etag).utf8)
        guard hex.count == 32 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let b = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }

    /// True for `<32 hex digits>-<n>`: the form a checked multipart ETag has.
    static func isHexMultipartETag(_ etag: String) -> Bool {
        let e = bareETag(etag)
        guard let dash = e.firstIndex(of: "-") else { return false }
        return hexMD5(String(e[..<dash])) != nil && Int(e[e.index(after: dash)...]) != nil
    }
}

/// Part sizes this client sent, per upload id: R2 checks its equal-size rule
/// only at Complete, after every byte went out, so the low-level API checks it
/// before each part and before Complete.
package final class SentParts: Sendable {
    private let uploads = Mutex<[String: [Int: UInt64]]>([:])

    package init() {}

    /// Refuses part `number` of `size` bytes when, with the parts already sent
    /// for this upload, R2's rule is already broken (a subset of a valid
    /// upload, in part order, is itself valid: so this never refuses a part
    /// that could still end in a valid upload).
    func check(_ uploadID: String, number: Int, size: UInt64) throws(R2Error) {
        var known = uploads.withLock { $0[uploadID] ?? [:] }
        known[number] = size
        try MultipartLimits.validate(partSizes: known.sorted { $0.key < $1.key }.map(\.value))
    }

    func record(_ uploadID: String, number: Int, size: UInt64) {
        uploads.withLock { $0[uploadID, default: [:]][number] = size }
    }

    /// The sizes of `numbers`, when this client sent every one of them.
    func sizes(_ uploadID: String, _ numbers: [Int]) -> [UInt64]? {
        uploads.withLock { all in
            guard let known = all[uploadID] else { return nil }
            var out: [UInt64] = []
            for n in numbers { guard let s = known[n] else { return nil }; out.append(s) }
            return out
        }
    }

    func forget(_ uploadID: String) { _ = uploads.withLock { $0.removeValue(forKey: uploadID) } }
}

/// Conditions on CompleteMultipartUpload (R2 checks them when the object is
/// published; a failed one is final: R2 then treats the upload as aborted).
public struct CompleteOptions: Sendable {
    /// An ETag, or `*`: complete only when the key holds that object.
    public var ifMatch: String?
    /// `*`: complete only when the key does not exist (create-only).
    public var ifNoneMatch: String?
    /// The upload's SSE-C key (also used to read the object back after an ambiguous failure).
    public var sseCustomerKey: SSECustomerKey?
    public var cancellation: Cancellation?

    public init() {}
}

/// An upload in progress on the server.
public struct MultipartUpload: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var uploadID: String

    public init(bucket: String, key: String, uploadID: String) {
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
    }
}

extension R2Client {
    /// Starts a multipart upload with the object's headers and metadata.
    /// Checksum options are refused: R2 supports only per-part CRC32/CRC32C
    /// (send them with `uploadPart`), not a full-object checksum.
    public func createMultipartUpload(bucket: String, key: String, options: PutOptions = PutOptions()) throws(R2Error) -> MultipartUpload {
        try run(createMultipartUploadExchange(bucket: bucket, key: key, options: options))
    }

    package func createMultipartUploadExchange(bucket: String, key: String, options: PutOptions = PutOptions())
        throws(R2Error) -> Exchange<BufferSink, MultipartUpload>
    {
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.checksum == .none else {
            throw R2Error(.unsupported, "R2 has no full-object checksum for multipart uploads; use a per-part CRC32 or CRC32C (or Content-MD5) on each part")
        }
        guard options.ifMatch == nil, options.ifNoneMatch == nil, options.ifModifiedSince == nil, options.ifUnmodifiedSince == nil else {
            throw R2Error.invalidArgument("conditional headers go on CompleteMultipartUpload (if_match / if_none_match of the complete call), where R2 checks them when the object is published")
        }
        var call = Call(operation: .createMultipartUpload, method: "POST", bucket: bucket, key: key)
        call.query = [("uploads", "")]
        call.headers = try Self.putHeaders(options)
        call.cancellation = options.cancellation
        return bufferedExchange(call).map { (response) throws(R2Error) in
            MultipartUpload(bucket: bucket, key: key, uploadID: try self.parse(response, S3XML.parseInitiateMultipartUpload).uploadID)
        }
    }

    /// Uploads one part from bytes. `checksum` may be `.md5` (Content-MD5) or a
    /// per-part `.crc32`/`.crc32c`; SHA-1/SHA-256 part checksums are refused
    /// (R2 answers 501 to them).
    /// - Returns: the part number and the ETag to pass to `completeMultipartUpload`.
    public func uploadPart(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer,
                           checksum: ChecksumAlgorithm = .none, payloadMode: PayloadMode? = nil,
                           sseCustomerKey: SSECustomerKey? = nil) throws(R2Error) -> CompletedPart {
        try run(uploadPartExchange(upload, partNumber: partNumber, body: body, checksum: checksum, payloadMode: payloadMode,
                                   sseCustomerKey: sseCustomerKey))
    }

    /// UploadPart of bytes as the public call (R2's size rules checked against the parts sent);
    /// `body` must stay valid until the exchange is over.
    package func uploadPartExchange(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer,
                                    checksum: ChecksumAlgorithm = .none, payloadMode: PayloadMode? = nil,
                                    sseCustomerKey: SSECustomerKey? = nil) throws(R2Error) -> Exchange<BufferSink, CompletedPart> {
        let e = try uploadPartExchange(upload, partNumber: partNumber, body: body, checksum: checksum, payloadMode: payloadMode,
                                       cancellation: nil, checkSizes: true, sseCustomerKey: sseCustomerKey)
        let sentParts = self.sentParts
        return e.map { part in
            sentParts.record(upload.uploadID, number: partNumber, size: UInt64(body.count))
            return part
        }
    }

    /// `checkSizes`: refuse a part that breaks R2's equal-size rule given the
    /// parts this client already sent (the low-level API; the transfer
    /// manager's parts are uniform by construction).
    func uploadPart(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer, checksum: ChecksumAlgorithm,
                    payloadMode: PayloadMode? = nil, cancellation: Cancellation?, checkSizes: Bool = false,
                    sseCustomerKey: SSECustomerKey? = nil) throws(R2Error) -> CompletedPart {
        try run(uploadPartExchange(upload, partNumber: partNumber, body: body, checksum: checksum, payloadMode: payloadMode,
                                   cancellation: cancellation, checkSizes: checkSizes, sseCustomerKey: sseCustomerKey))
    }

    func uploadPartExchange(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer, checksum: ChecksumAlgorithm,
                            payloadMode: PayloadMode? = nil, cancellation: Cancellation?, checkSizes: Bool = false,
                            sseCustomerKey: SSECustomerKey? = nil) throws(R2Error) -> Exchange<BufferSink, CompletedPart> {
        var call = try partCall(upload, partNumber: partNumber, size: UInt64(body.count), checksum: checksum)
        if let key = sseCustomerKey { call.headers += key.headers() }
        if checkSizes { try sentParts.check(upload.uploadID, number: partNumber, size: UInt64(body.count)) }
        call.cancellation = cancellation
        if let name = checksum.headerName { call.headers.append((name, ChecksumHasher.base64(checksum, of: body))) }
        call.payloadHash = (payloadMode ?? config.payloadMode) == .signed
            ? Payload.sha256Hex(body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
            : SigV4Signer.unsignedPayload
        return partExchange(call, body: .bytes(body), upload: upload, partNumber: partNumber)
    }

    /// Uploads part `partNumber` = bytes `range` of `file`, read at their offset
    /// while curl sends them (and read again on a retry): no buffer holds the part.
    /// A checksum or a signed payload hash needs the digest before sending: one
    /// more pass over the part through a small buffer (the page cache has it).
    func uploadPart(_ upload: MultipartUpload, partNumber: Int, file: SourceFile, range: Range<UInt64>,
                    checksum: ChecksumAlgorithm, cancellation: Cancellation?, sseCustomerKey: SSECustomerKey?) throws(R2Error) -> CompletedPart {
        try run(uploadPartExchange(upload, partNumber: partNumber, file: file, range: range, checksum: checksum,
                                   cancellation: cancellation, sseCustomerKey: sseCustomerKey))
    }

    func uploadPartExchange(_ upload: MultipartUpload, partNumber: Int, file: SourceFile, range: Range<UInt64>, checksum: ChecksumAlgorithm,
                            cancellation: Cancellation?, sseCustomerKey: SSECustomerKey?) throws(R2Error) -> Exchange<BufferSink, CompletedPart> {
        var call = try partCall(upload, partNumber: partNumber, size: range.count, checksum: checksum)
        if let key = sseCustomerKey { call.headers += key.headers() }
        call.cancellation = cancellation
        let signed = config.payloadMode == .signed
        call.payloadHash = SigV4Signer.unsignedPayload
        if signed || checksum.headerName != nil {
            var sha = ChecksumHasher(signed ? .sha256 : .none)
            var sum = ChecksumHasher(checksum)
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.partDigestChunk, alignment: 64)
            defer { chunk.deallocate() }
            var offset = range.lowerBound
            while offset < range.upperBound {
                try cancellation?.check()
                let want = Int(min(UInt64(chunk.count), range.upperBound - offset))
                let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: offset, exactly: true)
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                sha.update(bytes)
                sum.update(bytes)
                offset += UInt64(n)
            }
            if signed { call.payloadHash = Hex.encode(sha.finalize()) }
            if let name = checksum.headerName { call.headers.append((name, sum.finalizeBase64())) }
        }
        let offset = Box(range.lowerBound)
        call.rewindBody = { offset.value = range.lowerBound }
        let body = RequestBody.stream(length: range.count) { (buffer) throws(R2Error) -> Int in
            let want = Int(min(UInt64(buffer.count), range.upperBound - offset.value))
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset.value, exactly: true)
            offset.value += UInt64(n)
            return n
        }
        return partExchange(call, body: body, upload: upload, partNumber: partNumber)
    }

    /// The buffer of the digest pass over a part read from a file.
    static let partDigestChunk = 64 * 1024

    /// Uploads one part of `length` bytes from `read` (UNSIGNED-PAYLOAD; a
    /// checksum needs its precomputed base64 `checksumValue`).
    public func uploadPart(_ upload: MultipartUpload, partNumber: Int, length: UInt64,
                           checksum: ChecksumAlgorithm = .none, checksumValue: String? = nil, sseCustomerKey: SSECustomerKey? = nil,
                           read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> CompletedPart {
        var call = try partCall(upload, partNumber: partNumber, size: length, checksum: checksum)
        if let key = sseCustomerKey { call.headers += key.headers() }
        if let name = checksum.headerName {
            guard let checksumValue else { throw R2Error.invalidArgument("a streamed part needs the value of its \(name)") }
            call.headers.append((name, checksumValue))
        }
        call.payloadHash = SigV4Signer.unsignedPayload
        try sentParts.check(upload.uploadID, number: partNumber, size: length)
        var sink = BufferSink(limit: 1 << 16)
        let head: ResponseHead
        do {
            head = try withoutActuallyEscaping(read) { read in try perform(call, body: .stream(length: length, read: read), sink: &sink) }
        } catch { throw error as! R2Error }
        let part = try Self.completedPart(partNumber, head)
        sentParts.record(upload.uploadID, number: partNumber, size: length)
        return part
    }

    /// The UploadPart exchange of `call`: the part's ETag, the part counted in
    /// the multipart metrics as sent or failed (a cancel is not a failure).
    private func partExchange(_ call: Call, body: RequestBody, upload: MultipartUpload,
                              partNumber: Int) -> Exchange<BufferSink, CompletedPart> {
        var e = Exchange(call: call, body: body, sink: BufferSink(limit: 1 << 16)) { (head, _) throws(R2Error) -> CompletedPart in
            let part = try Self.completedPart(partNumber, head)
            self.recordMultipartPart(bucket: upload.bucket, succeeded: true)
            return part
        }
        e.failure = { error, _ in
            if error.code != .cancelled { self.recordMultipartPart(bucket: upload.bucket, succeeded: false) }
            return error
        }
        return e
    }

    private func partCall(_ upload: MultipartUpload, partNumber: Int, size: UInt64, checksum: ChecksumAlgorithm) throws(R2Error) -> Call {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        guard !upload.uploadID.isEmpty else { throw R2Error.invalidArgument("upload id is empty") }
        guard (1...MultipartLimits.maxParts).contains(partNumber) else {
            throw R2Error(.invalidPart, "part number \(partNumber) is out of range 1...10000")
        }
        guard size <= MultipartLimits.maxPartSize else {
            throw R2Error(.entityTooLarge, "part \(partNumber) is \(size) bytes; the maximum is \(MultipartLimits.maxPartSize) (5 GiB - 5 MiB)")
        }
        switch checksum {
        case .none, .md5, .crc32, .crc32c: break
        case .sha1, .sha256:
            throw R2Error(.unsupported, "R2 refuses SHA-1/SHA-256 checksums on UploadPart (501); use CRC32, CRC32C or Content-MD5")
        }
        var call = Call(operation: .uploadPart, method: "PUT", bucket: upload.bucket, key: upload.key)
        call.query = [("partNumber", String(partNumber)), ("uploadId", upload.uploadID)]
        call.isLargeTransfer = true
        call.isBulkBody = size >= Self.bulkBodyBytes
        return call
    }

    private static func completedPart(_ partNumber: Int, _ head: ResponseHead) throws(R2Error) -> CompletedPart {
        guard let etag = head.header("etag"), !etag.isEmpty else {
            throw R2Error(.malformedResponse, "UploadPart \(partNumber) answered without an ETag", httpStatus: head.status, requestID: head.requestID)
        }
        // It goes back to the server in CompleteMultipartUpload's XML: printable ASCII only.
        guard etag.utf8.count <= 1024, etag.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw R2Error(.malformedResponse, "UploadPart \(partNumber) answered with an unusable ETag \"\(Validate.printable(etag))\"",
                          httpStatus: head.status, requestID: head.requestID)
        }
        return CompletedPart(partNumber: partNumber, etag: etag)
    }

    /// Copies bytes `range` (inclusive, `first...last`) of an existing object
    /// as one part (UploadPartCopy), for copies above 5 GiB.
    public func uploadPartCopy(_ upload: MultipartUpload, partNumber: Int, sourceBucket: String, sourceKey: String,
                               range: ClosedRange<UInt64>?, sseCustomerKey: SSECustomerKey? = nil,
                               sourceSSECustomerKey: SSECustomerKey? = nil) throws(R2Error) -> CompletedPart {
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        // The part's size decides whether R2 will accept the upload: without a
        // range it is the whole source, so ask for its size first.
        let size: UInt64
        if let range { size = range.upperBound - range.lowerBound + 1 }
        else {
            var head = GetOptions()
            head.sseCustomerKey = sourceSSECustomerKey
            size = UInt64(max(try headObject(bucket: sourceBucket, key: sourceKey, options: head).contentLength, 0))
        }
        return try run(uploadPartCopyExchange(upload, partNumber: partNumber, sourceBucket: sourceBucket, sourceKey: sourceKey,
                                              range: range, size: size, sseCustomerKey: sseCustomerKey,
                                              sourceSSECustomerKey: sourceSSECustomerKey))
    }

    /// UploadPartCopy on the engine, as `uploadPartCopy` (a HEAD first when there is no range).
    package func startUploadPartCopy(_ upload: MultipartUpload, partNumber: Int, sourceBucket: String, sourceKey: String,
                                     range: ClosedRange<UInt64>?, sseCustomerKey: SSECustomerKey?, sourceSSECustomerKey: SSECustomerKey?,
                                     op: AsyncOp, done: @escaping (Result<CompletedPart, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        func copy(_ size: UInt64) throws(R2Error) {
            start(try uploadPartCopyExchange(upload, partNumber: partNumber, sourceBucket: sourceBucket, sourceKey: sourceKey, range: range,
                                             size: size, sseCustomerKey: sseCustomerKey, sourceSSECustomerKey: sourceSSECustomerKey),
                  op: op, done: done)
        }
        if let range { return try copy(range.upperBound - range.lowerBound + 1) }
        var head = GetOptions()
        head.sseCustomerKey = sourceSSECustomerKey
        start(try headObjectExchange(bucket: sourceBucket, key: sourceKey, options: head), op: op) { result in
            do throws(R2Error) { try copy(UInt64(max(try result.get().contentLength, 0))) } catch { done(.failure(error)) }
        }
    }

    /// UploadPartCopy of `size` bytes (the range's, or the whole source's).
    package func uploadPartCopyExchange(_ upload: MultipartUpload, partNumber: Int, sourceBucket: String, sourceKey: String,
                                        range: ClosedRange<UInt64>?, size: UInt64, sseCustomerKey: SSECustomerKey?,
                                        sourceSSECustomerKey: SSECustomerKey?) throws(R2Error) -> Exchange<BufferSink, CompletedPart> {
        try sentParts.check(upload.uploadID, number: partNumber, size: size)
        var call = try partCall(upload, partNumber: partNumber, size: size, checksum: .none)
        call.operation = .uploadPartCopy
        call.headers = [("x-amz-copy-source", "/" + sourceBucket + "/" + URIEncoding.encode(sourceKey, keepSlash: true))]
        if let range { call.headers.append(("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        if let key = sseCustomerKey { call.headers += key.headers() }
        if let key = sourceSSECustomerKey { call.headers += key.headers(copySource: true) }
        return bufferedExchange(call).map { (response) throws(R2Error) in
            let result = try self.parse(response, S3XML.parseCopyObject)  // also raises an Error document sent with 200
            self.sentParts.record(upload.uploadID, number: partNumber, size: size)
            return CompletedPart(partNumber: partNumber, etag: result.etag)
        }
    }

    /// Completes an upload from its parts (sorted by number here; ETags as UploadPart returned them).
    ///
    /// Before sending, every part is checked against R2's size rules: with
    /// `partSizes` (same order as `parts` after sorting), else with the sizes
    /// this client sent, else with ListParts (which also shows a part that was
    /// never uploaded). Conditions in `options` are checked by R2 when the
    /// object is published; a failed one (`.preconditionFailed`) is final.
    ///
    /// Complete is never re-sent blindly: after an ambiguous failure (timeout,
    /// reset, 5xx, an Error inside a 200, a lost response) the object is read
    /// back (HEAD) and its ETag compared with the multipart ETag of these parts;
    /// when it matches the upload completed, else ListParts tells whether the
    /// upload still exists (then Complete is sent again) or is gone (an error
    /// that says so). When every part ETag is a hex MD5, the object's ETag must
    /// be the MD5 of the concatenated part MD5s plus `-N`, or the call fails
    /// with `.checksumMismatch`.
    @discardableResult
    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [CompletedPart],
                                        partSizes: [UInt64]? = nil,
                                        options: CompleteOptions = CompleteOptions()) throws(R2Error) -> CompleteMultipartUploadResult {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        guard !upload.uploadID.isEmpty else { throw R2Error.invalidArgument("upload id is empty") }
        let sorted = parts.sorted { $0.partNumber < $1.partNumber }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.partNumber == b.partNumber {
            throw R2Error(.invalidPartOrder, "part \(a.partNumber) is listed twice")
        }
        let sizes: [UInt64]
        if let partSizes { sizes = partSizes } else { sizes = try completeSizes(upload, sorted) }
        let (body, call, expected) = try completeRequest(upload, sorted, sizes: sizes, options: options)
        let policy = resilience.options.retry
        var attempt = 0
        while true {
            attempt += 1
            var failure: R2Error
            do {
                let response = try withBytes(body) { (raw) throws(R2Error) in try performBuffered(call, body: .bytes(raw)) }
                return try completed(response, upload, expected: expected)
            } catch {
                failure = error
            }
            guard let retryClass = RetryClass(failure) else { throw completeFinalError(failure, upload) }
            // SlowDown/429 refused the request; anything else may or may not have completed it.
            if retryClass != .slowDown {
                if let done = try resolveComplete(upload, expected: expected, failure: failure, sseCustomerKey: options.sseCustomerKey) {
                    sentParts.forget(upload.uploadID)
                    return done
                }
            }
            guard let delayMs = completeRetryDelay(failure, retryClass, attempt: attempt, policy: policy, upload) else { throw failure }
            if delayMs > 0 { resilience.clock.sleep(UInt64(delayMs) * 1_000_000) }
            try options.cancellation?.check()
        }
    }

    /// CompleteMultipartUpload on the engine, as `completeMultipartUpload`:
    /// the sizes (ListParts when this client did not send the parts), then
    /// Complete, an ambiguous failure resolved by HEAD and ListParts, and the
    /// retry delays as timers.
    package func startCompleteMultipartUpload(_ upload: MultipartUpload, parts: [CompletedPart], partSizes: [UInt64]? = nil,
                                              options: CompleteOptions, op: AsyncOp, done: @escaping (Result<CompleteMultipartUploadResult, R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        guard !upload.uploadID.isEmpty else { throw R2Error.invalidArgument("upload id is empty") }
        let sorted = parts.sorted { $0.partNumber < $1.partNumber }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.partNumber == b.partNumber {
            throw R2Error(.invalidPartOrder, "part \(a.partNumber) is listed twice")
        }
        let policy = resilience.options.retry
        func send(_ sizes: [UInt64]) throws(R2Error) {
            let (xml, call, expected) = try completeRequest(upload, sorted, sizes: sizes, options: options)
            let body = OwnedBytes(xml)
            func attempt(_ n: Int) {
                start(bufferedExchange(call, body: .bytes(body.bytes)), op: op) { [self] result in
                    var failure: R2Error
                    do throws(R2Error) {
                        return done(.success(try completed(try result.get(), upload, expected: expected)))
                    } catch {
                        failure = error
                    }
                    guard let retryClass = RetryClass(failure) else { return done(.failure(completeFinalError(failure, upload))) }
                    func retry() {
                        guard let delayMs = completeRetryDelay(failure, retryClass, attempt: n, policy: policy, upload) else {
                            return done(.failure(failure))
                        }
                        op.loop.schedule(afterNanos: UInt64(delayMs) * 1_000_000) {
                            if op.cancellation.isCancelled { return done(.failure(R2Error(.cancelled, "CompleteMultipartUpload cancelled"))) }
                            attempt(n + 1)
                        }
                    }
                    // SlowDown/429 refused the request; anything else may or may not have completed it.
                    guard retryClass != .slowDown else { return retry() }
                    startResolveComplete(upload, expected: expected, failure: failure, sseCustomerKey: options.sseCustomerKey, op: op) { resolved in
                        switch resolved {
                        case .success(let result?):
                            self.sentParts.forget(upload.uploadID)
                            done(.success(result))
                        case .success(nil): retry()
                        case .failure(let error): done(.failure(error))
                        }
                    }
                }
            }
            attempt(1)
        }
        if let known = partSizes ?? sentParts.sizes(upload.uploadID, sorted.map(\.partNumber)) { return try send(known) }
        try startListParts(upload, op: op) { result in
            do throws(R2Error) { try send(try Self.sizes(of: sorted, listed: try result.get(), upload)) } catch { done(.failure(error)) }
        }
    }

    /// Complete's body, call and the multipart ETag its parts must give, after R2's size rules.
    private func completeRequest(_ upload: MultipartUpload, _ sorted: [CompletedPart], sizes: [UInt64], options: CompleteOptions)
        throws(R2Error) -> (body: [UInt8], call: Call, expected: String?)
    {
        try MultipartLimits.validate(partSizes: sizes)
        let body = try XMLBuilder.completeMultipartUpload(sorted)
        var call = Call(operation: .completeMultipartUpload, method: "POST", bucket: upload.bucket, key: upload.key)
        call.query = [("uploadId", upload.uploadID)]
        call.headers = [("Content-Type", "application/xml")]
        for (name, value) in [("If-Match", options.ifMatch), ("If-None-Match", options.ifNoneMatch)] {
            guard let value, !value.isEmpty else { continue }
            try Self.validateHeader((name, value))
            call.headers.append((name, value))
        }
        if let key = options.sseCustomerKey { call.headers += key.headers() }
        call.payloadHash = Hex.encode(Digest.sha256(body))
        call.cancellation = options.cancellation
        call.retries = false  // an ambiguous failure is resolved below, never re-sent blindly
        // SSE-C objects' ETags are not MD5s of their bytes (as on S3): nothing to compare then.
        let expected = options.sseCustomerKey == nil ? MultipartLimits.multipartETag(partETags: sorted.map(\.etag)) : nil
        return (body, call, expected)
    }

    /// A Complete answer's result, its multipart ETag checked.
    private func completed(_ response: (head: ResponseHead, body: [UInt8]), _ upload: MultipartUpload,
                           expected: String?) throws(R2Error) -> CompleteMultipartUploadResult {
        // S3 may answer 200 and put an Error document in the body; the parser raises it.
        let result = try parse(response, S3XML.parseCompleteMultipartUpload)
        try Self.checkMultipartETag(result.etag, expected: expected, upload)
        sentParts.forget(upload.uploadID)
        return result
    }

    /// A Complete failure that is not retried, as the caller sees it.
    private func completeFinalError(_ failure: R2Error, _ upload: MultipartUpload) -> R2Error {
        guard failure.code == .preconditionFailed else { return failure }
        sentParts.forget(upload.uploadID)
        return failure.withMessage(failure.message + " (a failed condition on CompleteMultipartUpload is final: R2 treats the upload as aborted)")
    }

    /// The delay before sending Complete again (logged), or nil when the attempts are used up.
    private func completeRetryDelay(_ failure: R2Error, _ retryClass: RetryClass, attempt: Int, policy: RetryPolicy,
                                    _ upload: MultipartUpload) -> Int64? {
        guard attempt < Int(policy[retryClass].maxAttempts) else { return nil }
        let delayMs = policy.delayMs(retryClass, retry: attempt, retryAfterMs: failure.retryAfterMs, random: Double.random(in: 0..<1))
        resilience.log(.warn) {
            var r = LogRecord(level: .warn, message: "CompleteMultipartUpload: the upload is still open after \(failure.code.name); sending Complete again in \(delayMs) ms")
            r.operation = Operation.completeMultipartUpload.name; r.bucket = upload.bucket; r.key = upload.key; r.error = failure.code
            return r
        }
        return delayMs
    }

    /// The sizes of `parts`: from what this client sent, else from ListParts.
    private func completeSizes(_ upload: MultipartUpload, _ parts: [CompletedPart]) throws(R2Error) -> [UInt64] {
        if let known = sentParts.sizes(upload.uploadID, parts.map(\.partNumber)) { return known }
        return try Self.sizes(of: parts, listed: try listParts(upload), upload)
    }

    /// The sizes of `parts` as ListParts lists them (each must be there, with its ETag).
    private static func sizes(of parts: [CompletedPart], listed list: [ListPartsResult.Part], _ upload: MultipartUpload) throws(R2Error) -> [UInt64] {
        var listed: [Int: ListPartsResult.Part] = [:]
        for p in list { listed[p.partNumber] = p }
        var sizes: [UInt64] = []
        for part in parts {
            guard let p = listed[part.partNumber] else {
                throw R2Error(.invalidPart, "part \(part.partNumber) was never uploaded to upload \(upload.uploadID) (ListParts does not list it)")
            }
            if MultipartLimits.bareETag(p.etag) != MultipartLimits.bareETag(part.etag) {
                throw R2Error(.invalidPart, "part \(part.partNumber)'s ETag is \(part.etag) but the server has \(p.etag) (uploaded again since?)")
            }
            sizes.append(p.size)
        }
        return sizes
    }

    /// After an ambiguous Complete failure: the result when the object at
    /// the key is this upload's (its ETag is the multipart ETag of these
    /// parts), nil when the upload still exists (Complete may be sent again).
    /// - Throws: when the upload is gone and the object is not this upload's,
    ///   or the truth cannot be found out.
    private func resolveComplete(_ upload: MultipartUpload, expected: String?, failure: R2Error,
                                 sseCustomerKey: SSECustomerKey?) throws(R2Error) -> CompleteMultipartUploadResult? {
        func note(_ what: String) -> R2Error {
            failure.withMessage(failure.message + " (CompleteMultipartUpload failed ambiguously; " + what + ")")
        }
        if let expected {
            do {
                var get = GetOptions()
                get.sseCustomerKey = sseCustomerKey
                let head = try headObject(bucket: upload.bucket, key: upload.key, options: get)
                if MultipartLimits.bareETag(head.etag) == expected {
                    resilience.log(.info) {
                        var r = LogRecord(level: .info, message: "CompleteMultipartUpload: the answer was lost (\(failure.code.name)) but the object has this upload's ETag \(expected): completed")
                        r.operation = Operation.completeMultipartUpload.name; r.bucket = upload.bucket; r.key = upload.key
                        return r
                    }
                    return CompleteMultipartUploadResult(location: "", bucket: upload.bucket, key: upload.key, etag: head.etag)
                }
            } catch where error.code == .noSuchKey {
                // not there: fall through to ListParts
            } catch {
                throw note("reading the object back failed too (\(error.code.name)): whether it completed is unknown")
            }
        }
        do {
            _ = try listParts(upload)
            return nil
        } catch where error.code == .noSuchUpload {
            if expected == nil {
                throw note("the upload no longer exists and its part ETags are not MD5s, so whether the object is this upload cannot be checked")
            }
            throw R2Error(.noSuchUpload, "CompleteMultipartUpload failed (\(failure.code.name): \(failure.message)) and upload \(upload.uploadID) no longer exists, "
                          + "but the object at \(upload.key) is not this upload (its ETag is not \(expected!)): it was aborted, expired or completed by someone else",
                          httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID)
        } catch {
            throw note("ListParts failed too (\(error.code.name)): whether it completed is unknown")
        }
    }

    /// `resolveComplete` on the engine: HEAD, then ListParts; nil when the upload is still open.
    private func startResolveComplete(_ upload: MultipartUpload, expected: String?, failure: R2Error, sseCustomerKey: SSECustomerKey?,
                                      op: AsyncOp, done: @escaping (Result<CompleteMultipartUploadResult?, R2Error>) -> Void) {
        func note(_ what: String) -> R2Error {
            failure.withMessage(failure.message + " (CompleteMultipartUpload failed ambiguously; " + what + ")")
        }
        func listParts() {
            do throws(R2Error) {
                try startListParts(upload, op: op) { result in
                    switch result {
                    case .success: done(.success(nil))
                    case .failure(let error) where error.code == .noSuchUpload:
                        guard let expected else {
                            return done(.failure(note("the upload no longer exists and its part ETags are not MD5s, so whether the object is this upload cannot be checked")))
                        }
                        done(.failure(R2Error(.noSuchUpload, "CompleteMultipartUpload failed (\(failure.code.name): \(failure.message)) and upload \(upload.uploadID) no longer exists, "
                                              + "but the object at \(upload.key) is not this upload (its ETag is not \(expected)): it was aborted, expired or completed by someone else",
                                              httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID)))
                    case .failure(let error):
                        done(.failure(note("ListParts failed too (\(error.code.name)): whether it completed is unknown")))
                    }
                }
            } catch {
                done(.failure(error))
            }
        }
        guard let expected else { return listParts() }
        var get = GetOptions()
        get.sseCustomerKey = sseCustomerKey
        let head: Exchange<BufferSink, ObjectInfo>
        do throws(R2Error) { head = try headObjectExchange(bucket: upload.bucket, key: upload.key, options: get) } catch { return done(.failure(error)) }
        start(head, op: op) { result in
            switch result {
            case .success(let info) where MultipartLimits.bareETag(info.etag) == expected:
                self.resilience.log(.info) {
                    var r = LogRecord(level: .info, message: "CompleteMultipartUpload: the answer was lost (\(failure.code.name)) but the object has this upload's ETag \(expected): completed")
                    r.operation = Operation.completeMultipartUpload.name; r.bucket = upload.bucket; r.key = upload.key
                    return r
                }
                done(.success(CompleteMultipartUploadResult(location: "", bucket: upload.bucket, key: upload.key, etag: info.etag)))
            case .success:
                listParts()
            case .failure(let error) where error.code == .noSuchKey:
                listParts()  // not there: ListParts tells whether the upload is open
            case .failure(let error):
                done(.failure(note("reading the object back failed too (\(error.code.name)): whether it completed is unknown")))
            }
        }
    }

    /// R2's ETag of a completed multipart object against the one computed
    /// from the parts. An ETag of another form (objects of older uploads) is
    /// not an error: there is nothing to compare.
    static func checkMultipartETag(_ etag: String, expected: String?, _ upload: MultipartUpload) throws(R2Error) {
        guard let expected, MultipartLimits.isHexMultipartETag(etag) else { return }
        guard MultipartLimits.bareETag(etag) == expected else {
            throw R2Error(.checksumMismatch, "the completed object \(upload.key) has ETag \(etag), but its parts give \(expected) "
                          + "(MD5 of the part MD5s): the server assembled something other than the parts sent")
        }
    }

    /// Aborts an upload and frees its parts. Aborting an unknown upload is `.noSuchUpload`.
    public func abortMultipartUpload(_ upload: MultipartUpload) throws(R2Error) {
        try run(abortMultipartUploadExchange(upload))
    }

    package func abortMultipartUploadExchange(_ upload: MultipartUpload) throws(R2Error) -> Exchange<BufferSink, Void> {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        var call = Call(operation: .abortMultipartUpload, method: "DELETE", bucket: upload.bucket, key: upload.key)
        call.query = [("uploadId", upload.uploadID)]
        return bufferedExchange(call, limit: 1 << 16).map { _ in self.sentParts.forget(upload.uploadID) }
    }

    /// Every uploaded part of an upload (all pages).
    /// - Throws: `.noSuchUpload` (R2 aborts unfinished uploads after 7 days by default).
    public func listParts(_ upload: MultipartUpload) throws(R2Error) -> [ListPartsResult.Part] {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        var parts: [ListPartsResult.Part] = []
        var marker: Int? = nil
        repeat {
            let page = try run(listPartsPageExchange(upload, marker: marker))
            marker = try Self.nextPartMarker(page, upload, marker: marker, total: &parts)
        } while marker != nil
        return parts
    }

    /// ListParts on the engine (every page, one after another).
    package func startListParts(_ upload: MultipartUpload, op: AsyncOp,
                                done: @escaping (Result<[ListPartsResult.Part], R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        var parts: [ListPartsResult.Part] = []
        func page(_ marker: Int?) {
            start(listPartsPageExchange(upload, marker: marker), op: op) { result in
                do throws(R2Error) {
                    guard let next = try Self.nextPartMarker(try result.get(), upload, marker: marker, total: &parts) else {
                        return done(.success(parts))
                    }
                    page(next)
                } catch {
                    done(.failure(error))
                }
            }
        }
        page(nil)
    }

    private func listPartsPageExchange(_ upload: MultipartUpload, marker: Int?) -> Exchange<BufferSink, ListPartsResult> {
        var call = Call(operation: .listParts, method: "GET", bucket: upload.bucket, key: upload.key)
        call.query = [("uploadId", upload.uploadID)]
        if let marker { call.query.append(("part-number-marker", String(marker))) }
        return bufferedExchange(call, limit: Self.maxListingBytes).map({ (response) throws(R2Error) in
            try self.parse(response, S3XML.parseListParts)
        }, failure: { error in
            guard error.code == .noSuchUpload else { return error }
            return R2Error(.noSuchUpload, "upload \(upload.uploadID) of \(upload.key) no longer exists (completed, aborted, or expired: R2 aborts unfinished uploads after 7 days by default)",
                           httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID)
        })
    }

    /// Adds a page to `total`; the next page's marker, or nil after the last.
    private static func nextPartMarker(_ page: ListPartsResult, _ upload: MultipartUpload, marker: Int?,
                                       total parts: inout [ListPartsResult.Part]) throws(R2Error) -> Int? {
        parts += page.parts
        let next = page.isTruncated ? page.nextPartNumberMarker : nil
        // Part numbers only grow: a marker that does not would loop forever.
        if let next, next <= (marker ?? 0) {
            throw R2Error(.malformedResponse, "ListParts of \(upload.uploadID): the next part-number marker \(next) does not advance past \(marker ?? 0)")
        }
        guard parts.count <= MultipartLimits.maxParts else {
            throw R2Error(.malformedResponse, "ListParts of \(upload.uploadID) returned more than \(MultipartLimits.maxParts) parts")
        }
        return next
    }

    /// Every unfinished multipart upload in `bucket` under `prefix` (all pages).
    public func listMultipartUploads(bucket: String, prefix: String? = nil) throws(R2Error) -> [ListMultipartUploadsResult.Upload] {
        try Validate.bucket(bucket)
        var uploads: [ListMultipartUploadsResult.Upload] = []
        var markers: (key: String, id: String)? = nil
        repeat {
            let page = try run(listUploadsPageExchange(bucket: bucket, prefix: prefix, markers: markers))
            markers = try Self.nextUploadMarkers(page, markers: markers, total: &uploads)
        } while markers != nil
        return uploads
    }

    /// ListMultipartUploads on the engine (every page, one after another).
    package func startListMultipartUploads(bucket: String, prefix: String?, op: AsyncOp,
                                           done: @escaping (Result<[ListMultipartUploadsResult.Upload], R2Error>) -> Void) throws(R2Error) {
        try Validate.bucket(bucket)
        var uploads: [ListMultipartUploadsResult.Upload] = []
        func page(_ markers: (key: String, id: String)?) {
            start(listUploadsPageExchange(bucket: bucket, prefix: prefix, markers: markers), op: op) { result in
                do throws(R2Error) {
                    guard let next = try Self.nextUploadMarkers(try result.get(), markers: markers, total: &uploads) else {
                        return done(.success(uploads))
                    }
                    page(next)
                } catch {
                    done(.failure(error))
                }
            }
        }
        page(nil)
    }

    private func listUploadsPageExchange(bucket: String, prefix: String?, markers: (key: String, id: String)?)
        -> Exchange<BufferSink, ListMultipartUploadsResult>
    {
        var call = Call(operation: .listMultipartUploads, method: "GET", bucket: bucket)
        call.query = [("uploads", ""), ("encoding-type", "url")]
        if let prefix { call.query.append(("prefix", prefix)) }
        if let markers { call.query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
        return bufferedExchange(call, limit: Self.maxListingBytes).map { (response) throws(R2Error) in
            try self.parse(response, S3XML.parseListMultipartUploads)
        }
    }

    /// Adds a page to `total`; the next page's markers, or nil after the last.
    private static func nextUploadMarkers(_ page: ListMultipartUploadsResult, markers: (key: String, id: String)?,
                                          total uploads: inout [ListMultipartUploadsResult.Upload]) throws(R2Error) -> (key: String, id: String)? {
        uploads += page.uploads
        guard page.isTruncated, let k = page.nextKeyMarker, let u = page.nextUploadIDMarker else { return nil }
        // Markers move forward in key order; one that repeats or goes back would loop forever.
        if let markers, (k, u) == markers || k.utf8.lexicographicallyPrecedes(markers.key.utf8) {
            throw R2Error(.malformedResponse, "ListMultipartUploads: the next markers (\(Validate.printable(k)), \(Validate.printable(u))) do not advance")
        }
        return (k, u)
    }
}

/// A mutable value shared by closures (a part's read offset).
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}
