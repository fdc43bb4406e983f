// Request bodies: DeleteObjects and CompleteMultipartUpload.

/// An object to delete with DeleteObjects.
public struct ObjectToDelete: Sendable, Hashable {
    public var key: String
    /// A specific version to delete; nil deletes the current one.
    public var versionID: String?

    public init(key: String, versionID: String? = nil) {
        self.key = key
        self.versionID = versionID
    }
}

/// A part to assemble with CompleteMultipartUpload.
public struct CompletedPart: Sendable, Hashable {
    /// 1...10000.
    public var partNumber: Int
    /// The ETag UploadPart answered; quotes are added when it has none.
    public var etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// Builders of the XML request bodies. Text is escaped (`& < > " '` and CR);
/// a value XML 1.0 cannot carry (control characters other than tab and LF,
/// U+FFFE, U+FFFF) is refused rather than sent as a broken body.
package enum XMLBuilder {
    /// The most keys one DeleteObjects request may carry.
    package static let maxDeleteObjects = 1000

    /// The body of DeleteObjects: `<Delete><Quiet>true</Quiet><Object><Key>k</Key><VersionId>v</VersionId></Object>...</Delete>`.
    /// - Parameters:
    ///   - objects: 1...1000 objects, sent in the given order.
    ///   - quiet: ask the server to list only the keys it failed to delete.
    /// - Returns: the UTF-8 body (send it with Content-MD5 or a checksum header; S3 requires one).
    /// - Throws: `R2Error(.invalidArgument)` for no objects, more than 1000, an empty key, or a key or
    ///   version id XML 1.0 cannot express (the message names its index).
    package static func deleteObjects(_ objects: [ObjectToDelete], quiet: Bool = false) throws(R2Error) -> [UInt8] {
        guard !objects.isEmpty else { throw .invalidArgument("DeleteObjects needs at least one key") }
        guard objects.count <= maxDeleteObjects else {
            throw .invalidArgument("DeleteObjects takes at most \(maxDeleteObjects) keys, got \(objects.count)")
        }
        var out = prolog
        out.reserveCapacity(out.count + 32 + objects.count * 64)
        append(&out, "<Delete>")
        if quiet { append(&out, "<Quiet>true</Quiet>") }
        for (i, object) in objects.enumerated() {
            guard !object.key.isEmpty else { throw .invalidArgument("the key at index \(i) is empty") }
            append(&out, "<Object><Key>")
            try escape(&out, object.key, what: "the key at index \(i)")
            append(&out, "</Key>")
            if let version = object.versionID {
                append(&out, "<VersionId>")
                try escape(&out, version, what: "the version id at index \(i)")
                append(&out, "</VersionId>")
            }
            append(&out, "</Object>")
        }
        append(&out, "</Delete>")
        return out
    }

    /// The body of CompleteMultipartUpload: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"..."</ETag></Part>...</CompleteMultipartUpload>`,
    /// parts sorted by number.
    /// - Parameter parts: 1...10000 parts with distinct numbers in 1...10000, in any order.
    /// - Returns: the UTF-8 body.
    /// - Throws: `R2Error(.invalidArgument)` for no parts, a number out of range or repeated, or an
    ///   empty ETag or one XML 1.0 cannot express.
    package static func completeMultipartUpload(_ parts: [CompletedPart]) throws(R2Error) -> [UInt8] {
        guard !parts.isEmpty else { throw .invalidArgument("CompleteMultipartUpload needs at least one part") }
        let sorted = parts.sorted { $0.partNumber < $1.partNumber }
        var out = prolog
        out.reserveCapacity(out.count + 64 + parts.count * 96)
        append(&out, "<CompleteMultipartUpload>")
        var previous = 0
        for part in sorted {
            let n = part.partNumber
            guard (1...10_000).contains(n) else { throw .invalidArgument("part number \(n) is not in 1...10000") }
            guard n != previous else { throw .invalidArgument("part number \(n) appears more than once") }
            previous = n
            guard !part.etag.isEmpty else { throw .invalidArgument("the ETag of part \(n) is empty") }
            let quoted = part.etag.utf8.count >= 2 && part.etag.hasPrefix("\"") && part.etag.hasSuffix("\"")
            append(&out, "<Part><PartNumber>\(n)</PartNumber><ETag>")
            try escape(&out, quoted ? part.etag : "\"\(part.etag)\"", what: "the ETag of part \(n)")
            append(&out, "</ETag></Part>")
        }
        append(&out, "</CompleteMultipartUpload>")
        return out
    }

    private static let prolog: [UInt8] = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8)

    @inline(__always) private static func append(_ out: inout [UInt8], _ s: String) { out.append(contentsOf: s.utf8) }

    /// Appends `s` as XML character data.
    static func escape(_ out: inout [UInt8], _ s: String, what: String) throws(R2Error) {
        var s = s
        let bad: UInt32? = s.withUTF8 { b -> UInt32? in
            var i = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case 0x26: out.append(contentsOf: "&amp;".utf8)
                case 0x3C: out.append(contentsOf: "&lt;".utf8)
                case 0x3E: out.append(contentsOf: "&gt;".utf8)
                case 0x22: out.append(contentsOf: "&quot;".utf8)
                case 0x27: out.append(contentsOf: "&apos;".utf8)
                case 0x0D: out.append(contentsOf: "&#xD;".utf8)  // a raw CR would be read back as LF
                case 0x09, 0x0A: out.append(c)
                case 0..<0x20: return UInt32(c)
                case 0xEF where i + 2 < b.count && b[i + 1] == 0xBF && (b[i + 2] == 0xBE || b[i + 2] == 0xBF):
                    return b[i + 2] == 0xBE ? 0xFFFE : 0xFFFF
                default: out.append(c)
                }
                i += 1
            }
            return nil
        }
        if let bad {
            let hex = String(bad, radix: 16, uppercase: true)
            throw .invalidArgument("\(what) contains U+\(String(repeating: "0", count: 4 - hex.count))\(hex), "
                + "which XML 1.0 cannot express")
        }
    }
}
