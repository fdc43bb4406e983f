/// A secret (secret access key, session token) whose description is redacted
/// and whose bytes are zeroed when the last copy is released.
public final class Secret: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let storage: UnsafeMutableBufferPointer<UInt8>

    public init(_ value: String) {
        let utf8 = Array(value.utf8)
        storage = .allocate(capacity: max(utf8.count, 1))
        _ = storage.initialize(from: utf8)
        if utf8.isEmpty { storage[0] = 0 }
        count = utf8.count
    }

    private let count: Int

    deinit {
        if let base = storage.baseAddress { secureZeroRaw(base, storage.count) }
        storage.deallocate()
    }

    /// Calls `body` with the secret's bytes; do not let them escape.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.baseAddress, count: count))
    }

    var isEmpty: Bool { count == 0 }

    /// Only for values that are sent on the wire anyway (a session token).
    func reveal() -> String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

import CCrypto
func secureZeroRaw(_ p: UnsafeMutableRawPointer, _ n: Int) { OPENSSL_cleanse(p, n) }
