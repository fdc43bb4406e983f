import Glibc

/// One page of ListObjectsV2 as read, before any Swift String is made: every
/// string of the page, NUL-terminated, in one malloc'd block (keys already
/// URL-decoded), and the entries as offsets into it. The C ABI points into
/// the block instead of copying each string; `result()` makes the Swift
/// values. Immutable once read (hence Sendable).
package final class ObjectListing: @unchecked Sendable {
    /// A string of the page: `count` bytes at `offset` in `bytes`, then a NUL.
    package struct Text: Sendable {
        package let offset: UInt32
        package let count: UInt32
    }

    /// One `<Contents>`; absent strings are `ObjectListing.empty`.
    package struct Entry: Sendable {
        package var key: Text
        package var lastModified: Text
        package var etag: Text
        package var storageClass: Text
        package var size: UInt64
    }

    /// "", at the start of every block.
    package static let empty = Text(offset: 0, count: 0)

    // Written only while one parser reads the page, once per element: the
    // runtime's exclusivity checks (a tenth of the listing's cost) are off.
    /// The strings, each followed by a NUL.
    @exclusivity(unchecked) package private(set) var bytes: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) package private(set) var byteCount = 1
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) package fileprivate(set) var entries: [Entry] = []
    @exclusivity(unchecked) package fileprivate(set) var commonPrefixes: [Text] = []
    package fileprivate(set) var name, prefix, delimiter, startAfter, encodingType: Text?
    package fileprivate(set) var continuationToken, nextContinuationToken: Text?
    package fileprivate(set) var maxKeys, keyCount: Int?
    package fileprivate(set) var isTruncated = false
    /// The response's request id (set by the client).
    package private(set) var requestID = ObjectListing.empty

    /// - Parameter capacity: bytes to reserve for the strings (the block grows as needed).
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        bytes = malloc(self.capacity)!.assumingMemoryBound(to: UInt8.self)
        bytes[0] = 0
    }

    deinit { free(bytes) }

    /// Copies `text` into the block. Expat hands over UTF-8 already; a non-ASCII
    /// text is checked again so the C strings are UTF-8 whatever the parser.
    fileprivate func store(_ text: UnsafeBufferPointer<UInt8>) throws(R2Error) -> Text {
        let n = text.count
        if byteCount + n + 1 > capacity {
            capacity = max(capacity * 2, byteCount + n + 1)
            bytes = realloc(bytes, capacity)!.assumingMemoryBound(to: UInt8.self)
        }
        // Copied a word at a time, noting any byte above 0x7F on the way: texts
        // are short (keys, dates, ETags), so one pass beats memcpy and a check.
        let to = UnsafeMutableRawPointer(bytes + byteCount)
        var high: UInt64 = 0
        if n > 0 {
            let from = UnsafeRawPointer(text.baseAddress!)
            var i = 0
            while i + 8 <= n {
                let w = from.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                high |= w
                to.storeBytes(of: w, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                let b = from.load(fromByteOffset: i, as: UInt8.self)
                high |= UInt64(b)
                to.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
                i += 1
            }
        }
        guard high & 0x8080_8080_8080_8080 == 0 || UTF8Check.isValid(text) else {
            throw XMLFailure.error("text is not valid UTF-8")
        }
        to.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
        defer { byteCount += n + 1 }
        return Text(offset: UInt32(byteCount), count: UInt32(n))
    }

    package func setRequestID(_ id: String) {
        var id = id
        // The id is what the server sent in a header, checked by the transport; it is ASCII.
        requestID = id.withUTF8 { b in (try? store(b)) ?? Self.empty }
    }

    /// The string's bytes (without its NUL); valid as long as the listing.
    package func buffer(_ t: Text) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes + Int(t.offset), count: Int(t.count))
    }

    /// The NUL-terminated string; valid as long as the listing.
    package func cString(_ t: Text) -> UnsafePointer<CChar> {
        UnsafeRawPointer(bytes + Int(t.offset)).assumingMemoryBound(to: CChar.self)
    }

    package func string(_ t: Text) -> String { String(decoding: buffer(t), as: UTF8.self) }

    /// One entry as Swift values.
    package func entry(_ i: Int) -> ListBucketResult.Entry {
        let e = entries[i]
        return .init(key: string(e.key), lastModified: string(e.lastModified), etag: string(e.etag), size: e.size,
                     storageClass: string(e.storageClass))
    }

    /// The page as Swift values.
    package func result() -> ListBucketResult {
        func s(_ t: Text?) -> String { t.map(string) ?? "" }
        return ListBucketResult(name: s(name), prefix: s(prefix), delimiter: s(delimiter), maxKeys: maxKeys,
                                keyCount: keyCount, isTruncated: isTruncated, continuationToken: continuationToken.map(string),
                                nextContinuationToken: nextContinuationToken.map(string), startAfter: s(startAfter),
                                encodingType: s(encodingType), contents: entries.indices.map(entry),
                                commonPrefixes: commonPrefixes.map(string))
    }

    /// URL-decodes a string in place (decoding only shrinks it); see `URLDecoding.decode`.
    /// - Throws: `.malformedResponse` for a broken escape, a NUL or a non-UTF-8 result.
    fileprivate func urlDecode(_ t: inout Text, _ element: String) throws(R2Error) {
        let p = bytes + Int(t.offset), n = Int(t.count)
        // Most values have no escape at all: find the first one with libc's
        // vectorised strpbrk (the text is NUL-terminated and has no other NUL).
        guard let first = strpbrk(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), "%+") else { return }
        let start = UnsafeRawPointer(first) - UnsafeRawPointer(p)
        // One pass, decoding in place from a copy of the text as sent (which an
        // error quotes). A NUL would cut the value short in every C string
        // downstream (a list-then-delete loop would delete another key).
        let (count, high, failure) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) {
            sent -> (Int, UInt8, String?) in
            let s = sent.baseAddress!
            s.initialize(from: p, count: n)
            var i = start, out = start
            var high: UInt8 = 0
            while i < n {
                let b = s[i]
                if b == 0x25 {
                    let h = i + 2 < n ? Self.hex(s[i + 1]) : 0xFF, l = i + 2 < n ? Self.hex(s[i + 2]) : 0xFF
                    guard h | l < 0x10 else { return (0, 0, "has a broken %-escape: \(XMLFailure.quote(UnsafeBufferPointer(sent)))") }
                    guard h | l != 0 else {
                        return (0, 0, "contains a NUL after URL-decoding: \(XMLFailure.quote(UnsafeBufferPointer(sent)))")
                    }
                    p[out] = h << 4 | l
                    high |= h << 4
                    i += 3
                } else {
                    p[out] = b == 0x2B ? 0x20 : b
                    i += 1
                }
                out += 1
            }
            return (out, high, nil)
        }
        if let failure { throw XMLFailure.error("<\(element)> \(failure)") }
        p[count] = 0
        t = Text(offset: t.offset, count: UInt32(count))
        // An escaped byte above 0x7F may not be UTF-8, alone or with its neighbours.
        guard high < 0x80 || UTF8Check.isValid(buffer(t)) else {
            throw XMLFailure.error("<\(element)> is not UTF-8 after URL-decoding: \(XMLFailure.quote(buffer(t)))")
        }
    }

    /// A hex digit's value; 0xFF for any other byte.
    @inline(__always) private static func hex(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: 0xFF
        }
    }
}

/// Reads a ListObjectsV2 document (root `ListBucketResult`) into an `ObjectListing`.
final class ListBucketSink: XMLSink {
    let rootNames: [XMLName] = [.listBucketResult]
    private let page: ObjectListing
    private var finished = false
    private var maxKeys, keyCount: Int?
    private var isTruncated: Bool?
    // The <Contents> or <CommonPrefixes> being read (touched once per element: no exclusivity checks).
    @exclusivity(unchecked) private var key: ObjectListing.Text?
    @exclusivity(unchecked) private var lastModified: ObjectListing.Text?
    @exclusivity(unchecked) private var etag: ObjectListing.Text?
    @exclusivity(unchecked) private var storageClass: ObjectListing.Text?
    @exclusivity(unchecked) private var commonPrefix: ObjectListing.Text?
    @exclusivity(unchecked) private var size: UInt64?

    /// - Parameter capacity: bytes to reserve for the page's strings.
    init(capacity: Int = 4096) { page = ObjectListing(capacity: capacity) }

    func didEnd(_ path: XMLPath, _ text: XMLText) throws(R2Error) {
        switch path.count {
        case 3 where path[1] == .contents:
            switch path[2] {
            case .key: try assignOnce(&key, try page.store(text.bytes), "Key")
            case .lastModified: try assignOnce(&lastModified, try page.store(text.bytes), "LastModified")
            case .etag: try assignOnce(&etag, try page.store(text.bytes), "ETag")
            case .size: try assignOnce(&size, try text.uint64("Size"), "Size")
            case .storageClass: try assignOnce(&storageClass, try page.store(text.bytes), "StorageClass")
            default: break
            }
        case 3 where path[1] == .commonPrefixes && path[2] == .prefix:
            try assignOnce(&commonPrefix, try page.store(text.bytes), "Prefix")
        case 2:
            switch path[1] {
            case .contents:
                guard let k = key else { throw XMLFailure.missing("Key", in: "Contents") }
                guard let s = size else { throw XMLFailure.missing("Size", in: "Contents") }
                page.entries.append(.init(key: k, lastModified: lastModified ?? ObjectListing.empty,
                                          etag: etag ?? ObjectListing.empty, storageClass: storageClass ?? ObjectListing.empty,
                                          size: s))
                key = nil; lastModified = nil; etag = nil; size = nil; storageClass = nil
            case .commonPrefixes:
                guard let p = commonPrefix else { throw XMLFailure.missing("Prefix", in: "CommonPrefixes") }
                page.commonPrefixes.append(p)
                commonPrefix = nil
            case .name: try assignOnce(&page.name, try page.store(text.bytes), "Name")
            case .prefix: try assignOnce(&page.prefix, try page.store(text.bytes), "Prefix")
            case .delimiter: try assignOnce(&page.delimiter, try page.store(text.bytes), "Delimiter")
            case .maxKeys: try assignOnce(&maxKeys, try text.int("MaxKeys"), "MaxKeys")
            case .keyCount: try assignOnce(&keyCount, try text.int("KeyCount"), "KeyCount")
            case .isTruncated: try assignOnce(&isTruncated, try text.bool("IsTruncated"), "IsTruncated")
            case .continuationToken: try assignOnce(&page.continuationToken, try page.store(text.bytes), "ContinuationToken")
            case .nextContinuationToken:
                try assignOnce(&page.nextContinuationToken, try page.store(text.bytes), "NextContinuationToken")
            case .startAfter: try assignOnce(&page.startAfter, try page.store(text.bytes), "StartAfter")
            case .encodingType: try assignOnce(&page.encodingType, try page.store(text.bytes), "EncodingType")
            default: break
            }
        default: break
        }
    }

    /// The page, once the whole document is read: checked, and URL-decoded when
    /// the server used encoding-type=url. Call once.
    func listing() throws(R2Error) -> ObjectListing {
        precondition(!finished, "ListBucketSink.listing() called twice")
        finished = true
        guard let isTruncated else { throw XMLFailure.missing("IsTruncated", in: "ListBucketResult") }
        if isTruncated, (page.nextContinuationToken?.count ?? 0) == 0 {
            throw XMLFailure.error("<IsTruncated> is true but <NextContinuationToken> is missing (not a ListObjectsV2 answer?)")
        }
        page.isTruncated = isTruncated
        page.maxKeys = maxKeys
        page.keyCount = keyCount
        if try URLDecoding.isURL(page.encodingType.map(page.string) ?? "") {
            if var t = page.prefix { try page.urlDecode(&t, "Prefix"); page.prefix = t }
            if var t = page.delimiter { try page.urlDecode(&t, "Delimiter"); page.delimiter = t }
            if var t = page.startAfter { try page.urlDecode(&t, "StartAfter"); page.startAfter = t }
            for i in page.entries.indices { try page.urlDecode(&page.entries[i].key, "Key") }
            for i in page.commonPrefixes.indices { try page.urlDecode(&page.commonPrefixes[i], "Prefix") }
        }
        return page
    }

    /// The page as Swift values; see `listing()`.
    func result() throws(R2Error) -> ListBucketResult { try listing().result() }
}
