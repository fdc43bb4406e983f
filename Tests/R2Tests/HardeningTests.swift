import Testing
@testable import R2
import R2Testing

/// Issue 15's defects, each at the unit that fixes it (the hostile-server
/// cases in Tests/Hostile/hostile.py drive the same through the C ABI).
@Suite struct HardeningTests {
    private func listing(_ inner: String) -> [UInt8] {
        Array(("<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
               + inner + "</ListBucketResult>").utf8)
    }

    @Test(arguments: ["<Contents><Key>a%00b</Key><Size>1</Size></Contents>",
                      "<CommonPrefixes><Prefix>p%00/</Prefix></CommonPrefixes>",
                      "<Prefix>x%00</Prefix>", "<StartAfter>%00</StartAfter>"])
    func aNulAfterURLDecodingIsMalformedNeverTruncated(_ inner: String) {
        let r = parse(listing(inner), S3XML.parseListObjectsV2)
        guard case .failure(let e) = r else { Issue.record("a NUL was accepted: \(r)"); return }
        #expect(e.code == .malformedResponse && e.message.contains("NUL"))
    }

    @Test func aNulInAnUploadKeyIsMalformed() {
        let body = Array(("<ListMultipartUploadsResult><Bucket>b</Bucket><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
                          + "<Upload><Key>a%00</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>").utf8)
        guard case .failure(let e) = parse(body, S3XML.parseListMultipartUploads) else { Issue.record("accepted"); return }
        #expect(e.code == .malformedResponse)
    }

    @Test func aRawNulCharacterReferenceIsNotWellFormed() {
        // Without encoding-type=url a NUL can only come as &#0;, which XML 1.0 forbids.
        let body = Array("<ListBucketResult><Contents><Key>a&#0;b</Key></Contents></ListBucketResult>".utf8)
        guard case .failure(let e) = parse(body, S3XML.parseListObjectsV2) else { Issue.record("accepted"); return }
        #expect(e.code == .malformedResponse)
    }

    private func page(_ keys: [String], prefixes: [String] = [], token: String? = nil) -> ListBucketResult {
        var r = ListBucketResult(name: "b", prefix: "", delimiter: "", maxKeys: 1000, keyCount: keys.count, isTruncated: token != nil,
                                 continuationToken: nil, nextContinuationToken: token, startAfter: "", encodingType: "url",
                                 contents: [], commonPrefixes: prefixes)
        r.contents = keys.map { ListBucketResult.Entry(key: $0, lastModified: "", etag: "", size: 1, storageClass: "") }
        return r
    }

    @Test func aListingThatDoesNotAdvanceIsMalformed() throws {
        var p = ListingProgress()
        try p.check(page(["a", "b"], prefixes: ["c/"], token: "t1"), sentToken: nil)
        try p.check(page(["c0", "d"], token: "t2"), sentToken: "t1")  // "c0" > "c/" in byte order
        #expect(throws: R2Error.self) { try p.check(page(["e"], token: "t2"), sentToken: "t2") }  // the same token back
        var q = ListingProgress()
        try q.check(page(["a", "b"], token: "A"), sentToken: nil)
        #expect(throws: R2Error.self) { try q.check(page(["a", "b"], token: "B"), sentToken: "A") }  // keys go round
        var r = ListingProgress()
        try r.check(page(["a-b"], prefixes: ["a/"], token: "A"), sentToken: nil)
        #expect(throws: R2Error.self) { try r.check(page(["a/"]), sentToken: "A") }  // a repeat of the last name
        var empty = ListingProgress()
        try empty.check(page([], token: "A"), sentToken: nil)
        try empty.check(page(["z"]), sentToken: "A")
    }

    @Test func retryAfterSecondsAndHTTPDates() {
        let now: Int64 = 1_700_000_000
        #expect(RetryAfter.milliseconds("120", now: now) == 120_000)
        #expect(RetryAfter.milliseconds(" 0 ", now: now) == 0)
        #expect(RetryAfter.milliseconds("99999999999999999999999", now: now) == 86_400_000, "clamped to a day, no overflow")
        #expect(RetryAfter.milliseconds("Tue, 14 Nov 2023 22:13:27 GMT", now: now) == 7_000, "HTTP-date 7 s ahead")
        #expect(RetryAfter.milliseconds("Tue, 14 Nov 2023 22:13:00 GMT", now: now) == 0, "a date in the past")
        #expect(RetryAfter.milliseconds("Fri, 14 Nov 2025 22:13:20 GMT", now: now) == 86_400_000, "two years ahead: a day")
        for bad in ["", "-5", "soon", "Tue, 14 Nov 2023 22:13:20 PST", "Tue, 32 Nov 2023 22:13:20 GMT", "1.5"] {
            #expect(RetryAfter.milliseconds(bad, now: now) == nil, "\(bad)")
        }
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
    }

    @Test func aRetryAfterAboveTheCapIsJitteredBelowIt() {
        let p = RetryPolicy()
        let delays = stride(from: 0.0, to: 1.0, by: 0.1).map { p.delayMs(.slowDown, retry: 1, retryAfterMs: 86_400_000, random: $0) }
        #expect(delays.allSatisfy { (15_000...30_000).contains($0) }, "\(delays)")
        #expect(Set(delays).count > 5, "not one fixed 30 s: \(delays)")
    }

    @Test func tinyRateLimitsAreRefusedAndTheLimiterCannotOverflow() {
        for rate in [5e-11, 1e-300, .leastNonzeroMagnitude, -1, .nan, .infinity] {
            var o = ResilienceOptions()
            o.rateLimit = rate
            #expect(throws: R2Error.self) { try o.validate() }
        }
        var o = ResilienceOptions()
        o.rateLimit = 0.001
        #expect(throws: Never.self) { try o.validate() }
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 1e-300, clock: clock.clock)  // past validation, still no trap
        limiter.acquire()
        limiter.acquire()
        #expect(clock.sleepsMs == [86_400_000])
    }

    private func head(_ status: Int, _ headers: [(String, String)]) -> ResponseHead {
        ResponseHead(status: status, headers: headers.map { (name: $0.0, value: $0.1) })
    }

    @Test func contentRangeParsing() {
        #expect(ContentRange.parse("bytes 0-9/100")! == (0, 9, 100))
        #expect(ContentRange.parse("bytes 5-5/*")! == (5, 5, nil))
        for bad in ["bytes 9-0/100", "bytes 0-100/100", "bytes 0-9", "items 0-9/100", "bytes -1-9/100", "bytes 0-9/1x0", "bytes 0--9/100"] {
            #expect(ContentRange.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func aRangedAnswerMustBeTheRangeAsked() throws {
        let part = try RequestedRange("bytes=100-199", objectSize: 1000)
        #expect(part.problem(head(206, [("Content-Range", "bytes 100-199/1000"), ("Content-Length", "100")])) == nil)
        #expect(part.problem(head(206, [("Content-Range", "bytes 200-299/1000"), ("Content-Length", "100")])) != nil, "another range")
        #expect(part.problem(head(206, [("Content-Range", "bytes 100-199/2000")])) != nil, "another object size")
        #expect(part.problem(head(206, [("Content-Range", "bytes 100-149/1000")])) != nil, "shorter, not at the end")
        #expect(part.problem(head(206, [("Content-Range", "bytes 100-199/1000"), ("Content-Length", "99")])) != nil, "length disagrees")
        #expect(part.problem(head(200, [("Content-Length", "1000")])) != nil, "a 200 is the whole object")
        #expect(part.problem(head(206, [])) != nil, "no Content-Range")
        // The caller's own ranges: the end may be clamped to the object's last byte.
        let open = try RequestedRange("bytes=100-", objectSize: nil)
        #expect(open.problem(head(206, [("Content-Range", "bytes 100-999/1000")])) == nil)
        #expect(open.problem(head(206, [("Content-Range", "bytes 100-500/1000")])) != nil)
        let clamped = try RequestedRange("bytes=990-2000", objectSize: nil)
        #expect(clamped.problem(head(206, [("Content-Range", "bytes 990-999/1000")])) == nil)
        let suffix = try RequestedRange("bytes=-10", objectSize: nil)
        #expect(suffix.problem(head(206, [("Content-Range", "bytes 990-999/1000")])) == nil)
        #expect(suffix.problem(head(206, [("Content-Range", "bytes 0-9/1000")])) != nil)
        #expect(try RequestedRange("bytes=-5000", objectSize: nil).problem(head(206, [("Content-Range", "bytes 0-999/1000")])) == nil)
    }
}
