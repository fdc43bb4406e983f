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
}
