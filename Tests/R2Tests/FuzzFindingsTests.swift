import Testing
@testable import R2

// One test per fuzzing finding (scripts/fuzz.sh); the crashing input is also
// kept in Tests/Fuzz/corpus/<target>/crash-*, which `make fuzz-smoke` replays.

@Suite struct FuzzFindingsTests {
    @Test func jsonHighSurrogateWithoutALowOneIsAnErrorNotATrap() throws {
        // "\ud83d\u00de" overflowed the code point arithmetic and trapped.
        #expect(throws: R2Error.self) { try R2.JSON.parse(Array(#"["\ud83d\u00de"]"#.utf8)) }
        #expect(throws: R2Error.self) { try R2.JSON.parse(Array(#""\udbff\uffff""#.utf8)) }
        #expect(try R2.JSON.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
    }

    @Test func metadataThatLooksLikeAnEncodedWordSurvivesTheRoundTrip() {
        // Sent as is, it came back decoded ("=?UTF-8?B?aGk=?=" became "hi").
        for value in ["=?UTF-8?B?w6ljaGFudGlsbG9u?=", "=?utf-8?q?a_b?=", "=?UTF-8?B?YQ==?= =?UTF-8?Q?b?="] {
            let wire = RFC2047.encodeIfNeeded(value)
            #expect(wire != value)
            #expect(RFC2047.decode(wire) == value)
        }
        #expect(RFC2047.encodeIfNeeded("=?not an encoded word") == "=?not an encoded word")
    }

    @Test func anEndpointHostWithAColonIsRefused() throws {
        // "https://h:st:443" was accepted as host "h:st", whose URL does not parse back.
        #expect(throws: R2Error.self) { try Endpoint.parse("https://h:st:443", allowHTTP: false) }
        #expect(throws: R2Error.self) { try Endpoint.parse("https://::1", allowHTTP: false) }
        let v6 = try Endpoint.parse("https://[::1]:8443", allowHTTP: false)
        #expect(v6.host == "[::1]" && v6.port == 8443)
        #expect(try Endpoint.parse("https://[::1]", allowHTTP: false).host == "[::1]")
    }

    @Test func transferStateFilesWithOutOfRangeNumbersAreRefusedNotATrap() throws {
        // A damaged state file's huge or negative size was converted to UInt64 and trapped.
        let huge = #"{"format": "r2-upload-state/1", "bucket": "b", "key": "k", "upload_id": "u1", "size": 1e300, "part_size": 10485760, "parts": [{"number": 1e30, "etag": "e"}]}"#
        #expect(throws: R2Error.self) { try UploadState.parse(Array(huge.utf8), path: "s.json") }
        let negative = #"{"format": "r2-upload-state/1", "bucket": "b", "key": "k", "upload_id": "u1", "size": 10, "part_size": -1}"#
        #expect(throws: R2Error.self) { try UploadState.parse(Array(negative.utf8), path: "s.json") }
        let good = #"{"format": "r2-upload-state/1", "bucket": "b", "key": "k", "upload_id": "u1", "size": 10, "part_size": 5, "parts": [{"number": 1, "etag": "e"}, {"number": 1e30, "etag": "x"}]}"#
        let state = try #require(try UploadState.parse(Array(good.utf8), path: "s.json"))
        #expect(state.size == 10 && state.partSize == 5 && state.parts == [1: "e"])

        #expect(try DownloadState.parse(Array(#"{"format": "r2-download-state/1", "etag": "e", "size": -5, "part_size": 5}"#.utf8)) == nil)
        #expect(try DownloadState.parse(Array(#"{"format": "r2-download-state/1", "etag": "e", "size": 5, "part_size": 1e19}"#.utf8)) == nil)
        let download = try #require(try DownloadState.parse(Array(#"{"format": "r2-download-state/1", "etag": "e", "size": 5, "part_size": 5, "parts": [1, -1e300]}"#.utf8)))
        #expect(download.parts == [1])
    }

    @Test func jsonNumbersBeyondDoubleAreRefused() throws {
        // "1e3086" was read as infinity and written back as "inf", which is not JSON.
        #expect(throws: R2Error.self) { try R2.JSON.parse(Array("1e3086".utf8)) }
        #expect(throws: R2Error.self) { try R2.JSON.parse(Array("[-1e400]".utf8)) }
        #expect(try R2.JSON.parse(Array("1.5e300".utf8)) == .number(1.5e300))
    }

    @Test func retryAfterIsWholeNonNegativeSecondsAndCapped() {
        func retryAfter(_ value: String) -> Int64? {
            R2Client.error(from: ResponseHead(status: 503, headers: [("Retry-After", value)]), body: [], isHead: false).retryAfterMs
        }
        // "-1" gave -1000 ms (the C ABI's "none" is -1); 19 digits overflowed and trapped.
        #expect(retryAfter("-1") == nil)
        #expect(retryAfter("-04") == nil)
        // Huge values are capped at a day (the hardening's cap), never overflowed.
        #expect(retryAfter("9223372036854775807") == 86_400_000)
        #expect(retryAfter("18446744073709551615") == 86_400_000)
        #expect(retryAfter(" 7 ") == 7000)
    }
}
