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
// name (namespace prefixes are dropped, xmlns attributes ignored); sinks
// match them by name and path, never by position.

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

/// Receives a document's elements. `path` holds the local names from the
/// root (`path[0]`) to the current element.
package protocol XMLSink: AnyObject {
    /// Local names accepted as the root element; the first one is named in
    /// the error when the root is something else.
    var rootNames: [String] { get }
    /// An element opened.
    func didStart(_ path: [String]) throws(R2Error)
    /// An element closed; `text` is its character data after its last child
    /// (for a leaf, all of it), already XML-unescaped.
    func didEnd(_ path: [String], _ text: XMLText) throws(R2Error)
}

extension XMLSink {
    package func didStart(_ path: [String]) throws(R2Error) {}
}

/// The character data of one element, as UTF-8 bytes.
package struct XMLText {
    package let bytes: [UInt8]

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The text exactly as sent (after XML unescaping).
    package func string() throws(R2Error) -> String {
        if bytes.isEmpty { return "" }
        // Most S3 text is ASCII, which needs no validation pass.
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let s = bytes.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
            throw XMLFailure.error("text is not valid UTF-8")
        }
        return s
    }

    /// The bytes with XML whitespace (space, tab, CR, LF) trimmed on both ends.
    private func trimmed() -> ArraySlice<UInt8> {
        var lo = bytes.startIndex, hi = bytes.endIndex
        while lo < hi, Self.isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    @inline(__always) private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// A decimal unsigned integer; surrounding whitespace is allowed.
    package func uint64(_ element: String) throws(R2Error) -> UInt64 {
        let digits = trimmed()
        guard !digits.isEmpty, digits.count <= 20 else { throw XMLFailure.badNumber(element, self) }
        var value: UInt64 = 0
        for b in digits {
            guard b >= 0x30, b <= 0x39 else { throw XMLFailure.badNumber(element, self) }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
            guard !o1, !o2 else { throw XMLFailure.badNumber(element, self) }
            value = s
        }
        return value
    }

    /// A decimal integer in 0...Int32.max (counts, part numbers, markers).
    package func int(_ element: String) throws(R2Error) -> Int {
        let v = try uint64(element)
        guard v <= UInt64(Int32.max) else { throw XMLFailure.badNumber(element, self) }
        return Int(v)
    }

    /// "true" or "false"; surrounding whitespace is allowed.
    package func bool(_ element: String) throws(R2Error) -> Bool {
        let t = trimmed()
        if t.elementsEqual("true".utf8) { return true }
        if t.elementsEqual("false".utf8) { return false }
        throw XMLFailure.error("<\(element)> is not true or false: \(XMLFailure.quote(self))")
    }
}

/// Builders of the parse errors, all `.malformedResponse` starting "XML: ".
package enum XMLFailure {
    package static func error(_ message: String) -> R2Error { R2Error(.malformedResponse, "XML: " + message) }

    static func badNumber(_ element: String, _ text: XMLText) -> R2Error {
        error("<\(element)> is not a valid number: \(quote(text))")
    }

    package static func duplicate(_ element: String) -> R2Error { error("<\(element)> appears more than once") }

    package static func missing(_ element: String, in parent: String) -> R2Error {
        error("<\(parent)> has no <\(element)>")
    }

    /// The start of `text`, quoted, for messages.
    static func quote(_ text: XMLText) -> String {
        let head = String(decoding: text.bytes.prefix(40), as: UTF8.self)
        var out = "\""
        for u in head.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out + (text.bytes.count > 40 ? "...\"" : "\"")
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
    // Only expat's callbacks on the parsing thread touch these, one at a time,
    // so the runtime's exclusivity checks (a third of the Swift-side cost) are off.
    @exclusivity(unchecked) private var path: [String] = []
    @exclusivity(unchecked) private var text: [UInt8] = []
    /// Element names seen in this document, so each is made into a String once.
    @exclusivity(unchecked) private var names: [InternedName] = []
    /// A struct, not a tuple: iterating an array of tuples looks up the tuple's
    /// type metadata at run time on each call.
    private struct InternedName {
        let bytes: [UInt8]
        let name: String
    }
    private var total = 0
    @exclusivity(unchecked) private var failure: R2Error?
    /// `failure != nil`, as a flag the callbacks test without copying the error.
    @exclusivity(unchecked) private var failed = false
    private var finished = false
    /// The root element's local name, once seen.
    package private(set) var rootName: String?

    /// - Throws: `R2Error(.libraryBug)` if expat cannot allocate a parser.
    package init(sink: any XMLSink, limits: XMLLimits = XMLLimits()) throws(R2Error) {
        // Forcing UTF-8 overrides any encoding the document declares.
        guard let p = XML_ParserCreate("UTF-8") else { throw R2Error(.libraryBug, "XML: cannot create an expat parser") }
        parser = p
        self.sink = sink
        self.limits = limits
        path.reserveCapacity(8)
        text.reserveCapacity(256)
        XML_SetUserData(p, Unmanaged.passUnretained(self).toOpaque())
        XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER)
        XML_SetStartDoctypeDeclHandler(p) { ud, _, _, _, _ in
            XMLStreamParser.from(ud).stop(XMLFailure.error("DOCTYPE is not allowed"))
        }
        XML_SetEntityDeclHandler(p) { ud, _, _, _, _, _, _, _, _ in
            XMLStreamParser.from(ud).stop(XMLFailure.error("entity declarations are not allowed"))
        }
        // Called with the parser, not the user data; returning 0 fails the parse.
        XML_SetExternalEntityRefHandler(p) { _, _, _, _, _ in 0 }
        XML_SetElementHandler(p, { ud, name, _ in
            guard let name else { return }
            XMLStreamParser.from(ud).start(name)
        }, { ud, _ in
            XMLStreamParser.from(ud).end()
        })
        XML_SetCharacterDataHandler(p) { ud, s, len in
            guard let s, len > 0 else { return }
            XMLStreamParser.from(ud).characters(UnsafeRawPointer(s), Int(len))
        }
    }

    deinit { XML_ParserFree(parser) }

    @inline(__always) private static func from(_ ud: UnsafeMutableRawPointer?) -> XMLStreamParser {
        Unmanaged<XMLStreamParser>.fromOpaque(ud!).takeUnretainedValue()
    }

    private func stop(_ error: R2Error) {
        if !failed { failure = error; failed = true }
        XML_StopParser(parser, 0)
    }

    private func start(_ name: UnsafePointer<XML_Char>) {
        guard !failed else { return }
        // The local name: whatever follows the last ':' of a prefixed name.
        var local = name
        var p = name
        while p.pointee != 0 {
            if p.pointee == 0x3A { local = p + 1 }
            p += 1
        }
        let element = intern(UnsafeRawPointer(local).assumingMemoryBound(to: UInt8.self))
        if path.isEmpty {
            rootName = element
            guard sink.rootNames.contains(element) else {
                return stop(XMLFailure.error("expected root element <\(sink.rootNames.first ?? "?")>, found <\(element)>"))
            }
        }
        guard path.count < limits.maxDepth else { return stop(XMLFailure.error("nesting deeper than \(limits.maxDepth)")) }
        path.append(element)
        if !text.isEmpty { text.removeAll(keepingCapacity: true) }
        do { try sink.didStart(path) } catch { stop(error) }
    }

    private func intern(_ name: UnsafePointer<UInt8>) -> String {
        let n = strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))
        let bytes = UnsafeBufferPointer(start: name, count: n)
        for entry in names where entry.bytes.count == n && entry.bytes.withUnsafeBufferPointer({ n == 0 || memcmp($0.baseAddress!, name, n) == 0 }) {
            return entry.name
        }
        let s = String(decoding: bytes, as: UTF8.self)
        if names.count < 64 { names.append(InternedName(bytes: Array(bytes), name: s)) }
        return s
    }

    private func end() {
        guard !failed else { return }
        do { try sink.didEnd(path, XMLText(text)) } catch { return stop(error) }
        path.removeLast()
        if !text.isEmpty { text.removeAll(keepingCapacity: true) }
    }

    private func characters(_ s: UnsafeRawPointer, _ len: Int) {
        guard !failed else { return }
        guard text.count + len <= limits.maxTextBytes else {
            return stop(XMLFailure.error("text node larger than \(limits.maxTextBytes) bytes"))
        }
        // Typed bytes: Array's contiguous (memcpy) append, not the element-wise one.
        text.append(contentsOf: UnsafeBufferPointer(start: s.assumingMemoryBound(to: UInt8.self), count: len))
    }

    /// Parses the next piece of the document.
    /// - Throws: `.malformedResponse` when the document is invalid or too large.
    package func feed(_ bytes: UnsafeRawBufferPointer) throws(R2Error) {
        if let failure { throw failure }
        guard !finished else { throw R2Error(.libraryBug, "XML: feed after finish") }
        guard bytes.count <= limits.maxDocumentBytes - total else {
            failed = true; failure = XMLFailure.error("document larger than \(limits.maxDocumentBytes) bytes")
            throw failure!
        }
        total += bytes.count
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, 1 << 20)
            try parse(UnsafeRawBufferPointer(rebasing: rest.prefix(n)), isFinal: false)
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
        try parse(UnsafeRawBufferPointer(start: nil, count: 0), isFinal: true)
        guard rootName != nil, path.isEmpty else {
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
    /// - Returns: the root element's local name.
    /// - Throws: `.malformedResponse` for anything the reader refuses.
    @discardableResult
    package static func parse(_ body: UnsafeRawBufferPointer, into sink: any XMLSink,
                              limits: XMLLimits = XMLLimits()) throws(R2Error) -> String {
        let p = try XMLStreamParser(sink: sink, limits: limits)
        try p.feed(body)
        try p.finish()
        return p.rootName ?? ""
    }
}
