import CR2Types
import Glibc
import R2

// The XML layer, exposed for fixture runners and for bindings' own tests.

/// Parses an S3 response body and renders it as JSON, for fixture runners and
/// bindings' own tests. The JSON uses the S3 element names as keys (e.g.
/// {"Name": ..., "Contents": [{"Key": ..., "Size": ...}], ...}), null for absent
/// optional values; with encoding-type=url the keys are already URL-decoded.
/// Experimental: a test hook outside the stable ABI, declared only when
/// R2_EXPERIMENTAL is defined before including r2.h.
///
/// - Parameters:
///   - out: Out: the JSON text on success, {NULL, 0} on failure.
///   - type: The document: "ListObjectsV2", "Error", "InitiateMultipartUpload",
///     "CompleteMultipartUpload", "ListParts", "ListMultipartUploads",
///     "CopyObject" or "DeleteResult".
///   - data: The body; may be NULL only when len is 0.
///   - len: Bytes at data.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT (NULL out or type, an unknown type,
///   NULL data with a non-zero len); R2_ERR_MALFORMED_RESPONSE (not well-formed,
///   a DOCTYPE, over the depth (64) or size (64 KiB per text, 64 MiB in all)
///   limits, another root element, a required element missing); for
///   CompleteMultipartUpload and CopyObject, the status of the S3 error when the
///   body is an Error document (S3 may send one with status 200).
/// - Ownership: type and data are borrowed for the call; *out belongs to the
///   caller: release it with r2_buf_dispose().
/// - Threads: any thread.
@c public func r2_xml_parse(_ out: UnsafeMutablePointer<r2_buf>?, _ type: UnsafePointer<CChar>?,
                            _ data: UnsafePointer<UInt8>?, _ len: UInt) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = r2_buf(ptr: nil, size: 0)
        let name = try string(type, "type")
        let body = try bytes(data, len)
        let json = try S3XML.parseToJSON(type: name, body: body)
        fill(out, json)
    }
}
