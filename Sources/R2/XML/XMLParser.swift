import CExpat
import Glibc

// A hardened streaming XML reader on expat, for S3 response bodies.
//
// S3 responses are small, flat documents without a DTD, so the reader refuses
// everything else: any DOCTYPE or entity declaration (so no entity is ever
// expanded and nothing external is ever loaded), nesting deeper than
// `XMLLimits.maxDepth`, a text node longer than `maxTextBytes`, a document
// longer than `maxDocumentBytes`, invalid UTF-8, a truncated document and
// anything after the root element. Elements are reported by their *local*
// name (namespace prefixes are dropped, xmlns attributes ignored), interned
// as an `XMLName`; sinks match them by name and path, never by position. The
// text and the path a sink sees are borrowed from the reader's buffers, so
// reading allocates nothing per element.

/// Bounds on what the reader accepts.
package struct XMLLimits: Sendable {
    /// Deepest element nesting; the root is depth 1. S3 documents use 4.
    package var maxDepth: Int = 64
    /// Longest text of one element, in bytes. S3 keys are at most 1024 bytes.
    package var maxTextBytes: Int = 64 * 1024
    /// Longest document, in bytes. A 1000-key listing is about 200 KiB.
    package var maxDocumentBytes: Int = 64 * 1024 * 1024

    package init() {}
}

/// The element names r2's sinks read. The reader reports every element by
/// one of these (`other` for any name no sink reads), so reading a document
/// makes no String per element.
package enum XMLName: UInt8, CaseIterable, Sendable {
    case other
    // Roots.
    case listBucketResult, error, initiateMultipartUploadResult, completeMultipartUploadResult, listPartsResult,
         listPartsResponse, listMultipartUploadsResult, copyObjectResult, copyPartResult, deleteResult,
         // the request bodies r2 writes (read back by its tests)
         delete, completeMultipartUpload
    // Everything else.
    case contents, key, lastModified, etag, size, storageClass, commonPrefixes, prefix, name, delimiter, maxKeys,
         keyCount, isTruncated, continuationToken, nextContinuationToken, startAfter, encodingType, code, message,
         requestID, resource, bucketName, hostID, bucket, uploadID, location, part, partNumber, partNumberMarker,
         nextPartNumberMarker, maxParts, upload, initiated, keyMarker, uploadIDMarker, nextKeyMarker,
         nextUploadIDMarker, maxUploads, deleted, versionID, deleteMarker, deleteMarkerVersionID, object, quiet

    /// The element's local name in the document.
    package var text: String {
        switch self {
        case .other: "?"
        case .listBucketResult: "ListBucketResult"
        case .error: "Error"
        case .initiateMultipartUploadResult: "InitiateMultipartUploadResult"
        case .completeMultipartUploadResult: "CompleteMultipartUploadResult"
        case .listPartsResult: "ListPartsResult"
        case .listPartsResponse: "ListPartsResponse"
        case .listMultipartUploadsResult: "ListMultipartUploadsResult"
        case .copyObjectResult: "CopyObjectResult"
        case .copyPartResult: "CopyPartResult"
        case .deleteResult: "DeleteResult"
        case .delete: "Delete"
        case .completeMultipartUpload: "CompleteMultipartUpload"
        case .contents: "Contents"
        case .key: "Key"
        case .lastModified: "LastModified"
        case .etag: "ETag"
        case .size: "Size"
        case .storageClass: "StorageClass"
        case .commonPrefixes: "CommonPrefixes"
        case .prefix: "Prefix"
        case .name: "Name"
        case .delimiter: "Delimiter"
        case .maxKeys: "MaxKeys"
        case .keyCount: "KeyCount"
        case .isTruncated: "IsTruncated"
        case .continuationToken: "ContinuationToken"
        case .nextContinuationToken: "NextContinuationToken"
        case .startAfter: "StartAfter"
        case .encodingType: "EncodingType"
        case .code: "Code"
        case .message: "Message"
        case .requestID: "RequestId"
        case .resource: "Resource"
        case .bucketName: "BucketName"
        case .hostID: "HostId"
        case .bucket: "Bucket"
        case .uploadID: "UploadId"
        case .location: "Location"
        case .part: "Part"
        case .partNumber: "PartNumber"
        case .partNumberMarker: "PartNumberMarker"
        case .nextPartNumberMarker: "NextPartNumberMarker"
        case .maxParts: "MaxParts"
        case .upload: "Upload"
        case .initiated: "Initiated"
        case .keyMarker: "KeyMarker"
        case .uploadIDMarker: "UploadIdMarker"
        case .nextKeyMarker: "NextKeyMarker"
        case .nextUploadIDMarker: "NextUploadIdMarker"
        case .maxUploads: "MaxUploads"
        case .deleted: "Deleted"
        case .versionID: "VersionId"
        case .deleteMarker: "DeleteMarker"
        case .deleteMarkerVersionID: "DeleteMarkerVersionId"
        case .object: "Object"
        case .quiet: "Quiet"
        }
    }
}

/// Finds an element's `XMLName` from its bytes: an open-addressing hash
/// table built once. The hash reads only the length and three bytes of the
/// name and the check compares it a word at a time, so a lookup costs a few
/// loads (it runs for every element of every document).
private struct XMLNameTable: @unchecked Sendable {
    private static let slotCount = 256
    /// The name in each slot (`.other`: empty), where its bytes start in
    /// `bytes` and how many there are.
    private let slotName: UnsafeMutablePointer<XMLName>
    private let slotStart: UnsafeMutablePointer<Int>
    private let slotCountOfBytes: UnsafeMutablePointer<Int>
    private let bytes: UnsafeMutablePointer<UInt8>

    static let shared = XMLNameTable()

    private init() {
        let names = XMLName.allCases.filter { $0 != .other }
        slotName = .allocate(capacity: Self.slotCount)
        slotName.initialize(repeating: .other, count: Self.slotCount)
        slotStart = .allocate(capacity: Self.slotCount)
        slotStart.initialize(repeating: 0, count: Self.slotCount)
        slotCountOfBytes = .allocate(capacity: Self.slotCount)
        slotCountOfBytes.initialize(repeating: 0, count: Self.slotCount)
        bytes = .allocate(capacity: names.reduce(0) { $0 + $1.text.utf8.count })
        var at = 0
        for name in names {
            let text = Array(name.text.utf8)
            for (k, b) in text.enumerated() { bytes[at + k] = b }
            var slot = text.withUnsafeBufferPointer { Self.hash($0.baseAddress!, $0.count) }
            while slotName[slot] != .other { slot = (slot + 1) & (Self.slotCount - 1) }
            slotName[slot] = name
            slotStart[slot] = at
            slotCountOfBytes[slot] = text.count
            at += text.count
        }
    }

    /// The slot to start probing at for the `n` (> 0) bytes at `p`.
    @inline(__always) private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        let h = (UInt32(p[0]) | UInt32(p[n >> 1]) << 8 | UInt32(p[n - 1]) << 16 | UInt32(truncatingIfNeeded: n) << 24)
            &* 0x9E37_79B1
        return Int(h >> 24)
    }

    /// Whether the `n` bytes at `a` and at `b` are equal, compared a word at a
    /// time (loads stay inside the `n` bytes: the last word overlaps).
    @inline(__always) private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let a = UnsafeRawPointer(a), b = UnsafeRawPointer(b)
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                guard a.loadUnaligned(fromByteOffset: i, as: UInt64.self) == b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                else { return false }
                i += 8
            }
            return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        var k = 0
        while k < n, a.load(fromByteOffset: k, as: UInt8.self) == b.load(fromByteOffset: k, as: UInt8.self) { k += 1 }
        return k == n
    }

    /// The name of the `n` bytes at `p` (`.other` for a name no sink reads).
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int) -> XMLName {
        guard n > 0 else { return .other }
        var slot = Self.hash(p, n)
        while true {
            let name = slotName[slot]
            if name == .other { return .other }
            if slotCountOfBytes[slot] == n, Self.equal(bytes + slotStart[slot], p, n) { return name }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}

/// The elements from the root (`path[0]`) to the current one. Valid only
/// during the sink call it is passed to.
package struct XMLPath {
    private let names: UnsafePointer<XMLName>
    package let count: Int

    init(_ names: UnsafePointer<XMLName>, _ count: Int) {
        self.names = names
        self.count = count
    }

    package subscript(_ i: Int) -> XMLName {
        precondition(i >= 0 && i < count, "XMLPath index out of range")
        return names[i]
    }

    package var last: XMLName { self[count - 1] }
}

/// Receives a document's elements.
package protocol XMLSink: AnyObject {
    /// Names accepted as the root element; the first one is named in the
    /// error when the root is something else.
    var rootNames: [XMLName] { get }
    /// An element closed; `text` is its character data after its last child
    /// (for a leaf, all of it), already XML-unescaped. Both are valid only
    /// during the call.
    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error)
}

/// The character data of one element, as UTF-8 bytes borrowed from the
/// reader: valid only during the `didEnd` call it is passed to.
package struct XMLText {
    package let bytes: UnsafeBufferPointer<UInt8>

    package init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The text exactly as sent (after XML unescaping).
    package func string() throws(R2Error) -> String {
        if bytes.isEmpty { return "" }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw XMLFailure.error("text is not valid UTF-8") }
        return s
    }

    /// The bytes with XML whitespace (space, tab, CR, LF) trimmed on both ends.
    private func trimmed() -> Slice<UnsafeBufferPointer<UInt8>> {
        var lo = bytes.startIndex, hi = bytes.endIndex
        while lo < hi, Self.isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    @inline(__always) private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// A decimal unsigned integer; surrounding whitespace is allowed.
    package func uint64(_ element: String) throws(R2Error) -> UInt64 {
        let digits = trimmed()
        guard !digits.isEmpty, digits.count <= 20 else { throw XMLFailure.badNumber(element, bytes) }
        var value: UInt64 = 0
        for b in digits {
            guard b >= 0x30, b <= 0x39 else { throw XMLFailure.badNumber(element, bytes) }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
            guard !o1, !o2 else { throw XMLFailure.badNumber(element, bytes) }
            value = s
        }
        return value
    }

    /// A decimal integer in 0...Int32.max (counts, part numbers, markers).
    package func int(_ element: String) throws(R2Error) -> Int {
        let v = try uint64(element)
        guard v <= UInt64(Int32.max) else { throw XMLFailure.badNumber(element, bytes) }
        return Int(v)
    }

    /// "true" or "false"; surrounding whitespace is allowed.
    package func bool(_ element: String) throws(R2Error) -> Bool {
        let t = trimmed()
        if t.elementsEqual("true".utf8) { return true }
        if t.elementsEqual("false".utf8) { return false }
        throw XMLFailure.error("<\(element)> is not true or false: \(XMLFailure.quote(bytes))")
    }
}

/// Checks UTF-8 one byte at a time (so bytes can be checked as they are
/// decoded): shortest forms only, no surrogates, nothing above U+10FFFF.
package struct UTF8Check {
    private var pending = 0
    private var low: UInt8 = 0x80, high: UInt8 = 0xBF

    package init() {}

    /// Takes the next byte; false when the bytes so far cannot be UTF-8.
    @inline(__always)
    package mutating func take(_ b: UInt8) -> Bool {
        if pending == 0 {
            switch b {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: pending = 1
            case 0xE0: pending = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: pending = 2
            case 0xED: pending = 2; high = 0x9F
            case 0xF0: pending = 3; low = 0x90
            case 0xF1...0xF3: pending = 3
            case 0xF4: pending = 3; high = 0x8F
            default: return false
            }
            return true
        }
        guard b >= low, b <= high else { return false }
        pending -= 1
        low = 0x80; high = 0xBF
        return true
    }

    /// Whether the bytes taken end on a whole character.
    package var isComplete: Bool { pending == 0 }

    /// Whether `bytes` are UTF-8 (ASCII runs are checked eight bytes at a time).
    package static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i + 8 <= n, UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        var check = UTF8Check()
        while i < n {
            guard check.take(base[i]) else { return false }
            i += 1
        }
        return check.isComplete
    }
}

/// Builders of the parse errors, all `.malformedResponse` starting "XML: ".
package enum XMLFailure {
    package static func error(_ message: String) -> R2Error { R2Error(.malformedResponse, "XML: " + message) }

    static func badNumber(_ element: String, _ text: UnsafeBufferPointer<UInt8>) -> R2Error {
        error("<\(element)> is not a valid number: \(quote(text))")
    }

    package static func duplicate(_ element: String) -> R2Error { error("<\(element)> appears more than once") }

    package static func missing(_ element: String, in parent: String) -> R2Error {
        error("<\(parent)> has no <\(element)>")
    }

    /// The start of `text`, quoted, for messages.
    static func quote(_ text: some Collection<UInt8>) -> String {
        let head = String(decoding: text.prefix(40), as: UTF8.self)
        var out = "\""
        for u in head.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out + (text.count > 40 ? "...\"" : "\"")
    }
}

/// Sets `slot` once; a second value for the same element is an error.
@inline(__always)
package func assignOnce<T>(_ slot: inout T?, _ value: T, _ element: String) throws(R2Error) {
    guard slot == nil else { throw XMLFailure.duplicate(element) }
    slot = value
}

/// One document being read. Feed it the body in pieces, then call `finish()`.
/// Not thread-safe; use one per document.
package final class XMLStreamParser {
    private let parser: XML_Parser
    private let sink: any XMLSink
    private let limits: XMLLimits
    private let names = XMLNameTable.shared
    // Only expat's callbacks on the parsing thread touch these, one at a time,
    // so the runtime's exclusivity checks are off. The path and the text are
    // raw buffers allocated once per document: an element costs no allocation.
    private let path: UnsafeMutablePointer<XMLName>
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var text: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var textCount = 0
    @exclusivity(unchecked) private var textCapacity = 256
    private var total = 0
    @exclusivity(unchecked) private var failure: R2Error?
    /// `failure != nil`, as a flag the callbacks test without copying the error.
    @exclusivity(unchecked) private var failed = false
    private var finished = false
    /// Whether expat has parsed the final buffer (`feed(_:last: true)`).
    private var finalParsed = false
    /// The root element's name, once seen (`.other` for a name no sink reads).
    package private(set) var rootName: XMLName?

    /// - Throws: `R2Error(.libraryBug)` if expat cannot allocate a parser.
    package init(sink: any XMLSink, limits: XMLLimits = XMLLimits()) throws(R2Error) {
        // Forcing UTF-8 overrides any encoding the document declares.
        guard let p = XML_ParserCreate("UTF-8") else { throw R2Error(.libraryBug, "XML: cannot create an expat parser") }
        parser = p
        self.sink = sink
        self.limits = limits
        path = .allocate(capacity: max(limits.maxDepth, 1))
        textCapacity = max(1, min(textCapacity, limits.maxTextBytes))
        text = .allocate(capacity: textCapacity)
        XML_SetUserData(p, Unmanaged.passUnretained(self).toOpaque())
        XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER)
        XML_SetStartDoctypeDeclHandler(p) { ud, _, _, _, _ in
            XMLStreamParser.with(ud) { $0.stop(XMLFailure.error("DOCTYPE is not allowed")) }
        }
        XML_SetEntityDeclHandler(p) { ud, _, _, _, _, _, _, _, _ in
            XMLStreamParser.with(ud) { $0.stop(XMLFailure.error("entity declarations are not allowed")) }
        }
        // Called with the parser, not the user data; returning 0 fails the parse.
        XML_SetExternalEntityRefHandler(p) { _, _, _, _, _ in 0 }
        XML_SetElementHandler(p, { ud, name, _ in
            guard let name else { return }
            XMLStreamParser.with(ud) { $0.start(name) }
        }, { ud, _ in
            XMLStreamParser.with(ud) { $0.end() }
        })
        XML_SetCharacterDataHandler(p) { ud, s, len in
            guard let s, len > 0 else { return }
            XMLStreamParser.with(ud) { $0.characters(UnsafeRawPointer(s), Int(len)) }
        }
    }

    deinit {
        XML_ParserFree(parser)
        path.deallocate()
        text.deallocate()
    }

    /// Runs `body` on the parser behind expat's user data without retaining it
    /// (expat calls back only while `parse` runs, which holds the parser).
    @inline(__always) private static func with(_ ud: UnsafeMutableRawPointer?, _ body: (XMLStreamParser) -> Void) {
        Unmanaged<XMLStreamParser>.fromOpaque(ud!)._withUnsafeGuaranteedRef(body)
    }

    private func stop(_ error: R2Error) {
        if !failed { failure = error; failed = true }
        XML_StopParser(parser, 0)
    }

    private func start(_ name: UnsafePointer<XML_Char>) {
        guard !failed else { return }
        let raw = UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self)
        var n = 0
        while raw[n] != 0 { n += 1 }
        // Reported by its local name: whatever follows the last ':' of a
        // prefixed name. No name r2 reads has a ':', so a name found as it is
        // has no prefix; only the others are searched for one.
        var local = raw, localCount = n
        var element = names.lookup(raw, n)
        if element == .other {
            var at = n
            while at > 0, raw[at - 1] != 0x3A { at -= 1 }
            if at > 0 {
                local = raw + at
                localCount = n - at
                element = names.lookup(local, localCount)
            }
        }
        if depth == 0 {
            rootName = element
            guard element != .other, sink.rootNames.contains(element) else {
                let found = String(decoding: UnsafeBufferPointer(start: local, count: localCount), as: UTF8.self)
                return stop(XMLFailure.error("expected root element <\(sink.rootNames.first?.text ?? "?")>, found <\(found)>"))
            }
        }
        guard depth < limits.maxDepth else { return stop(XMLFailure.error("nesting deeper than \(limits.maxDepth)")) }
        path[depth] = element
        depth += 1
        textCount = 0
    }

    private func end() {
        guard !failed else { return }
        do {
            try sink.didEnd(XMLPath(path, depth), XMLText(UnsafeBufferPointer(start: text, count: textCount)))
        } catch { return stop(error) }
        depth -= 1
        textCount = 0
    }

    private func characters(_ s: UnsafeRawPointer, _ len: Int) {
        guard !failed else { return }
        let needed = textCount + len
        if needed > textCapacity {
            guard needed <= limits.maxTextBytes else {
                return stop(XMLFailure.error("text node larger than \(limits.maxTextBytes) bytes"))
            }
            let capacity = min(max(needed, textCapacity * 2), limits.maxTextBytes)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: text, count: textCount)
            text.deallocate()
            text = grown
            textCapacity = capacity
        }
        (text + textCount).update(from: s.assumingMemoryBound(to: UInt8.self), count: len)
        textCount = needed
    }

    /// Parses the next piece of the document.
    /// - Parameter last: whether this is the document's end (`finish()` must
    ///   still be called). Saying so lets expat parse it as the final buffer:
    ///   after a non-final one expat walks every byte again to count lines and
    ///   columns, which costs a sixth of parsing a listing page.
    /// - Throws: `.malformedResponse` when the document is invalid or too large.
    package func feed(_ bytes: UnsafeRawBufferPointer, last: Bool = false) throws(R2Error) {
        if let failure { throw failure }
        guard !finished, !finalParsed else { throw R2Error(.libraryBug, "XML: feed after finish") }
        guard bytes.count <= limits.maxDocumentBytes - total else {
            failed = true; failure = XMLFailure.error("document larger than \(limits.maxDocumentBytes) bytes")
            throw failure!
        }
        total += bytes.count
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, 1 << 20)
            let final = last && n == rest.count
            try parse(UnsafeRawBufferPointer(rebasing: rest.prefix(n)), isFinal: final)
            if final { finalParsed = true }
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
        }
    }

    /// Ends the document: anything unclosed or missing is an error.
    /// - Throws: `.malformedResponse` for an empty, truncated or invalid document.
    package func finish() throws(R2Error) {
        if let failure { throw failure }
        guard !finished else { return }
        finished = true
        guard total > 0 else {
            failed = true; failure = XMLFailure.error("empty document")
            throw failure!
        }
        if !finalParsed { try parse(UnsafeRawBufferPointer(start: nil, count: 0), isFinal: true) }
        guard rootName != nil, depth == 0 else {
            failed = true; failure = XMLFailure.error("document has no complete root element")
            throw failure!
        }
    }

    private func parse(_ chunk: UnsafeRawBufferPointer, isFinal: Bool) throws(R2Error) {
        let base = chunk.baseAddress?.assumingMemoryBound(to: CChar.self)
        let status = XML_Parse(parser, base, Int32(chunk.count), isFinal ? 1 : 0)
        if let failure { throw failure }
        guard status == XML_STATUS_OK else {
            let code = XML_GetErrorCode(parser)
            let reason = XML_ErrorString(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
            let line = XML_GetCurrentLineNumber(parser), column = XML_GetCurrentColumnNumber(parser) + 1
            failed = true; failure = XMLFailure.error("\(reason) at line \(line), column \(column)")
            throw failure!
        }
    }

    /// Reads a whole document into `sink`.
    /// - Throws: `.malformedResponse` for anything the reader refuses.
    package static func parse(_ body: UnsafeRawBufferPointer, into sink: any XMLSink,
                              limits: XMLLimits = XMLLimits()) throws(R2Error) {
        let p = try XMLStreamParser(sink: sink, limits: limits)
        try p.feed(body, last: true)
        try p.finish()
    }
}
