/// Checks made before anything is signed or sent.
package enum Validate {
    /// R2/S3 bucket names: 3–63 characters of lowercase letters, digits and
    /// hyphens, starting and ending with a letter or digit (so never an IPv4
    /// address: no dots).
    package static func bucket(_ name: String) throws(R2Error) { try bucket(utf8: name.utf8) }

    /// `bucket(_:)` on UTF-8 bytes (the C ABI's borrowed strings).
    package static func bucket(utf8 bytes: some BidirectionalCollection<UInt8>) throws(R2Error) {
        func fail(_ why: String) -> R2Error {
            R2Error(.invalidBucketName, "invalid bucket name \"\(printable(String(decoding: bytes, as: UTF8.self)))\": \(why)")
        }
        guard (3...63).contains(bytes.count) else { throw fail("must be 3 to 63 characters long") }
        for b in bytes {
            let ok = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d
            guard ok else { throw fail("only lowercase letters, digits and hyphens are allowed") }
        }
        guard bytes.first! != 0x2d, bytes.last! != 0x2d else { throw fail("must start and end with a letter or digit") }
    }

    /// Object keys: 1–1024 bytes of UTF-8 with no NUL.
    package static func key(_ key: String) throws(R2Error) { try self.key(utf8: key.utf8) }

    /// `key(_:)` on UTF-8 bytes.
    package static func key(utf8 key: some Collection<UInt8>) throws(R2Error) {
        let n = key.count
        guard n >= 1 else { throw R2Error(.invalidObjectName, "object key must not be empty") }
        guard n <= 1024 else {
            throw R2Error(.invalidObjectName, "object key is \(n) bytes long; the maximum is 1024")
        }
        guard !key.contains(0) else { throw R2Error(.invalidObjectName, "object key must not contain NUL") }
    }

    package static func presignExpiry(_ seconds: Int64) throws(R2Error) {
        guard (1...604_800).contains(seconds) else {
            throw R2Error.invalidArgument("presign expiry is \(seconds) s; it must be between 1 and 604800 s (7 days)")
        }
    }

    /// A bounded, control-character-free rendering of user input for messages.
    static func printable(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(80) {
            out += scalar.value < 0x20 || scalar.value == 0x7f ? "?" : String(scalar)
        }
        return s.unicodeScalars.count > 80 ? out + "…" : out
    }
}
