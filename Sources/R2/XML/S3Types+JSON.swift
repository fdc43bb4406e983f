// JSON renderings of the parsed S3 documents, for the C fixture runner
// (r2_xml_parse) and for debugging.
//
// Keys use the S3 element names. Every key is always present, in the order
// below; an absent optional value is null; numbers are JSON numbers;
// CommonPrefixes is an array of strings. Strings are the parsed values
// (URL-decoded for encoding-type=url, ETags with their quotes).
//
//   ListObjectsV2:    {"Name","Prefix","Delimiter","MaxKeys","KeyCount","IsTruncated","ContinuationToken",
//                      "NextContinuationToken","StartAfter","EncodingType",
//                      "Contents":[{"Key","LastModified","ETag","Size","StorageClass"}],"CommonPrefixes":[""]}
//   Error:            {"Code","Message","RequestId","Resource","Key","BucketName","HostId"}
//   InitiateMultipartUpload: {"Bucket","Key","UploadId"}
//   CompleteMultipartUpload: {"Location","Bucket","Key","ETag"}
//   ListParts:        {"Bucket","Key","UploadId","PartNumberMarker","NextPartNumberMarker","MaxParts","IsTruncated",
//                      "Parts":[{"PartNumber","LastModified","ETag","Size"}]}
//   ListMultipartUploads: {"Bucket","KeyMarker","UploadIdMarker","NextKeyMarker","NextUploadIdMarker","Prefix",
//                      "Delimiter","MaxUploads","IsTruncated","EncodingType",
//                      "Uploads":[{"Key","UploadId","Initiated"}],"CommonPrefixes":[""]}
//   CopyObject:       {"ETag","LastModified"}
//   DeleteResult:     {"Deleted":[{"Key","VersionId","DeleteMarker","DeleteMarkerVersionId"}],
//                      "Errors":[{"Key","Code","Message","VersionId"}]}

/// A minimal JSON writer: objects, arrays, strings, numbers, booleans, null.
/// Strings are escaped per RFC 8259 (quote, backslash, control characters);
/// non-ASCII stays UTF-8.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    package init() {}

    package var string: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(0x7B)
        body(&self)
        close(0x7D)
    }

    package mutating func array<S: Sequence>(_ items: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        open(0x5B)
        for item in items { body(&self, item) }
        close(0x5D)
    }

    /// Writes `"name":` inside an object; the value call that follows completes the member.
    package mutating func key(_ name: String) {
        value(name)
        bytes.append(0x3A)
        needsComma = false
    }

    package mutating func value(_ s: String) {
        comma()
        bytes.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            // Copy runs that need no escaping in one go: this is the hot loop of a listing.
            var start = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                if i > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                switch b {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
                start = i + 1
            }
            if utf8.count > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(0x22)
        needsComma = true
    }

    package mutating func value(_ s: String?) { if let s { value(s) } else { raw("null") } }
    package mutating func value(_ n: Int?) { if let n { raw(String(n)) } else { raw("null") } }
    package mutating func value(_ n: UInt64) { raw(String(n)) }
    package mutating func value(_ b: Bool) { raw(b ? "true" : "false") }

    package mutating func member(_ name: String, _ v: String) { key(name); value(v) }
    package mutating func member(_ name: String, _ v: String?) { key(name); value(v) }
    package mutating func member(_ name: String, _ v: Int?) { key(name); value(v) }
    package mutating func member(_ name: String, _ v: UInt64) { key(name); value(v) }
    package mutating func member(_ name: String, _ v: Bool) { key(name); value(v) }

    private mutating func raw(_ s: String) {
        comma()
        bytes.append(contentsOf: s.utf8)
        needsComma = true
    }

    private mutating func comma() { if needsComma { bytes.append(0x2C) } }

    private mutating func open(_ b: UInt8) {
        comma()
        bytes.append(b)
        needsComma = false
    }

    private mutating func close(_ b: UInt8) {
        bytes.append(b)
        needsComma = true
    }
}

/// A parsed S3 document that renders itself as JSON (see the file comment for the shapes).
package protocol JSONRenderable {
    func writeJSON(_ w: inout JSONWriter)
}

extension JSONRenderable {
    package var json: String {
        var w = JSONWriter()
        writeJSON(&w)
        return w.string
    }
}

extension ListBucketResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.member("Name", name); w.member("Prefix", prefix); w.member("Delimiter", delimiter)
            w.member("MaxKeys", maxKeys); w.member("KeyCount", keyCount); w.member("IsTruncated", isTruncated)
            w.member("ContinuationToken", continuationToken)
            w.member("NextContinuationToken", nextContinuationToken)
            w.member("StartAfter", startAfter); w.member("EncodingType", encodingType)
            w.key("Contents")
            w.array(contents) { w, e in
                w.object { w in
                    w.member("Key", e.key); w.member("LastModified", e.lastModified); w.member("ETag", e.etag)
                    w.member("Size", e.size); w.member("StorageClass", e.storageClass)
                }
            }
            w.key("CommonPrefixes")
            w.array(commonPrefixes) { w, p in w.value(p) }
        }
    }
}

extension S3ErrorResponse: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.member("Code", code); w.member("Message", message); w.member("RequestId", requestID)
            w.member("Resource", resource); w.member("Key", key); w.member("BucketName", bucketName)
            w.member("HostId", hostID)
        }
    }
}

extension InitiateMultipartUploadResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in w.member("Bucket", bucket); w.member("Key", key); w.member("UploadId", uploadID) }
    }
}

extension CompleteMultipartUploadResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.member("Location", location); w.member("Bucket", bucket); w.member("Key", key); w.member("ETag", etag)
        }
    }
}

extension ListPartsResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.member("Bucket", bucket); w.member("Key", key); w.member("UploadId", uploadID)
            w.member("PartNumberMarker", partNumberMarker); w.member("NextPartNumberMarker", nextPartNumberMarker)
            w.member("MaxParts", maxParts); w.member("IsTruncated", isTruncated)
            w.key("Parts")
            w.array(parts) { w, p in
                w.object { w in
                    w.member("PartNumber", p.partNumber); w.member("LastModified", p.lastModified)
                    w.member("ETag", p.etag); w.member("Size", p.size)
                }
            }
        }
    }
}

extension ListMultipartUploadsResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.member("Bucket", bucket); w.member("KeyMarker", keyMarker); w.member("UploadIdMarker", uploadIDMarker)
            w.member("NextKeyMarker", nextKeyMarker); w.member("NextUploadIdMarker", nextUploadIDMarker)
            w.member("Prefix", prefix); w.member("Delimiter", delimiter); w.member("MaxUploads", maxUploads)
            w.member("IsTruncated", isTruncated); w.member("EncodingType", encodingType)
            w.key("Uploads")
            w.array(uploads) { w, u in
                w.object { w in
                    w.member("Key", u.key); w.member("UploadId", u.uploadID); w.member("Initiated", u.initiated)
                }
            }
            w.key("CommonPrefixes")
            w.array(commonPrefixes) { w, p in w.value(p) }
        }
    }
}

extension CopyObjectResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in w.member("ETag", etag); w.member("LastModified", lastModified) }
    }
}

extension DeleteResult: JSONRenderable {
    package func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.key("Deleted")
            w.array(deleted) { w, d in
                w.object { w in
                    w.member("Key", d.key); w.member("VersionId", d.versionID)
                    w.member("DeleteMarker", d.deleteMarker)
                    w.member("DeleteMarkerVersionId", d.deleteMarkerVersionID)
                }
            }
            w.key("Errors")
            w.array(errors) { w, e in
                w.object { w in
                    w.member("Key", e.key); w.member("Code", e.code); w.member("Message", e.message)
                    w.member("VersionId", e.versionID)
                }
            }
        }
    }
}

extension S3XML {
    /// The document types `parseToJSON` knows, by the names the C ABI uses.
    package static let documentTypes = ["ListObjectsV2", "Error", "InitiateMultipartUpload", "CompleteMultipartUpload",
                                        "ListParts", "ListMultipartUploads", "CopyObject", "DeleteResult"]

    /// Parses `body` as the document type named `type` (one of `documentTypes`) and renders it as JSON.
    /// - Throws: `.invalidArgument` for an unknown type; otherwise what the type's parser throws.
    package static func parseToJSON(type: String, body: UnsafeRawBufferPointer) throws(R2Error) -> String {
        switch type {
        case "ListObjectsV2": return try parseListObjectsV2(body).json
        case "Error": return try parseError(body).json
        case "InitiateMultipartUpload": return try parseInitiateMultipartUpload(body).json
        case "CompleteMultipartUpload": return try parseCompleteMultipartUpload(body).json
        case "ListParts": return try parseListParts(body).json
        case "ListMultipartUploads": return try parseListMultipartUploads(body).json
        case "CopyObject": return try parseCopyObject(body).json
        case "DeleteResult": return try parseDeleteResult(body).json
        default:
            throw R2Error(.invalidArgument, "unknown XML document type \"\(type)\"; expected one of "
                + documentTypes.joined(separator: ", "))
        }
    }
}
