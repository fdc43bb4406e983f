import CCrypto

/// Integrity checks for uploads and downloads. R2 accepts one per request:
/// Content-MD5 or one `x-amz-checksum-*` header. None is sent unless asked for
/// (the AWS SDKs' 2025 default-checksum change broke R2 uploads).
public enum ChecksumAlgorithm: Sendable, Equatable {
    case none, md5, crc32, crc32c, sha1, sha256

    /// The header carrying this checksum on a request or response.
    package var headerName: String? {
        switch self {
        case .none: return nil
        case .md5: return "Content-MD5"
        case .crc32: return "x-amz-checksum-crc32"
        case .crc32c: return "x-amz-checksum-crc32c"
        case .sha1: return "x-amz-checksum-sha1"
        case .sha256: return "x-amz-checksum-sha256"
        }
    }
}

/// An incremental digest of any supported algorithm; `finalize` gives the raw digest bytes.
package struct ChecksumHasher {
    private enum State {
        case none
        case md5(MD5_CTX)
        case sha1(SHA_CTX)
        case sha256(SHA256_CTX)
        case crc(UInt32, castagnoli: Bool)
    }
    private var state: State
    package let algorithm: ChecksumAlgorithm

    package init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .none: state = .none
        case .md5: var c = MD5_CTX(); MD5_Init(&c); state = .md5(c)
        case .sha1: var c = SHA_CTX(); SHA1_Init(&c); state = .sha1(c)
        case .sha256: var c = SHA256_CTX(); SHA256_Init(&c); state = .sha256(c)
        case .crc32: state = .crc(0, castagnoli: false)
        case .crc32c: state = .crc(0, castagnoli: true)
        }
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        switch state {
        case .none: break
        case .md5(var c): MD5_Update(&c, base, bytes.count); state = .md5(c)
        case .sha1(var c): SHA1_Update(&c, base, bytes.count); state = .sha1(c)
        case .sha256(var c): SHA256_Update(&c, base, bytes.count); state = .sha256(c)
        case .crc(let v, let castagnoli):
            state = .crc(CRC32.update(v, bytes, table: castagnoli ? CRC32.castagnoli : CRC32.ieee), castagnoli: castagnoli)
        }
    }

    package mutating func finalize() -> [UInt8] {
        switch state {
        case .none: return []
        case .md5(var c): var out = [UInt8](repeating: 0, count: 16); MD5_Final(&out, &c); return out
        case .sha1(var c): var out = [UInt8](repeating: 0, count: 20); SHA1_Final(&out, &c); return out
        case .sha256(var c): var out = [UInt8](repeating: 0, count: 32); SHA256_Final(&out, &c); return out
        case .crc(let v, _): return [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        }
    }

    /// The header value S3 expects: base64 of the digest.
    package mutating func finalizeBase64() -> String { Base64.encode(finalize()) }

    package static func base64(_ algorithm: ChecksumAlgorithm, of bytes: UnsafeRawBufferPointer) -> String {
        var h = ChecksumHasher(algorithm)
        h.update(bytes)
        return h.finalizeBase64()
    }
}

/// CRC-32 (IEEE) and CRC-32C (Castagnoli), slicing-by-8.
package enum CRC32 {
    static let ieee = makeTables(0xEDB8_8320)
    static let castagnoli = makeTables(0x82F6_3B78)

    private static func makeTables(_ poly: UInt32) -> [UInt32] {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? poly ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xff)] }
        }
        return t
    }

    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer, table: [UInt32]) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = c ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
                c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int(lo >> 8 & 0xff)]
                    ^ t[5 * 256 + Int(lo >> 16 & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int(hi >> 8 & 0xff)]
                    ^ t[1 * 256 + Int(hi >> 16 & 0xff)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n { c = t[Int((c ^ UInt32(bytes[i])) & 0xff)] ^ (c >> 8); i += 1 }
        }
        return ~c
    }
}
