/// Payload hashing helpers shared by the C ABI and the transport.
package enum Payload {
    package static func sha256Hex(_ p: UnsafePointer<UInt8>?, _ n: Int) -> String {
        guard let p, n > 0 else { return SigV4Signer.emptyPayloadHash }
        return Hex.encode(Digest.sha256(UnsafeRawBufferPointer(start: p, count: n)))
    }
}
