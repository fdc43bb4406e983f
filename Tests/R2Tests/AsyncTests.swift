import Glibc
import Synchronization
import Testing
@testable import R2

private func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

private let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/R2Tests/AsyncTests.swift
    return parts.joined(separator: "/")
}()

/// Threads of this process now (entries of /proc/self/task).
func processThreads() -> Int {
    guard let dir = opendir("/proc/self/task") else { return -1 }
    defer { closedir(dir) }
    var n = 0
    while let entry = readdir(dir) { if entry.pointee.d_name.0 != 0x2E { n += 1 } }  // not "." or ".."
    return n
}

/// Runs a blocking call from an async test (inside an async function Swift picks the async overload).
func blocking<T>(_ body: () throws(R2Error) -> T) throws(R2Error) -> T { try body() }

/// A source that gives `chunks` and then nothing, ever (until the test ends it).
private func endlessSource(_ chunks: [[UInt8]]) -> (AsyncStream<[UInt8]>, AsyncStream<[UInt8]>.Continuation) {
    let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
    for c in chunks { continuation.yield(c) }
    return (stream, continuation)
}

/// The async API through the replay transport (no server): the C cassette
/// replayed by the async calls gives what the blocking calls give.
@Suite struct AsyncReplayTests {
    func replayClient() throws -> R2Client {
        var config = ClientConfig(accountID: "", credentials: Credentials(accessKeyID: "AKIDREPLAY", secretAccessKey: "replay"),
                                  endpoint: "http://127.0.0.1:9")
        config.allowHTTP = true
        config.replayPath = root + "/Tests/Fixtures/c-session.json"
        return try R2Client(config: config)
    }

    @Test func cassetteReplaysThroughTheAsyncCalls() async throws {
        let sync = try replayClient(), async = try replayClient()
        let body = Array("recorded body".utf8)
        let put = try blocking { () throws(R2Error) in try sync.putObject(bucket: "r2-test", key: "cassette/a.txt", body: body) }
        #expect(try await async.putObject(bucket: "r2-test", key: "cassette/a.txt", body: body).etag == put.etag)
        let got = try blocking { () throws(R2Error) in try sync.getObject(bucket: "r2-test", key: "cassette/a.txt") }
        let gotAsync = try await async.getObject(bucket: "r2-test", key: "cassette/a.txt")
        #expect(gotAsync.body == got.body && gotAsync.body == body)
        #expect(gotAsync.info.etag == got.info.etag)
        var missing: [R2Error.Code] = []
        do { _ = try blocking { () throws(R2Error) in try sync.getObject(bucket: "r2-test", key: "cassette/missing") } } catch { missing.append(error.code) }
        do { _ = try await async.getObject(bucket: "r2-test", key: "cassette/missing") } catch { missing.append(error.code) }
        #expect(missing == [.noSuchKey, .noSuchKey])
        var options = ListOptions()
        options.prefix = "cassette/"
        let page = try blocking { () throws(R2Error) in try sync.listObjects(bucket: "r2-test", options: options).result }
        var keys: [String] = []
        for try await entry in async.objects(bucket: "r2-test", options: options) { keys.append(entry.key) }
        #expect(keys == page.contents.map(\.key) && keys == ["cassette/a.txt"])
        try blocking { () throws(R2Error) in try sync.deleteObject(bucket: "r2-test", key: "cassette/a.txt") }
        try await async.deleteObject(bucket: "r2-test", key: "cassette/a.txt")
        // Beyond the cassette: the same typed error in both modes.
        do {
            try await async.deleteObject(bucket: "r2-test", key: "cassette/a.txt")
            Issue.record("a request beyond the cassette must fail")
        } catch {
            #expect(error.code == .replayUnmatched)
        }
    }

    @Test func invalidArgumentsThrowBeforeAnyRequest() async throws {
        let c = try replayClient()
        do { _ = try await c.getObject(bucket: "Bad_Bucket", key: "k"); Issue.record("must fail") } catch {
            #expect(error.code == .invalidBucketName)
        }
        do {
            _ = try await c.getObjectStream(bucket: "r2-test", key: "k", bufferBytes: 0)
            Issue.record("must fail")
        } catch {
            #expect(error.code == .invalidArgument)
        }
    }

    /// A task cancelled before its call starts fails with `.cancelled` and sends nothing.
    @Test func aCancelledTaskSendsNothing() async throws {
        let c = try replayClient()
        let task = Task { () async throws(R2Error) -> GetObjectOutput in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await c.getObject(bucket: "r2-test", key: "cassette/a.txt")
        }
        do { _ = try await task.value; Issue.record("must be cancelled") } catch let error as R2Error {
            #expect(error.code == .cancelled)
        }
    }
}

/// The async API against the local SeaweedFS (make integration sets R2_TEST_*).
@Suite(.enabled(if: env("R2_TEST_ENDPOINT") != nil), .serialized)
struct AsyncServerTests {
    let bucket = env("R2_TEST_BUCKET") ?? "r2-test"

    func client() throws -> R2Client {
        var config = ClientConfig(accountID: "", credentials: Credentials(
            accessKeyID: env("R2_TEST_ACCESS_KEY_ID") ?? "", secretAccessKey: env("R2_TEST_SECRET_ACCESS_KEY") ?? ""))
        config.endpoint = env("R2_TEST_ENDPOINT")
        config.allowHTTP = true
        return try R2Client(config: config)
    }

    static func pattern(_ n: Int, seed: Int = 0) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 2_654_435_761 >> 13) }
    }

    @Test func objectCallsMatchTheBlockingOnes() async throws {
        let c = try client()
        let body = Self.pattern(300_000)
        var put = PutOptions()
        put.contentType = "application/x-test"
        put.metadata = [("mode", "async")]
        let info = try await c.putObject(bucket: bucket, key: "swift-aio-obj/a", body: body, options: put)
        #expect(info.etag == (try blocking { () throws(R2Error) in try c.headObject(bucket: bucket, key: "swift-aio-obj/a") }).etag)
        let got = try await c.getObject(bucket: bucket, key: "swift-aio-obj/a")
        let gotBlocking = try blocking { () throws(R2Error) in try c.getObject(bucket: bucket, key: "swift-aio-obj/a") }
        #expect(got.body == body && got.body == gotBlocking.body)
        #expect(got.info.etag == gotBlocking.info.etag && got.info.metadata("mode") == "async")
        var range = GetOptions()
        range.range = "bytes=100-199"
        #expect(try await c.getObject(bucket: bucket, key: "swift-aio-obj/a", options: range).body == Array(body[100...199]))
        let head = try await c.headObject(bucket: bucket, key: "swift-aio-obj/a")
        #expect(head.contentLength == 300_000 && head.contentType == "application/x-test")
        let copy = try await c.copyObject(sourceBucket: bucket, sourceKey: "swift-aio-obj/a", bucket: bucket, key: "swift-aio-obj/b")
        #expect(MultipartLimits.bareETag(copy.result.etag) == MultipartLimits.bareETag(info.etag))
        var options = ListOptions()
        options.prefix = "swift-aio-obj/"
        let page = try await c.listObjects(bucket: bucket, options: options)
        let blockingPage = try blocking { () throws(R2Error) in try c.listObjects(bucket: bucket, options: options) }
        #expect(page.result.contents.map(\.key) == blockingPage.result.contents.map(\.key))
        #expect(page.result.contents.map(\.key) == ["swift-aio-obj/a", "swift-aio-obj/b"])
        let deleted = try await c.deleteObjects(bucket: bucket, keys: ["swift-aio-obj/a", "swift-aio-obj/b"])
        #expect(Set(deleted.deleted.map(\.key)) == ["swift-aio-obj/a", "swift-aio-obj/b"] && deleted.errors.isEmpty)
        for mode in ["blocking", "async"] {
            do {
                if mode == "async" { _ = try await c.headObject(bucket: bucket, key: "swift-aio-obj/a") }
                else { _ = try blocking { () throws(R2Error) in try c.headObject(bucket: bucket, key: "swift-aio-obj/a") } }
                Issue.record("\(mode): must fail")
            } catch {
                #expect(error.code == .noSuchKey, "\(mode)")
            }
        }
        try await c.deleteObject(bucket: bucket, key: "swift-aio-obj/a")  // deleting a missing key succeeds
    }

    /// Hundreds of calls in flight hold no thread each (the old API started one per call).
    @Test func concurrentCallsStartNoThreads() async throws {
        let c = try client()
        try await c.putObject(bucket: bucket, key: "swift-aio/small", body: Self.pattern(4096))
        _ = try await c.getObject(bucket: bucket, key: "swift-aio/small")  // the engine is up
        let before = processThreads()
        let peak = Mutex(before)
        let sampler = Task.detached {
            while !Task.isCancelled {
                let n = processThreads()
                peak.withLock { $0 = max($0, n) }
                usleep(1000)
            }
        }
        let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<500 { group.addTask { try await c.getObject(bucket: bucket, key: "swift-aio/small").body.count } }
            var all: [Int] = []
            for try await n in group { all.append(n) }
            return all
        }
        sampler.cancel()
        _ = await sampler.value
        #expect(sizes.count == 500 && sizes.allSatisfy { $0 == 4096 })
        #expect(peak.withLock { $0 } - before < 16, "threads grew from \(before) to \(peak.withLock { $0 })")
        try await c.deleteObject(bucket: bucket, key: "swift-aio/small")
    }

    /// A slow consumer pauses the transfer: what waits stays near the buffer's size, and every byte arrives in order.
    @Test func streamedGetAppliesBackpressure() async throws {
        let c = try client()
        let body = Self.pattern(4 << 20, seed: 1)
        try await c.putObject(bucket: bucket, key: "swift-aio/stream", body: body)
        let limit = 64 * 1024
        let stream = try await c.getObjectStream(bucket: bucket, key: "swift-aio/stream", bufferBytes: limit)
        #expect(stream.info.contentLength == Int64(body.count))
        var got: [UInt8] = []
        var chunks = 0
        for try await chunk in stream.body {
            got += chunk
            chunks += 1
            if chunks % 8 == 0 { try? await Task.sleep(nanoseconds: 2_000_000) }  // slower than the loopback
        }
        #expect(got == body)
        let (pauses, peak) = stream.body.owner.channel.backpressure
        #expect(pauses > 0)
        // At most the limit plus the one chunk accepted just under it (curl's buffer, 16 KiB or a bulk 512 KiB).
        #expect(peak < limit + 512 * 1024, "peak \(peak)")
        // Dropping a stream unread cancels its request; the next one works.
        _ = try await c.getObjectStream(bucket: bucket, key: "swift-aio/stream", bufferBytes: limit)
        let again = try await c.getObjectStream(bucket: bucket, key: "swift-aio/stream")
        #expect(try await again.body.collect() == body)
        try await c.deleteObject(bucket: bucket, key: "swift-aio/stream")
    }

    @Test func streamedGetOfAMissingKeyThrowsTyped() async throws {
        let c = try client()
        do { _ = try await c.getObjectStream(bucket: bucket, key: "swift-aio/none"); Issue.record("must fail") } catch {
            #expect(error.code == .noSuchKey && error.httpStatus == 404)
        }
        do {
            for try await _ in try c.downloadStream(bucket: bucket, key: "swift-aio/none") { Issue.record("no chunk") }
            Issue.record("must fail")
        } catch {
            #expect(error.code == .noSuchKey)
        }
    }

    @Test func putFromAnAsyncSequence() async throws {
        let c = try client()
        let body = Self.pattern(3 << 20, seed: 2)
        // Uneven chunks from a producer slower than the network (the transfer pauses on "no data yet").
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let producer = Task {
            var at = 0, n = 1
            while at < body.count {
                let end = min(at + n * 7_919, body.count)
                continuation.yield(Array(body[at..<end]))
                at = end
                n = n % 50 + 1
                if n % 10 == 0 { try? await Task.sleep(nanoseconds: 1_000_000) }
            }
            continuation.finish()
        }
        let info = try await c.putObject(bucket: bucket, key: "swift-aio/put-seq", length: UInt64(body.count), body: stream,
                                         bufferBytes: 128 * 1024)
        _ = await producer.value
        let back = try await c.getObject(bucket: bucket, key: "swift-aio/put-seq")
        #expect(back.body == body && back.info.etag == info.etag)

        // A source shorter or longer than announced, or one that fails.
        let short = AsyncStream<[UInt8]> { $0.yield([1, 2, 3]); $0.finish() }
        do { try await c.putObject(bucket: bucket, key: "swift-aio/bad", length: 10, body: short); Issue.record("short") } catch {
            #expect(error.code == .incompleteBody)
        }
        let long = AsyncStream<[UInt8]> { $0.yield([1, 2, 3]); $0.yield([4, 5]); $0.finish() }
        do { try await c.putObject(bucket: bucket, key: "swift-aio/bad", length: 4, body: long); Issue.record("long") } catch {
            #expect(error.code == .incompleteBody)
        }
        struct Broken: Error {}
        let failing = AsyncThrowingStream<[UInt8], any Error> { $0.yield([1]); $0.finish(throwing: Broken()) }
        do { try await c.putObject(bucket: bucket, key: "swift-aio/bad", length: 4, body: failing); Issue.record("failing") } catch {
            #expect(error.code == .aborted && error.message.contains("Broken"))
        }
        // (SeaweedFS may keep an empty object after a PUT cut mid-body, as after a blocking one: not checked.)
        _ = try? await c.deleteObject(bucket: bucket, key: "swift-aio/bad")
        try await c.deleteObject(bucket: bucket, key: "swift-aio/put-seq")
    }

    /// Cancelling the task ends a request in flight (here a PUT waiting for its source) with `.cancelled`.
    @Test func cancellingTheTaskCancelsTheRequest() async throws {
        let c = try client()
        let (stream, continuation) = endlessSource([[UInt8](repeating: 7, count: 1000)])
        let task = Task { () async throws(R2Error) -> ObjectInfo in
            try await c.putObject(bucket: bucket, key: "swift-aio/cancel", length: 1 << 20, body: stream)
        }
        try await Task.sleep(nanoseconds: 200_000_000)  // the PUT is on the wire, paused for data
        task.cancel()
        do { _ = try await task.value; Issue.record("must be cancelled") } catch let error as R2Error {
            #expect(error.code == .cancelled)
        }
        continuation.finish()
        do { _ = try await c.headObject(bucket: bucket, key: "swift-aio/cancel"); Issue.record("nothing may be stored") } catch {
            #expect(error.code == .noSuchKey)
        }

        // A consumer cancelled while it waits for the next chunk of a stream.
        try await c.putObject(bucket: bucket, key: "swift-aio/cancel-get", body: Self.pattern(1 << 20))
        let reader = Task { () async throws(R2Error) -> Int in
            let s = try await c.getObjectStream(bucket: bucket, key: "swift-aio/cancel-get", bufferBytes: 16 * 1024)
            var n = 0
            for try await chunk in s.body {
                n += chunk.count
                if n >= 16 * 1024 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return n
        }
        do { let n = try await reader.value; Issue.record("must be cancelled, read \(n)") } catch let error as R2Error {
            #expect(error.code == .cancelled)
        }
        try await c.deleteObject(bucket: bucket, key: "swift-aio/cancel-get")
    }

    @Test func listingIsTypedAndBounded() async throws {
        let c = try client()
        for i in 0..<5 { try await c.putObject(bucket: bucket, key: "swift-aio-list/k\(i)", body: [UInt8(i)]) }
        var options = ListOptions()
        options.prefix = "swift-aio-list/"
        options.maxKeys = 2
        var it = c.objects(bucket: bucket, options: options).makeAsyncIterator()
        var keys: [String] = [], held = 0
        while let e = try await it.next() {
            keys.append(e.key)
            held = max(held, it.page.count)
        }
        #expect(keys == (0..<5).map { "swift-aio-list/k\($0)" })
        #expect(held == 2)  // one page at a time
        #expect(try await it.next() == nil)
        _ = try await c.deleteObjects(bucket: bucket, keys: keys)
        do {
            for try await _ in c.objects(bucket: "no-such-bucket-r2") { Issue.record("no entries") }
            Issue.record("must fail")
        } catch {
            let typed: R2Error = error  // the sequence's Failure is R2Error
            #expect(typed.code == .noSuchBucket)
        }
    }

    @Test func multipartCallsMatchTheBlockingOnes() async throws {
        let c = try client()
        let part = 5 << 20
        let body = Self.pattern(2 * part + 1000, seed: 3)
        let upload = try await c.createMultipartUpload(bucket: bucket, key: "swift-aio-mp/obj")
        let p1 = try await c.uploadPart(upload, partNumber: 1, body: Array(body[0..<part]), checksum: .crc32)
        let p2 = try await c.uploadPart(upload, partNumber: 2, body: Array(body[part..<(2 * part)]))
        try await c.putObject(bucket: bucket, key: "swift-aio-mp/tail", body: Array(body[(2 * part)...]))
        let p3 = try await c.uploadPartCopy(upload, partNumber: 3, sourceBucket: bucket, sourceKey: "swift-aio-mp/tail", range: nil)
        let listed = try await c.listParts(upload)
        let listedBlocking = try blocking { () throws(R2Error) in try c.listParts(upload) }
        #expect(listed.map(\.partNumber) == [1, 2, 3] && listed == listedBlocking)
        #expect(listed.map(\.size) == [UInt64(part), UInt64(part), 1000])
        let uploads = try await c.listMultipartUploads(bucket: bucket, prefix: "swift-aio-mp/")
        #expect(uploads.map(\.uploadID) == [upload.uploadID])
        let done = try await c.completeMultipartUpload(upload, parts: [p3, p1, p2])
        #expect(MultipartLimits.bareETag(done.etag) == MultipartLimits.multipartETag(partETags: [p1, p2, p3].map(\.etag)))
        #expect(try await c.getObject(bucket: bucket, key: "swift-aio-mp/obj").body == body)
        // A part breaking R2's equal-size rule is refused before sending, as by the blocking call.
        let other = try await c.createMultipartUpload(bucket: bucket, key: "swift-aio-mp/aborted")
        _ = try await c.uploadPart(other, partNumber: 1, body: Array(body[0..<part]))
        do { _ = try await c.uploadPart(other, partNumber: 2, body: [1, 2, 3]); _ = try await c.uploadPart(other, partNumber: 3, body: [1]); Issue.record("must be refused") } catch {
            #expect(error.code == .invalidPart || error.code == .entityTooSmall, "\(error)")
        }
        try await c.abortMultipartUpload(other)
        do { _ = try await c.listParts(other); Issue.record("the upload is gone") } catch {
            #expect(error.code == .noSuchUpload)
        }
        #expect(try await c.listMultipartUploads(bucket: bucket, prefix: "swift-aio-mp/").isEmpty)
        _ = try await c.deleteObjects(bucket: bucket, keys: ["swift-aio-mp/obj", "swift-aio-mp/tail"])
    }

    @Test func transfers() async throws {
        let c = try client()
        let body = Self.pattern(12 << 20, seed: 4)
        var options = TransferOptions()
        options.threshold = 5 << 20
        options.partSize = 5 << 20
        options.concurrency = 3
        let reports = Mutex<[TransferProgress]>([])
        options.progress = { p in reports.withLock { $0.append(p) } }
        let info = try await c.uploadBytes(body, bucket: bucket, key: "swift-aio-tm/bytes", options: options)
        #expect(info.contentLength == Int64(body.count))
        #expect(MultipartLimits.bareETag(info.etag).hasSuffix("-3"))  // three parts
        #expect(reports.withLock { $0.last } == TransferProgress(bytesDone: UInt64(body.count), bytesTotal: UInt64(body.count)))
        #expect(try await c.getObject(bucket: bucket, key: "swift-aio-tm/bytes").body == body)

        let path = "/tmp/r2-swift-aio-\(getpid()).bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(body.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == body.count)
        close(fd)
        defer { unlink(path) }
        options.progress = nil
        let fromFile = try await c.uploadFile(path: path, bucket: bucket, key: "swift-aio-tm/file", options: options)
        #expect(MultipartLimits.bareETag(fromFile.etag) == MultipartLimits.bareETag(info.etag))  // same parts, same multipart ETag
        var small = options
        small.threshold = 64 << 20
        _ = try await c.uploadFile(path: path, bucket: bucket, key: "swift-aio-tm/one-put", options: small)
        #expect(try await c.headObject(bucket: bucket, key: "swift-aio-tm/one-put").contentLength == Int64(body.count))

        // A large copy (UploadPartCopy above the threshold) and a ranged download, on the engine too.
        let copied = try await c.copyLarge(sourceBucket: bucket, sourceKey: "swift-aio-tm/file", bucket: bucket, key: "swift-aio-tm/copy",
                                           options: options)
        #expect(copied.contentLength == Int64(body.count))
        // The same as a stream of ranged parts, read by a slow consumer.
        var got: [UInt8] = []
        let parts = try c.downloadStream(bucket: bucket, key: "swift-aio-tm/copy", options: options, bufferBytes: 1 << 20)
        // Nobody reads yet, so the engine must stop at the buffer's size: wait for that pause
        // (a slow reader alone is not enough on a loaded machine, where the network may be slower).
        var waitedMs = 0
        while parts.owner.channel.backpressure.pauses == 0 && waitedMs < 10_000 {
            try? await Task.sleep(nanoseconds: 10_000_000)
            waitedMs += 10
        }
        for try await chunk in parts {
            got += chunk
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(got == body)
        #expect(parts.owner.channel.backpressure.pauses > 0)
        let out = path + ".out"
        defer { unlink(out) }
        _ = try await c.downloadFile(bucket: bucket, key: "swift-aio-tm/copy", path: out, options: options)
        #expect(try FileIO.read(out) == body)
        _ = try await c.deleteObjects(bucket: bucket, keys: ["swift-aio-tm/bytes", "swift-aio-tm/file", "swift-aio-tm/one-put", "swift-aio-tm/copy"])
    }

    /// Chunks of `sizes` bytes of `body`, in order, as an AsyncStream.
    static func chunks(_ body: [UInt8], _ size: Int) -> AsyncStream<[UInt8]> {
        AsyncStream { c in
            var at = 0
            while at < body.count { c.yield(Array(body[at..<min(at + size, body.count)])); at += size }
            c.finish()
        }
    }

    @Test func uploadStreamOfUnknownLength() async throws {
        let c = try client()
        var options = TransferOptions()
        options.partSize = 5 << 20
        options.concurrency = 2
        // (size, length told or not, parts: 0 for one PUT). An unknown length is always multipart.
        for (size, told, parts) in [(11 << 20, false, 3), (10 << 20, false, 2), (100_000, false, 1), (100_000, true, 0)] {
            let body = Self.pattern(size, seed: size)
            let info = try await c.uploadStream(bucket: bucket, key: "swift-aio-us/obj", length: told ? UInt64(size) : nil,
                                                body: Self.chunks(body, 300_007), options: options)
            let got = try await c.getObject(bucket: bucket, key: "swift-aio-us/obj")
            #expect(got.body == body, "\(size)")
            #expect(got.info.contentLength == Int64(size) && MultipartLimits.bareETag(info.etag) == MultipartLimits.bareETag(got.info.etag))
            #expect(parts == 0 ? !got.info.etag.contains("-") : MultipartLimits.bareETag(got.info.etag).hasSuffix("-\(parts)"))
        }
        // A source failing after two parts: the error, and no upload left behind.
        struct Broken: Error {}
        let half = Self.pattern(11 << 20)
        let failing = AsyncThrowingStream<[UInt8], any Error> { c in
            var at = 0
            while at < half.count { c.yield(Array(half[at..<min(at + 1 << 20, half.count)])); at += 1 << 20 }
            c.finish(throwing: Broken())
        }
        do { try await c.uploadStream(bucket: bucket, key: "swift-aio-us/broken", body: failing, options: options); Issue.record("must fail") } catch {
            #expect(error.code == .aborted)
        }
        #expect(try await c.listMultipartUploads(bucket: bucket, prefix: "swift-aio-us/").isEmpty)
        try await c.deleteObject(bucket: bucket, key: "swift-aio-us/obj")
    }
}
