// libFuzzer entry point for every parser of untrusted bytes in the R2 module.
//
// Built by scripts/fuzz.sh together with Sources/R2 into one module (so the
// internal parsers are reachable without a test hook in the library or its
// C ABI), with `-sanitize=fuzzer,address`. R2_FUZZ_TARGET picks the target;
// scripts/fuzz.sh reads their names from `targets` below. Besides "no crash", each target checks a
// property that must hold for every input (round trips, invariants): a
// violated one is a finding, reported by a trap.

#if canImport(Glibc)
import Glibc
#endif

/// Fails the run (libFuzzer saves the input) with a message.
func check(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !ok() {
        fail("fuzz property violated: \(what())")
    }
}

func fail(_ message: String) -> Never {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    abort()
}

/// Splits the input into `n` fields at newlines; the last one takes the rest.
func fields(_ bytes: [UInt8], _ n: Int) -> [String] {
    var out: [String] = []
    var rest = bytes[...]
    while out.count < n - 1, let nl = rest.firstIndex(of: 0x0a) {
        out.append(String(decoding: rest[..<nl], as: UTF8.self))
        rest = rest[(nl + 1)...]
    }
    out.append(String(decoding: rest, as: UTF8.self))
    while out.count < n { out.append("") }
    return out
}

/// A parsed document's JSON rendering must be JSON the reader accepts.
func checkRenders(_ doc: some JSONRenderable) {
    let text = doc.json
    check((try? JSON.parse(Array(text.utf8))) != nil, "rendering is not valid JSON: \(text)")
}

/// A parse either renders or fails as MalformedResponse. With `embeddedErrors`
/// (CopyObject and CompleteMultipartUpload, whose 200 answers may be an
/// `<Error>` document) a document with an `Error` root fails as the S3 error
/// it carries, which is that parser's job.
func fuzzXML(_ bytes: [UInt8], embeddedErrors: Bool = false, _ parse: ([UInt8]) throws(R2Error) -> some JSONRenderable) {
    do { checkRenders(try parse(bytes)) } catch {
        let embedded = embeddedErrors && error.httpStatus == 200 && error.message.hasSuffix("(an error document in a 200 response)")
        check(error.code == .malformedResponse || embedded, "XML failure is not MalformedResponse: \(error)")
    }
}

func fuzzJSON(_ bytes: [UInt8]) {
    guard let value = try? JSON.parse(bytes) else { return }
    for pretty in [true, false] {
        let text = value.serialized(pretty: pretty)
        guard let again = try? JSON.parse(Array(text.utf8)) else { check(false, "serialized JSON does not parse: \(text)"); return }
        check(again == value, "JSON round trip changed the value: \(text)")
    }
    // The resumable-transfer state files are read with this reader.
    _ = try? DownloadState.parse(bytes)
    _ = try? UploadState.parse(bytes, path: "state.json")
}

func fuzzCassette(_ bytes: [UInt8]) {
    guard let replay = try? ReplayTransport(cassette: bytes, path: "/nonexistent/fuzz-cassette.json") else { return }
    check(replay.unusedCount >= 0, "negative count")
}

func fuzzEndpoint(_ bytes: [UInt8]) {
    let s = String(decoding: bytes, as: UTF8.self)
    for allowHTTP in [false, true] {
        guard let e = try? Endpoint.parse(s, allowHTTP: allowHTTP) else { continue }
        check(e.port.map { (1...65535).contains($0) } ?? true, "port out of range: \(e)")
        // What the client sends to must parse back to the same endpoint.
        let again = try? Endpoint.parse(e.baseURL, allowHTTP: allowHTTP)
        check(again == e, "endpoint \(e.baseURL) does not parse back to itself")
    }
}

func fuzzRFC2047(_ bytes: [UInt8]) {
    let s = String(decoding: bytes, as: UTF8.self)
    _ = RFC2047.decode(s)
    // A metadata value sent must come back as it was.
    let wire = RFC2047.encodeIfNeeded(s)
    check(wire.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f }, "encoded value is not printable ASCII: \(wire)")
    check(RFC2047.decode(wire) == s, "metadata value \(Array(s.utf8)) does not survive encode+decode")
}

func fuzzHeaders(_ bytes: [UInt8]) {
    // Each input line is one header line as curl delivers it (CRLF included).
    var status = 0
    var headers: [(name: String, value: String)] = []
    var rest = bytes[...]
    while !rest.isEmpty {
        let end = rest.firstIndex(of: 0x0a).map { $0 + 1 } ?? rest.endIndex
        let line = Array(rest[..<end])
        rest = rest[end...]
        switch line.withUnsafeBytes({ HeaderLine.parse($0) }) {
        case .status(let s): status = s; headers.removeAll()
        case .field(let name, let value): headers.append((name, value))
        case .other: break
        }
    }
    let head = ResponseHead(status: status, headers: headers)
    let info = ObjectInfo(head)
    check(info.httpStatus == status, "status lost")
    let error = R2Client.error(from: head, body: [], isHead: false)
    check(error.retryAfterMs.map { $0 >= 0 } ?? true, "negative Retry-After: \(error)")
    _ = R2Client.error(from: head, body: [], isHead: true)
    if let resume = Resume(head: head) {
        check(resume.start <= resume.end, "resume range \(resume.start)-\(resume.end)")
        _ = resume.headers(replacing: headers)
    }
    for (_, value) in headers {
        if let (a, b) = Resume.contentRange(value) { check(a <= b, "Content-Range \(value) gave \(a)-\(b)") }
    }
}

let fuzzSigner = SigV4Signer(credentials: Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                        clock: { 1_440_938_160 })

func fuzzSign(_ bytes: [UInt8]) {
    // method, path, query, time, then header lines "name:value".
    let f = fields(bytes, 5)
    var headers: [(name: String, value: String)] = []
    for line in f[4].split(separator: "\n", omittingEmptySubsequences: false) {
        let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        headers.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : ""))
    }
    let time = Int64(f[3]).map { SigningTime(unixSeconds: $0) }
    let request = SigV4Signer.Request(method: f[0], path: f[1], query: f[2].isEmpty ? nil : f[2], headers: headers,
                                 payloadHash: "UNSIGNED-PAYLOAD")
    let signed = fuzzSigner.sign(request, at: time)
    check(signed.signature.utf8.count == 64, "signature length")
    check(signed.headers.last?.name == "Authorization", "Authorization is not last")
    let presigned = fuzzSigner.presign(request, expires: 3600, at: time)
    check(presigned.query.hasSuffix("X-Amz-Signature=" + presigned.signature), "presigned query ends with the signature")
    // Keys are encoded once for the path; decoding gives the key back.
    let encoded = URIEncoding.encode(f[1], keepSlash: true)
    check(URIEncoding.decodeBytes(Substring(encoded).utf8) == Array(f[1].utf8), "URI encoding round trip")
    var canonical: [UInt8] = []
    SigV4Signer.appendCanonicalQuery(SigV4Signer.parseQueryBytes(f[2]), to: &canonical)
    check(!canonical.contains(0x20), "a canonical query has no raw space")
}

let targets: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
    ("xml-list-objects-v2", { fuzzXML($0, S3XML.parseListObjectsV2) }),
    ("xml-error", { fuzzXML($0, S3XML.parseError) }),
    ("xml-initiate-multipart-upload", { fuzzXML($0, S3XML.parseInitiateMultipartUpload) }),
    ("xml-complete-multipart-upload", { fuzzXML($0, embeddedErrors: true, S3XML.parseCompleteMultipartUpload) }),
    ("xml-list-parts", { fuzzXML($0, S3XML.parseListParts) }),
    ("xml-list-multipart-uploads", { fuzzXML($0, S3XML.parseListMultipartUploads) }),
    ("xml-copy-object", { fuzzXML($0, embeddedErrors: true, S3XML.parseCopyObject) }),
    ("xml-delete-result", { fuzzXML($0, S3XML.parseDeleteResult) }),
    ("cassette", fuzzCassette),
    ("json", fuzzJSON),
    ("endpoint", fuzzEndpoint),
    ("rfc2047", fuzzRFC2047),
    ("headers", fuzzHeaders),
    ("signer", fuzzSign),
]

let selected: @Sendable ([UInt8]) -> Void = {
    let name = getenv("R2_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let t = targets.first(where: { $0.name == name }) else {
        let line = "set R2_FUZZ_TARGET to one of: \(targets.map(\.name).joined(separator: " "))\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return t.run
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
