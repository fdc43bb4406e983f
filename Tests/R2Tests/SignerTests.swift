import Testing
@testable import R2

@Suite struct SignerTests {
    @Test func emptyHashConstant() {
        #expect(Hex.encode(Digest.sha256("")) == SigV4Signer.emptyPayloadHash)
    }
}
