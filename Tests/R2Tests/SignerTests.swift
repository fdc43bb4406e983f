import Synchronization
import Testing
@testable import R2

/// The Amazon S3 documentation's "GET Object" example (sig-v4-header-based-auth),
/// also in Tests/Fixtures/testdata/sigv4/s3-doc-examples.json.
private let docCredentials = Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                         secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
private let docTime: Int64 = 1_369_353_600  // 2013-05-24T00:00:00Z

@Suite struct SignerTests {
    @Test func emptyHashConstant() {
        #expect(Hex.encode(Digest.sha256("")) == SigV4Signer.emptyPayloadHash)
    }

    @Test func s3DocumentationGetObjectExample() {
        let signer = SigV4Signer(credentials: docCredentials, region: "us-east-1", clock: { docTime })
        let request = SigV4Signer.Request(method: "GET", path: "/test.txt",
                                          headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                                          payloadHash: SigV4Signer.emptyPayloadHash)
        let signed = signer.sign(request)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.canonicalRequest.hasSuffix("host;range;x-amz-content-sha256;x-amz-date\n" + SigV4Signer.emptyPayloadHash))
        #expect(signed.headers.contains { $0.name == "x-amz-content-sha256" && $0.value == SigV4Signer.emptyPayloadHash })
    }

    @Test func pathIsSignedWithoutNormalisation() {
        let signer = SigV4Signer(credentials: docCredentials, clock: { docTime })
        let request = SigV4Signer.Request(method: "GET", path: "/b/a/./c/../d//e", headers: [("host", "h")],
                                          payloadHash: SigV4Signer.unsignedPayload)
        #expect(signer.sign(request).canonicalRequest.hasPrefix("GET\n/b/a/./c/../d//e\n"))
    }

    @Test func signingKeyIsCachedPerDayAndDerivedAgainWhenTheDayChanges() {
        let now = Mutex(docTime)
        let signer = SigV4Signer(credentials: docCredentials, clock: { now.withLock { $0 } })
        let request = SigV4Signer.Request(method: "GET", path: "/b/k", headers: [("host", "h")],
                                          payloadHash: SigV4Signer.emptyPayloadHash)
        let first = signer.sign(request)
        let hitsAfterFirst = signer.signingKeyCacheHits
        let second = signer.sign(request)
        #expect(signer.signingKeyCacheHits > hitsAfterFirst)
        #expect(second.signature == first.signature)
        now.withLock { $0 += 86_400 }
        let nextDay = signer.sign(request)
        #expect(nextDay.authorization.contains("/20130525/auto/s3/aws4_request"))
        #expect(first.authorization.contains("/20130524/auto/s3/aws4_request"))
        // The re-derived key signs exactly as a fresh signer would.
        let fresh = SigV4Signer(credentials: docCredentials, clock: { docTime + 86_400 })
        #expect(nextDay.signature == fresh.sign(request).signature)
    }

    @Test func sessionTokenIsSigned() {
        let creds = Credentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "TOKEN")
        let signer = SigV4Signer(credentials: creds, clock: { docTime })
        let signed = signer.sign(.init(method: "HEAD", path: "/b/k", headers: [("host", "h")],
                                       payloadHash: SigV4Signer.emptyPayloadHash))
        #expect(signed.canonicalRequest.contains("x-amz-security-token:TOKEN\n"))
        #expect(signed.authorization.contains("x-amz-security-token"))
    }
}

@Suite struct ClientPresignTests {
    let client: R2Client

    init() throws {
        var config = ClientConfig(accountID: "0123456789abcdef0123456789abcdef",
                                  credentials: Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s3cr3t-never-shown"))
        config.jurisdiction = .eu
        client = try R2Client(config: config, clock: { docTime })
    }

    @Test func presignedURLIsPathStyleOnTheJurisdictionHost() throws {
        let url = try client.presign(method: "GET", bucket: "my-bucket", key: "dir/a b+c.txt", expiresIn: 3600)
        #expect(url.hasPrefix("https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com/my-bucket/dir/a%20b%2Bc.txt?"))
        #expect(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fauto%2Fs3%2Faws4_request"))
        #expect(url.contains("X-Amz-Expires=3600"))
        #expect(!url.contains("s3cr3t"))
    }

    @Test(arguments: [Int64(0), -1, 604_801])
    func presignExpiryOutOfRangeIsRefused(seconds: Int64) {
        #expect(throws: R2Error.self) { try client.presign(method: "GET", bucket: "my-bucket", key: "k", expiresIn: seconds) }
    }

    @Test func presignRefusesPOST() {
        #expect(throws: R2Error.self) { try client.presign(method: "POST", bucket: "my-bucket", key: "k", expiresIn: 60) }
    }

    @Test func secretNeverAppearsInDescriptions() {
        #expect(!String(describing: client.config).contains("s3cr3t"))
        #expect(!String(reflecting: client.config).contains("s3cr3t"))
        #expect(!String(describing: client.config.credentials).contains("s3cr3t"))
    }
}

@Suite struct ValidationTests {
    @Test(arguments: ["abc", "my-bucket-1", String(repeating: "a", count: 63)])
    func validBuckets(name: String) throws { try Validate.bucket(name) }

    @Test(arguments: ["ab", String(repeating: "a", count: 64), "My-Bucket", "-abc", "abc-", "a_b", "192.168.1.1", "a.b"])
    func invalidBuckets(name: String) {
        #expect(throws: R2Error.self) { try Validate.bucket(name) }
    }

    @Test func keys() throws {
        try Validate.key("k")
        try Validate.key(String(repeating: "é", count: 512))
        #expect(throws: R2Error.self) { try Validate.key("") }
        #expect(throws: R2Error.self) { try Validate.key(String(repeating: "a", count: 1025)) }
        #expect(throws: R2Error.self) { try Validate.key("a\0b") }
    }
}
