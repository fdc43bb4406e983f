import CCrypto

/// SHA-256 over libcrypto's low-level API: no per-call algorithm fetch, and a
/// context that can be copied to resume from a precomputed state (HMAC pads).
struct SHA256Hasher {
    private var ctx = SHA256_CTX()

    init() { SHA256_Init(&ctx) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress, bytes.count > 0 { SHA256_Update(&ctx, base, bytes.count) }
    }

    mutating func update<C: ContiguousBytes>(_ bytes: C) {
        bytes.withUnsafeBytes { update($0) }
    }

    mutating func update(_ string: String) {
        var s = string
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        SHA256_Final(&out, &ctx)
        return out
    }
}

/// The bytes-view protocol we need without Foundation.
protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

enum Digest {
    static func sha256<C: ContiguousBytes>(_ data: C) -> [UInt8] {
        var h = SHA256Hasher()
        h.update(data)
        return h.finalize()
    }

    static func sha256(_ string: String) -> [UInt8] {
        var h = SHA256Hasher()
        h.update(string)
        return h.finalize()
    }

    static func md5<C: ContiguousBytes>(_ data: C) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        data.withUnsafeBytes { raw in
            var ctx = MD5_CTX()
            MD5_Init(&ctx)
            if let base = raw.baseAddress, raw.count > 0 { MD5_Update(&ctx, base, raw.count) }
            MD5_Final(&out, &ctx)
        }
        return out
    }

    static func hmacSHA256<K: ContiguousBytes>(key: K, _ message: String) -> [UInt8] {
        HMACKey(key).authenticate(message)
    }
}

/// A HMAC-SHA256 key with its inner and outer pad states precomputed, so each
/// use costs two SHA-256 finalisations and no key schedule.
package struct HMACKey: Sendable {
    private let inner: SHA256_CTX
    private let outer: SHA256_CTX

    init<K: ContiguousBytes>(_ key: K) {
        var block = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { raw in
            if raw.count > 64 {
                let d = Digest.sha256(raw)
                block.replaceSubrange(0..<32, with: d)
            } else {
                for i in 0..<raw.count { block[i] = raw[i] }
            }
        }
        var ipad = block.map { $0 ^ 0x36 }
        var opad = block.map { $0 ^ 0x5c }
        var i = SHA256_CTX(), o = SHA256_CTX()
        SHA256_Init(&i); SHA256_Update(&i, &ipad, 64)
        SHA256_Init(&o); SHA256_Update(&o, &opad, 64)
        inner = i; outer = o
        for k in 0..<64 { block[k] = 0; ipad[k] = 0; opad[k] = 0 }
    }

    func authenticate(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var i = inner
        if let base = message.baseAddress, message.count > 0 { SHA256_Update(&i, base, message.count) }
        var mid = [UInt8](repeating: 0, count: 32)
        SHA256_Final(&mid, &i)
        var o = outer
        SHA256_Update(&o, mid, 32)
        var out = [UInt8](repeating: 0, count: 32)
        SHA256_Final(&out, &o)
        return out
    }

    /// Writes the 32-byte MAC of `message` to `out`, allocating nothing.
    func authenticate(_ message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        var i = inner
        if let base = message.baseAddress, message.count > 0 { SHA256_Update(&i, base, message.count) }
        SHA256_Final(out, &i)
        var o = outer
        SHA256_Update(&o, out, 32)
        SHA256_Final(out, &o)
    }

    func authenticate(_ message: String) -> [UInt8] {
        var m = message
        return m.withUTF8 { authenticate(UnsafeRawBufferPointer($0)) }
    }

    func authenticate(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { authenticate($0) }
    }
}

extension SHA256_CTX: @retroactive @unchecked Sendable {}

enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    /// Digit tables in static storage: no lazy initialisation on each use.
    static var lower: UnsafePointer<UInt8> { ("0123456789abcdef" as StaticString).utf8Start }
    static var upper: UnsafePointer<UInt8> { ("0123456789ABCDEF" as StaticString).utf8Start }

    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0f)]) }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buf in
            var j = 0
            for b in bytes {
                buf[j] = digits[Int(b >> 4)]; buf[j + 1] = digits[Int(b & 0x0f)]
                j += 2
            }
            return j
        }
    }
}

enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode<C: ContiguousBytes>(_ data: C) -> String {
        data.withUnsafeBytes { raw in
            var out = [UInt8]()
            out.reserveCapacity((raw.count + 2) / 3 * 4)
            var i = 0
            while i + 2 < raw.count {
                let n = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2])
                out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
                out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
                i += 3
            }
            let rest = raw.count - i
            if rest == 1 {
                let n = UInt32(raw[i]) << 16
                out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
                out.append(61); out.append(61)
            } else if rest == 2 {
                let n = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8
                out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
                out.append(alphabet[Int(n >> 6 & 63)]); out.append(61)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func decode(_ string: String) -> [UInt8]? {
        var table = [Int16](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int16(i) }
        var out = [UInt8]()
        var acc: UInt32 = 0, bits = 0
        for c in string.utf8 {
            if c == 61 { break }  // '='
            if c == 10 || c == 13 { continue }
            let v = table[Int(c)]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        return out
    }
}

/// Overwrites memory in a way the optimiser may not remove.
func secureZero(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { raw in
        if let base = raw.baseAddress { OPENSSL_cleanse(base, raw.count) }
    }
}
