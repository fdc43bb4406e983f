/// The low-level multipart API: create, upload part (bytes, stream or copy),
/// complete, abort, list parts, list uploads; and R2's part-size rules,
/// checked on the client before anything is sent.

/// R2's multipart limits.
public enum MultipartLimits {
    public static let minPartSize: UInt64 = 5 * 1024 * 1024
    public static let maxPartSize: UInt64 = 5 * 1024 * 1024 * 1024
    public static let maxParts = 10_000
    /// R2's largest object: 5 TiB less 5 GiB (R2-FACTS: 4.995 TiB).
    public static let maxObjectSize: UInt64 = 5 * 1024 * 1024 * 1024 * 1024 - 5 * 1024 * 1024 * 1024

    /// Checks a whole upload's part sizes (in part order) against R2's rules:
    /// 1 to 10 000 parts, each at most 5 GiB, every part but the last the same
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
                throw R2Error(.entityTooLarge, "part \(number) is \(size) bytes; the maximum is \(maxPartSize) (5 GiB)")
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
        try Validate.bucket(bucket)
        try Validate.key(key)
        guard options.checksum == .none else {
            throw R2Error(.unsupported, "R2 has no full-object checksum for multipart uploads; use a per-part CRC32 or CRC32C (or Content-MD5) on each part")
        }
        guard options.ifMatch == nil, options.ifNoneMatch == nil, options.ifModifiedSince == nil, options.ifUnmodifiedSince == nil else {
            throw R2Error.invalidArgument("conditional headers do not apply to CreateMultipartUpload")
        }
        var call = Call(operation: "CreateMultipartUpload", method: "POST", bucket: bucket, key: key)
        call.query = [("uploads", "")]
        call.headers = try Self.putHeaders(options)
        call.cancellation = options.cancellation
        let response = try performBuffered(call)
        let result = try parse(response, S3XML.parseInitiateMultipartUpload)
        return MultipartUpload(bucket: bucket, key: key, uploadID: result.uploadID)
    }

    /// Uploads one part from bytes. `checksum` may be `.md5` (Content-MD5) or a
    /// per-part `.crc32`/`.crc32c`; SHA-1/SHA-256 part checksums are refused
    /// (R2 answers 501 to them).
    /// - Returns: the part number and the ETag to pass to `completeMultipartUpload`.
    public func uploadPart(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer,
                           checksum: ChecksumAlgorithm = .none, payloadMode: PayloadMode? = nil) throws(R2Error) -> CompletedPart {
        try uploadPart(upload, partNumber: partNumber, body: body, checksum: checksum, payloadMode: payloadMode, cancellation: nil)
    }

    func uploadPart(_ upload: MultipartUpload, partNumber: Int, body: UnsafeRawBufferPointer, checksum: ChecksumAlgorithm,
                    payloadMode: PayloadMode? = nil, cancellation: Cancellation?) throws(R2Error) -> CompletedPart {
        var call = try partCall(upload, partNumber: partNumber, size: UInt64(body.count), checksum: checksum)
        call.cancellation = cancellation
        if let name = checksum.headerName { call.headers.append((name, ChecksumHasher.base64(checksum, of: body))) }
        call.payloadHash = (payloadMode ?? config.payloadMode) == .signed
            ? Payload.sha256Hex(body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
            : SigV4Signer.unsignedPayload
        var sink = BufferSink(limit: 1 << 16)
        do {
            let part = try Self.completedPart(partNumber, try perform(call, body: .bytes(body), sink: &sink))
            recordMultipartPart(bucket: upload.bucket, succeeded: true)
            return part
        } catch {
            if error.code != .cancelled { recordMultipartPart(bucket: upload.bucket, succeeded: false) }
            throw error
        }
    }

    /// Uploads one part of `length` bytes from `read` (UNSIGNED-PAYLOAD; a
    /// checksum needs its precomputed base64 `checksumValue`).
    public func uploadPart(_ upload: MultipartUpload, partNumber: Int, length: UInt64,
                           checksum: ChecksumAlgorithm = .none, checksumValue: String? = nil,
                           read: (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int) throws(R2Error) -> CompletedPart {
        var call = try partCall(upload, partNumber: partNumber, size: length, checksum: checksum)
        if let name = checksum.headerName {
            guard let checksumValue else { throw R2Error.invalidArgument("a streamed part needs the value of its \(name)") }
            call.headers.append((name, checksumValue))
        }
        call.payloadHash = SigV4Signer.unsignedPayload
        var sink = BufferSink(limit: 1 << 16)
        let head: ResponseHead
        do {
            head = try withoutActuallyEscaping(read) { read in try perform(call, body: .stream(length: length, read: read), sink: &sink) }
        } catch { throw error as! R2Error }
        return try Self.completedPart(partNumber, head)
    }

    private func partCall(_ upload: MultipartUpload, partNumber: Int, size: UInt64, checksum: ChecksumAlgorithm) throws(R2Error) -> Call {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        guard !upload.uploadID.isEmpty else { throw R2Error.invalidArgument("upload id is empty") }
        guard (1...MultipartLimits.maxParts).contains(partNumber) else {
            throw R2Error(.invalidPart, "part number \(partNumber) is out of range 1...10000")
        }
        guard size <= MultipartLimits.maxPartSize else {
            throw R2Error(.entityTooLarge, "part \(partNumber) is \(size) bytes; the maximum is 5 GiB")
        }
        switch checksum {
        case .none, .md5, .crc32, .crc32c: break
        case .sha1, .sha256:
            throw R2Error(.unsupported, "R2 refuses SHA-1/SHA-256 checksums on UploadPart (501); use CRC32, CRC32C or Content-MD5")
        }
        var call = Call(operation: "UploadPart", method: "PUT", bucket: upload.bucket, key: upload.key)
        call.query = [("partNumber", String(partNumber)), ("uploadId", upload.uploadID)]
        call.isLargeTransfer = true
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
                               range: ClosedRange<UInt64>?) throws(R2Error) -> CompletedPart {
        try Validate.bucket(sourceBucket)
        try Validate.key(sourceKey)
        var call = try partCall(upload, partNumber: partNumber, size: range.map { $0.upperBound - $0.lowerBound + 1 } ?? 0, checksum: .none)
        call.operation = "UploadPartCopy"
        call.headers = [("x-amz-copy-source", "/" + sourceBucket + "/" + URIEncoding.encode(sourceKey, keepSlash: true))]
        if let range { call.headers.append(("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try performBuffered(call)
        let result = try parse(response, S3XML.parseCopyObject)  // also raises an Error document sent with 200
        return CompletedPart(partNumber: partNumber, etag: result.etag)
    }

    /// Completes an upload from its parts (sorted by number here; ETags as UploadPart returned them).
    /// With `partSizes` (same order as `parts` after sorting) R2's size rules are checked first.
    @discardableResult
    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [CompletedPart],
                                        partSizes: [UInt64]? = nil) throws(R2Error) -> CompleteMultipartUploadResult {
        let sorted = parts.sorted { $0.partNumber < $1.partNumber }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.partNumber == b.partNumber {
            throw R2Error(.invalidPartOrder, "part \(a.partNumber) is listed twice")
        }
        if let partSizes { try MultipartLimits.validate(partSizes: partSizes) }
        let body = try XMLBuilder.completeMultipartUpload(sorted)
        var call = Call(operation: "CompleteMultipartUpload", method: "POST", bucket: upload.bucket, key: upload.key)
        call.query = [("uploadId", upload.uploadID)]
        call.headers = [("Content-Type", "application/xml")]
        call.payloadHash = Hex.encode(Digest.sha256(body))
        let response = try withBytes(body) { (raw) throws(R2Error) in try performBuffered(call, body: .bytes(raw)) }
        // S3 may answer 200 and put an Error document in the body; the parser raises it.
        return try parse(response, S3XML.parseCompleteMultipartUpload)
    }

    /// Aborts an upload and frees its parts. Aborting an unknown upload is `.noSuchUpload`.
    public func abortMultipartUpload(_ upload: MultipartUpload) throws(R2Error) {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        var call = Call(operation: "AbortMultipartUpload", method: "DELETE", bucket: upload.bucket, key: upload.key)
        call.query = [("uploadId", upload.uploadID)]
        _ = try performBuffered(call, limit: 1 << 16)
    }

    /// Every uploaded part of an upload (all pages).
    /// - Throws: `.noSuchUpload` (R2 aborts unfinished uploads after 7 days by default).
    public func listParts(_ upload: MultipartUpload) throws(R2Error) -> [ListPartsResult.Part] {
        try Validate.bucket(upload.bucket)
        try Validate.key(upload.key)
        var parts: [ListPartsResult.Part] = []
        var marker: Int? = nil
        repeat {
            var call = Call(operation: "ListParts", method: "GET", bucket: upload.bucket, key: upload.key)
            call.query = [("uploadId", upload.uploadID)]
            if let marker { call.query.append(("part-number-marker", String(marker))) }
            let page: ListPartsResult
            do {
                page = try parse(try performBuffered(call, limit: Self.maxListingBytes), S3XML.parseListParts)
            } catch where error.code == .noSuchUpload {
                throw R2Error(.noSuchUpload, "upload \(upload.uploadID) of \(upload.key) no longer exists (completed, aborted, or expired: R2 aborts unfinished uploads after 7 days by default)",
                              httpStatus: error.httpStatus, s3Code: error.s3Code, requestID: error.requestID)
            }
            parts += page.parts
            let next = page.isTruncated ? page.nextPartNumberMarker : nil
            // Part numbers only grow: a marker that does not would loop forever.
            if let next, next <= (marker ?? 0) {
                throw R2Error(.malformedResponse, "ListParts of \(upload.uploadID): the next part-number marker \(next) does not advance past \(marker ?? 0)")
            }
            guard parts.count <= MultipartLimits.maxParts else {
                throw R2Error(.malformedResponse, "ListParts of \(upload.uploadID) returned more than \(MultipartLimits.maxParts) parts")
            }
            marker = next
        } while marker != nil
        return parts
    }

    /// Every unfinished multipart upload in `bucket` under `prefix` (all pages).
    public func listMultipartUploads(bucket: String, prefix: String? = nil) throws(R2Error) -> [ListMultipartUploadsResult.Upload] {
        try Validate.bucket(bucket)
        var uploads: [ListMultipartUploadsResult.Upload] = []
        var markers: (key: String, id: String)? = nil
        repeat {
            var call = Call(operation: "ListMultipartUploads", method: "GET", bucket: bucket)
            call.query = [("uploads", ""), ("encoding-type", "url")]
            if let prefix { call.query.append(("prefix", prefix)) }
            if let markers { call.query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let page = try parse(try performBuffered(call, limit: Self.maxListingBytes), S3XML.parseListMultipartUploads)
            uploads += page.uploads
            if page.isTruncated, let k = page.nextKeyMarker, let u = page.nextUploadIDMarker {
                // Markers move forward in key order; one that repeats or goes back would loop forever.
                if let markers, (k, u) == markers || k.utf8.lexicographicallyPrecedes(markers.key.utf8) {
                    throw R2Error(.malformedResponse, "ListMultipartUploads: the next markers (\(Validate.printable(k)), \(Validate.printable(u))) do not advance")
                }
                markers = (k, u)
            } else {
                markers = nil
            }
        } while markers != nil
        return uploads
    }
}
