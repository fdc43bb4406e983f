import Glibc
import Testing
@testable import R2

private func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// The package root, found from this file's path (tests run from any directory).
private let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/R2Tests/ObjectTests.swift
    return parts.joined(separator: "/")
}()

private func tempPath(_ name: String) -> String {
    var template = Array("/tmp/r2-swift-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return dir + "/" + name
}

private func replayClient(_ path: String, latency: Bool = false) throws -> R2Client {
    var config = ClientConfig(accountID: "", credentials: Credentials(accessKeyID: "AKIDREPLAY", secretAccessKey: "replay"),
                              endpoint: "http://127.0.0.1:9")
    config.allowHTTP = true
    config.replayPath = path
    config.replayLatency = latency
    return try R2Client(config: config)
}

/// A cassette recorded by the C tests (Tests/CABITests/test_objects.c) against
/// SeaweedFS, replayed from Swift with no server.
@Suite struct CrossLanguageReplayTests {
    static let cassettes: [String] = [packageRoot + "/Tests/Fixtures/c-session.json"] + (env("R2_TEST_C_CASSETTE").map { [$0] } ?? [])

    @Test(arguments: cassettes)
    func cassetteRecordedFromCReplaysFromSwift(path: String) throws {
        let client = try replayClient(path)
        try client.putObject(bucket: "r2-test", key: "cassette/a.txt", body: Array("recorded body".utf8))
        let got = try client.getObject(bucket: "r2-test", key: "cassette/a.txt")
        #expect(got.body == Array("recorded body".utf8))
        #expect(got.info.etag.hasPrefix("\""))
        do {
            _ = try client.getObject(bucket: "r2-test", key: "cassette/missing")
            Issue.record("the recorded 404 must be replayed as an error")
        } catch {
            #expect(error.code == .noSuchKey)
            #expect(error.httpStatus == 404)
        }
        var options = ListOptions()
        options.prefix = "cassette/"
        let page = try client.listObjects(bucket: "r2-test", options: options)
        #expect(page.result.contents.map(\.key) == ["cassette/a.txt"])
        try client.deleteObject(bucket: "r2-test", key: "cassette/a.txt")
        do {
            try client.deleteObject(bucket: "r2-test", key: "cassette/a.txt")
            Issue.record("a request beyond the cassette must fail")
        } catch {
            #expect(error.code == .replayUnmatched)
            #expect(error.message.contains("DELETE /r2-test/cassette/a.txt"))
        }
    }

    @Test func replayIgnoresSignatureAndDateButNotTheKey() throws {
        let client = try replayClient(packageRoot + "/Tests/Fixtures/c-session.json")
        do {
            _ = try client.getObject(bucket: "r2-test", key: "cassette/other.txt")
            Issue.record("a different key must not match")
        } catch {
            #expect(error.code == .replayUnmatched)
        }
    }

    @Test func replaySimulatesRecordedLatency() throws {
        let path = packageRoot + "/Tests/Fixtures/c-session.json"
        let client = try replayClient(path, latency: true)
        let start = monotonicNanos()
        try client.putObject(bucket: "r2-test", key: "cassette/a.txt", body: Array("recorded body".utf8))
        let elapsedMs = Double(monotonicNanos() - start) / 1e6
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        let recorded = try #require(R2.JSON.parse(Array(text.utf8))["interactions"]?.array?.first?["latency_ms"]?.number)
        #expect(elapsedMs >= recorded * 0.9)
    }
}

/// Against the local SeaweedFS (make integration sets R2_TEST_*).
@Suite(.enabled(if: env("R2_TEST_ENDPOINT") != nil), .serialized)
struct ServerTests {
    let bucket = env("R2_TEST_BUCKET") ?? "r2-test"

    func client(tls: Bool = false, record: String? = nil) throws -> R2Client {
        var config = ClientConfig(accountID: "", credentials: Credentials(
            accessKeyID: env("R2_TEST_ACCESS_KEY_ID") ?? "", secretAccessKey: env("R2_TEST_SECRET_ACCESS_KEY") ?? ""))
        config.endpoint = tls ? env("R2_TEST_TLS_ENDPOINT") : env("R2_TEST_ENDPOINT")
        config.allowHTTP = !tls
        config.caBundlePath = env("R2_TEST_CA")
        config.recordPath = record
        return try R2Client(config: config)
    }

    @Test(arguments: [false, true])
    func roundTrip(tls: Bool) throws {
        let c = try client(tls: tls)
        let key = "swift/round trip ☃ \(tls ? "tls" : "http").bin"
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var options = PutOptions()
        options.contentType = "application/octet-stream"
        options.metadata = [("lang", "swift"), ("note", "ünïcode")]
        options.checksum = .crc32c
        let put = try c.putObject(bucket: bucket, key: key, body: body, options: options)
        #expect(put.etag.count > 2)
        let got = try c.getObject(bucket: bucket, key: key)
        #expect(got.body == body)
        #expect(got.info.metadata("note") == "ünïcode")
        var range = GetOptions()
        range.range = "bytes=10-19"
        #expect(try c.getObject(bucket: bucket, key: key, options: range).body == Array(body[10...19]))
        let head = try c.headObject(bucket: bucket, key: key)
        #expect(head.contentLength == 100_000)
        #expect(head.etag == put.etag)
        var seen = [UInt8]()
        try c.getObject(bucket: bucket, key: key) { chunk in seen += chunk; return true }
        #expect(seen == body)
        try c.deleteObject(bucket: bucket, key: key)
        #expect(throws: R2Error.self) { try c.headObject(bucket: bucket, key: key) }
    }

    @Test func listIteratorWalksEveryPage() throws {
        let c = try client()
        for i in 0..<5 { try c.putObject(bucket: bucket, key: "swift-list/k\(i)", body: [UInt8(i)]) }
        var options = ListOptions()
        options.prefix = "swift-list/"
        options.maxKeys = 2
        var it = c.listAllObjects(bucket: bucket, options: options)
        var keys: [String] = []
        while let e = try it.next() { keys.append(e.key) }
        #expect(keys == (0..<5).map { "swift-list/k\($0)" })
        #expect(it.pagesFetched == 3)
        let deleted = try c.deleteObjects(bucket: bucket, keys: keys)
        #expect(deleted.deleted.count == 5 && deleted.errors.isEmpty)
    }

    /// Record against the server, then replay the cassette with no server.
    @Test func recordThenReplay() throws {
        let path = tempPath("swift-session.json")
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }  // above the inline limit: a side file
        do {
            let rec = try client(record: path)
            try rec.putObject(bucket: bucket, key: "swift-rec/big", body: body)
            #expect(try rec.getObject(bucket: bucket, key: "swift-rec/big").body == body)
            try rec.deleteObject(bucket: bucket, key: "swift-rec/big")
        }
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        #expect(!text.contains(env("R2_TEST_SECRET_ACCESS_KEY") ?? "<none>"))
        #expect(!text.contains("Signature"))
        #expect(text.contains("body_file"))
        let replay = try replayClient(path)
        try replay.putObject(bucket: bucket, key: "swift-rec/big", body: body)
        #expect(try replay.getObject(bucket: bucket, key: "swift-rec/big").body == body)
        try replay.deleteObject(bucket: bucket, key: "swift-rec/big")
    }

    @Test func checksumValidationOnWholeObjectReads() throws {
        let c = try client()
        var options = PutOptions()
        options.checksum = .sha256
        try c.putObject(bucket: bucket, key: "swift/sum", body: Array("checked".utf8), options: options)
        var get = GetOptions()
        get.validateChecksum = true
        #expect(try c.getObject(bucket: bucket, key: "swift/sum", options: get).body == Array("checked".utf8))
        try c.deleteObject(bucket: bucket, key: "swift/sum")
    }
}

/// Replay of a hand-written cassette: checksum mismatch detection needs a
/// server that lies, which a cassette can do.
@Suite struct ChecksumReplayTests {
    @Test func mismatchedChecksumIsAnError() throws {
        let path = tempPath("lying.json")
        let body = Base64.encode(Array("hello".utf8))
        let wrong = Base64.encode(Digest.sha256("HELLO"))
        let doc = """
        {"format":"r2-cassette/1","interactions":[
          {"operation":"GetObject","request":{"method":"GET","path":"/b-1/k","headers":[],"body_size":0},
           "response":{"status":200,"headers":[["Content-Length","5"],["x-amz-checksum-sha256","\(wrong)"]],
                       "body_base64":"\(body)","body_size":5},"latency_ms":0},
          {"operation":"GetObject","request":{"method":"GET","path":"/b-1/k","headers":[],"body_size":0},
           "response":{"status":200,"headers":[["Content-Length","5"],["x-amz-checksum-sha256","\(wrong)"]],
                       "body_base64":"\(body)","body_size":5},"latency_ms":0}]}
        """
        try FileIO.write(path, Array(doc.utf8))
        let client = try replayClient(path)
        var get = GetOptions()
        get.validateChecksum = true
        do {
            _ = try client.getObject(bucket: "b-1", key: "k", options: get)
            Issue.record("a wrong checksum must fail")
        } catch {
            #expect(error.code == .checksumMismatch)
        }
        // Without asking for validation the same response is accepted.
        #expect(try client.getObject(bucket: "b-1", key: "k").body == Array("hello".utf8))
    }
}

@Suite struct ChecksumTests {
    // Published check values for "123456789".
    @Test func crcCheckValues() {
        let data = Array("123456789".utf8)
        data.withUnsafeBytes { raw in
            var h = ChecksumHasher(.crc32)
            h.update(raw)
            #expect(h.finalize() == [0xCB, 0xF4, 0x39, 0x26])
            var c = ChecksumHasher(.crc32c)
            c.update(raw)
            #expect(c.finalize() == [0xE3, 0x06, 0x92, 0x83])
        }
    }

    @Test func incrementalEqualsOneShot() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for algorithm in [ChecksumAlgorithm.crc32, .crc32c, .sha1, .sha256, .md5] {
            data.withUnsafeBytes { raw in
                var whole = ChecksumHasher(algorithm)
                whole.update(raw)
                var parts = ChecksumHasher(algorithm)
                parts.update(UnsafeRawBufferPointer(rebasing: raw[0..<3]))
                parts.update(UnsafeRawBufferPointer(rebasing: raw[3..<5001]))
                parts.update(UnsafeRawBufferPointer(rebasing: raw[5001...]))
                #expect(whole.finalize() == parts.finalize())
            }
        }
    }

    @Test func rfc2047() {
        #expect(RFC2047.encodeIfNeeded("plain") == "plain")
        let encoded = RFC2047.encodeIfNeeded("naïve ✓")
        #expect(encoded.hasPrefix("=?UTF-8?B?"))
        #expect(RFC2047.decode(encoded) == "naïve ✓")
        #expect(RFC2047.decode("=?utf-8?Q?caf=C3=A9_au_lait?=") == "café au lait")
        #expect(RFC2047.decode("=?not really") == "=?not really")
    }
}

@Suite struct ErrorMappingTests {
    @Test(arguments: [
        (403, "InvalidAccessKeyId", R2Error.Code.invalidAccessKey, false),
        (403, "SignatureDoesNotMatch", .signatureMismatch, false),
        (400, "ExpiredToken", .expiredCredentials, false),
        (401, "Unauthorized", .unauthorized, false),
        (404, "NoSuchBucket", .noSuchBucket, false),
        (403, "AccessDenied", .accessDenied, false),
        (404, "NoSuchKey", .noSuchKey, false),
        (412, "PreconditionFailed", .preconditionFailed, false),
        (304, "", .notModified, false),
        (400, "EntityTooLarge", .entityTooLarge, false),
        (416, "InvalidRange", .invalidRange, false),
        (404, "NoSuchUpload", .noSuchUpload, false),
        (400, "InvalidPart", .invalidPart, false),
        (400, "InvalidPartOrder", .invalidPartOrder, false),
        (400, "EntityTooSmall", .entityTooSmall, false),
        (500, "InternalError", .serverInternal, true),
        (503, "ServiceUnavailable", .serviceUnavailable, true),
        (503, "SlowDown", .slowDown, true),
        (429, "TooManyRequests", .slowDown, true),
        (429, "", .slowDown, true),
        (501, "NotImplemented", .notImplemented, false),
        (400, "BadDigest", .badDigest, false),
        (411, "MissingContentLength", .missingContentLength, false),
        (400, "InvalidRequest", .invalidRequest, false),
        (400, "IncompleteBody", .incompleteBody, true),
        (500, "", .serverInternal, true),
        (503, "", .serviceUnavailable, true),
        (412, "", .preconditionFailed, false),
        (418, "", .http, false),
    ])
    func mapping(status: Int, s3Code: String, code: R2Error.Code, retryable: Bool) {
        let e = R2Error.fromResponse(status: status, s3Code: s3Code, message: "", requestID: "rid", retryAfterMs: nil)
        #expect(e.code == code)
        #expect(e.isRetryable == retryable)
        #expect(e.httpStatus == status && e.requestID == "rid")
    }

    @Test func headWithoutBodyMapsByStatus() {
        #expect(R2Error.fromResponse(status: 404, s3Code: "", message: "", requestID: "", retryAfterMs: nil, isHead: true).code == .noSuchKey)
    }

    @Test func retryAfterIsKept() {
        let e = R2Error.fromResponse(status: 503, s3Code: "SlowDown", message: "", requestID: "", retryAfterMs: 2000)
        #expect(e.retryAfterMs == 2000 && e.isRetryable)
    }

    @Test(arguments: [
        (ResponseHead(status: 503, headers: [("Retry-After", "3")]), Int64(3000)),
        (ResponseHead(status: 429, headers: []), nil),
    ])
    func retryAfterHeaderIsRead(head: ResponseHead, expected: Int64?) {
        #expect(R2Client.error(from: head, body: [], isHead: false).retryAfterMs == expected)
    }
}

@Suite struct MultipartRuleTests {
    let mib: UInt64 = 1024 * 1024

    @Test func uniformPartsPass() throws {
        try MultipartLimits.validate(partSizes: [5 * mib, 5 * mib, 1])
        try MultipartLimits.validate(partSizes: [7 * mib])
        try MultipartLimits.validate(partSizes: [0])
        try MultipartLimits.validate(partSizes: [8 * mib, 8 * mib])
    }

    @Test(arguments: [
        ([5 * 1024 * 1024, 6 * 1024 * 1024, 1], R2Error.Code.invalidPart, "part 2"),
        ([5 * 1024 * 1024, 5 * 1024 * 1024, 6 * 1024 * 1024], .invalidPart, "last part (3)"),
        ([4 * 1024 * 1024, 4 * 1024 * 1024], .entityTooSmall, "part 1"),
        ([6 * 1024 * 1024 * 1024], .entityTooLarge, "part 1"),
    ] as [([UInt64], R2Error.Code, String)])
    func violationsNameThePart(sizes: [UInt64], code: R2Error.Code, names: String) {
        do {
            try MultipartLimits.validate(partSizes: sizes)
            Issue.record("\(sizes) must be refused")
        } catch {
            #expect(error.code == code)
            #expect(error.message.contains(names), "\(error.message)")
        }
    }

    /// R2's largest part is 5 GiB - 5 MiB, not 5 GiB.
    @Test func largestPart() throws {
        try MultipartLimits.validate(partSizes: [5 * 1024 * 1024 * 1024 - 5 * 1024 * 1024])
        #expect(throws: R2Error.self) { try MultipartLimits.validate(partSizes: [5 * 1024 * 1024 * 1024 - 5 * 1024 * 1024 + 1]) }
    }

    /// The multipart ETag: MD5 of the binary part MD5s, then -N (the value
    /// SeaweedFS and R2 gave for these two parts); other ETag forms give nil.
    @Test func multipartETag() {
        #expect(MultipartLimits.multipartETag(partETags: ["\"4359616ae6c90bc9d021c5b495f61264\"", "6a286f04916c6ac6c8860398590ae7f1"])
                == "1853e3887819a0ac65794bacbaf99f7f-2")
        #expect(MultipartLimits.multipartETag(partETags: ["AbCdEf+/old=="]) == nil)
        #expect(MultipartLimits.isHexMultipartETag("\"1853e3887819a0ac65794bacbaf99f7f-2\""))
        #expect(!MultipartLimits.isHexMultipartETag("AbCdEf+/old=="))
    }

    /// Parts already sent decide whether a new one can still end in a valid upload.
    @Test func sentPartsRefuseEarly() throws {
        let mib: UInt64 = 1024 * 1024
        let sent = SentParts()
        sent.record("u", number: 1, size: 5 * mib)
        try sent.check("u", number: 3, size: 5 * mib)       // a gap is fine: part 2 may come
        try sent.check("u", number: 2, size: 1)              // may be the last
        #expect(throws: R2Error.self) { try sent.check("u", number: 2, size: 6 * mib) }  // larger than part 1
        sent.record("u", number: 3, size: 1)
        #expect(throws: R2Error.self) { try sent.check("u", number: 2, size: 1) }        // 2 is not last, too small
        #expect(sent.sizes("u", [1, 3]) == [5 * mib, 1] && sent.sizes("u", [1, 2]) == nil)
    }

    @Test func tooManyParts() {
        #expect(throws: R2Error.self) { try MultipartLimits.validate(partSizes: Array(repeating: 5 * mib, count: 10_001)) }
    }

    @Test func plannerKeepsPreferredSizeWhenItFits() throws {
        #expect(try MultipartLimits.partSize(for: 1024 * mib, preferred: 10 * mib) == 10 * mib)
        #expect(try MultipartLimits.partSize(for: 1, preferred: 1) == 5 * mib)
    }

    @Test(arguments: [UInt64(100) << 30, UInt64(1) << 40, MultipartLimits.maxObjectSize] as [UInt64])
    func plannerFitsTenThousandParts(size: UInt64) throws {
        let part = try MultipartLimits.partSize(for: size, preferred: 10 * mib)
        let plan = try UploadPlan(size: size, partSize: part)
        #expect(plan.count <= 10_000)
        #expect(part % mib == 0 && part >= 5 * mib && part <= 5 * 1024 * mib)
        #expect(plan.sizes.dropLast().allSatisfy { $0 == part } && plan.sizes.last! <= part)
    }

    @Test func objectsAboveTheMaximumAreRefusedBeforeSending() {
        #expect(throws: R2Error.self) { try MultipartLimits.partSize(for: MultipartLimits.maxObjectSize + 1, preferred: 10 * mib) }
    }
}

/// Fails every UploadPart of one part number with a 500, on top of a real transport.
final class FailingPartTransport: Transport {
    let inner: any Transport
    let failingPart: String

    init(_ inner: any Transport, failingPart: Int) {
        self.inner = inner
        self.failingPart = "partNumber=\(failingPart)&"
    }

    func send<S: ResponseSink>(_ request: HTTPRequest, body: RequestBody, sink: inout S) throws(R2Error) {
        if request.operation == .uploadPart, let q = request.query, q.hasPrefix(failingPart) {
            sink.head(ResponseHead(status: 500, headers: [("x-amz-request-id", "injected")]))
            let xml = Array("<Error><Code>InternalError</Code><Message>injected</Message></Error>".utf8)
            _ = xml.withUnsafeBytes { sink.body($0) }
            return
        }
        try inner.send(request, body: body, sink: &sink)
    }
}

extension ServerTests {
    @Test func aPartThatFailsPermanentlyAbortsTheUpload() throws {
        let plain = try client()
        let failing = try R2Client(config: plain.config, clock: systemClock,
                                   transport: FailingPartTransport(plain.transport, failingPart: 3))
        let body = [UInt8](repeating: 7, count: 26 * 1024 * 1024)
        var options = TransferOptions()
        options.threshold = 5 * 1024 * 1024
        options.partSize = 5 * 1024 * 1024
        do {
            try body.withUnsafeBytes { raw in _ = try failing.uploadBytes(raw, bucket: bucket, key: "swift-fail/obj", options: options) }
            Issue.record("the upload must fail")
        } catch let error as R2Error {
            #expect(error.code == .serverInternal)
            #expect(error.requestID == "injected")
        }
        #expect(try plain.listMultipartUploads(bucket: bucket, prefix: "swift-fail/").isEmpty)
        #expect(throws: R2Error.self) { try plain.headObject(bucket: bucket, key: "swift-fail/obj") }
    }

    @Test func progressIsReportedOnTheCallingThreadAndEndsAtTheTotal() throws {
        let c = try client()
        let body = [UInt8](repeating: 1, count: 12 * 1024 * 1024)
        var options = TransferOptions()
        options.threshold = 5 * 1024 * 1024
        options.partSize = 5 * 1024 * 1024
        options.progressIntervalMs = 1
        let caller = pthread_self()
        var reports: [TransferProgress] = []
        var onCaller = true
        options.progress = { p in
            reports.append(p)
            onCaller = onCaller && pthread_equal(pthread_self(), caller) != 0
        }
        try body.withUnsafeBytes { raw in _ = try c.uploadBytes(raw, bucket: bucket, key: "swift-progress/obj", options: options) }
        #expect(onCaller)
        #expect(reports.last == TransferProgress(bytesDone: 12 * 1024 * 1024, bytesTotal: 12 * 1024 * 1024))
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone })
        try c.deleteObject(bucket: bucket, key: "swift-progress/obj")
    }
}

extension ServerTests {
    @Test func asyncAPI() async throws {
        let c = try client()
        try await c.putObject(bucket: bucket, key: "swift-async/a", body: Array("async".utf8))
        #expect(try await c.getObject(bucket: bucket, key: "swift-async/a").body == Array("async".utf8))
        #expect(try await c.headObject(bucket: bucket, key: "swift-async/a").contentLength == 5)
        var keys: [String] = []
        var options = ListOptions()
        options.prefix = "swift-async/"
        for try await entry in c.objects(bucket: bucket, options: options) { keys.append(entry.key) }
        #expect(keys == ["swift-async/a"])
        try await c.deleteObject(bucket: bucket, key: "swift-async/a")
        await #expect(throws: R2Error.self) { try await c.headObject(bucket: bucket, key: "swift-async/a") }
    }

    @Test func cancellingTheTaskCancelsTheTransfer() async throws {
        // At most 5 requests a second: the upload (create, 13 parts, complete) takes ~3 s
        // however fast the server is, so the cancel below always lands in the middle of it.
        var config = try client().config
        config.resilience.rateLimit = 5
        let c = try R2Client(config: config)
        let path = tempPath("big.bin")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(ftruncate(fd, 64 * 1024 * 1024) == 0)
        close(fd)
        var options = TransferOptions()
        options.threshold = 5 * 1024 * 1024
        options.partSize = 5 * 1024 * 1024
        options.concurrency = 1
        let task = Task { try await c.uploadFile(path: path, bucket: bucket, key: "swift-async/cancel", options: options) }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("the upload must be cancelled")
        } catch let error as R2Error {
            #expect(error.code == .cancelled)
        }
        #expect(try await c.listMultipartUploads(bucket: bucket, prefix: "swift-async/").isEmpty)
        unlink(path)
    }
}
