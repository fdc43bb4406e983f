import CR2Types
import Glibc
import R2
import Synchronization

// The only module that touches raw pointers. Every @c function validates its
// arguments, runs its body through `guarded`, and never lets a Swift error or
// trap-prone input cross into the caller's process.

// MARK: Thread-local last error

/// One per thread: the r2_error record and the C strings it points to.
final class ErrorSlot {
    /// Stable address handed to C by r2_error_last().
    let record = UnsafeMutablePointer<r2_error>.allocate(capacity: 1)
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private static let empty = CStringBox("")

    init() {
        let e = UnsafePointer(Self.empty.pointer)
        record.initialize(to: r2_error(code: 0, http_status: 0, retryable: false, retry_after_ms: -1,
                                       s3_code: e, message: e, request_id: e))
    }

    func set(_ e: R2Error) {
        for s in strings { free(s) }
        let s3 = strdup(e.s3Code)!, msg = strdup(e.message)!, rid = strdup(e.requestID)!
        strings = [s3, msg, rid]
        record.pointee = r2_error(code: e.code.rawValue, http_status: Int32(clamping: e.httpStatus), retryable: e.isRetryable,
                          retry_after_ms: e.retryAfterMs ?? -1, s3_code: s3, message: msg, request_id: rid)
    }

    deinit {
        for s in strings { free(s) }
        record.deallocate()
    }
}

private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { p in
        if let p { Unmanaged<ErrorSlot>.fromOpaque(p).release() }
    }
    return key
}()

func errorSlot() -> ErrorSlot {
    if let p = pthread_getspecific(errorKey) { return Unmanaged<ErrorSlot>.fromOpaque(p).takeUnretainedValue() }
    let slot = ErrorSlot()
    pthread_setspecific(errorKey, Unmanaged.passRetained(slot).toOpaque())
    return slot
}

/// Records `error` as this thread's last error and returns its status code.
@discardableResult
func fail(_ error: R2Error) -> Int32 {
    errorSlot().set(error)
    return error.code.rawValue
}

/// Runs `body`; a thrown R2Error becomes the status and the last error.
@inline(__always)
func guarded(_ body: () throws(R2Error) -> Void) -> Int32 {
    do {
        try body()
        return R2_OK.rawValue
    } catch {
        return fail(error)
    }
}

// MARK: Arguments

func invalid(_ message: String) -> R2Error { R2Error(.invalidArgument, message) }

/// A required NUL-terminated UTF-8 string.
func string(_ p: UnsafePointer<CChar>?, _ name: String) throws(R2Error) -> String {
    guard let p else { throw invalid("\(name) is NULL") }
    guard let s = String(validatingCString: p) else { throw invalid("\(name) is not valid UTF-8") }
    return s
}

/// The len bytes at data, a body the caller lends: NULL only with len 0.
func bytes(_ data: UnsafePointer<UInt8>?, _ len: UInt) throws(R2Error) -> UnsafeRawBufferPointer {
    guard data != nil || len == 0 else { throw invalid("data is NULL but len is \(len)") }
    guard len <= UInt(Int.max) else { throw invalid("len \(len) is out of range") }
    return UnsafeRawBufferPointer(start: data, count: Int(len))
}

/// The caller's read callback as the body r2 pulls from: n >= 0 is n bytes, a
/// negative n aborts the upload; with `pausable` (the asynchronous forms)
/// R2_READ_PAUSE pauses the body until the operation is resumed.
func bodyReader(_ read: r2_read_cb, _ userdata: UnsafeMutableRawPointer?,
                pausable: Bool) -> (UnsafeMutableRawBufferPointer) throws(R2Error) -> Int {
    { (buffer) throws(R2Error) -> Int in
        let n = read(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count, userdata)
        if pausable && n == R2_READ_PAUSE { return RequestBody.readPaused }
        guard n >= 0 else { throw R2Error(.aborted, "the read callback returned \(n): upload aborted") }
        guard n <= buffer.count else { throw invalid("the read callback returned \(n) for a \(buffer.count)-byte buffer") }
        return Int(n)
    }
}

/// An optional string: NULL and "" both mean "not set".
func optionalString(_ p: UnsafePointer<CChar>?, _ name: String) throws(R2Error) -> String? {
    guard let p else { return nil }
    guard let s = String(validatingCString: p) else { throw invalid("\(name) is not valid UTF-8") }
    return s.isEmpty ? nil : s
}

func headers(_ p: UnsafePointer<r2_header>?, _ count: Int, _ name: String) throws(R2Error) -> [(name: String, value: String)] {
    // size_t arrives as Int: 2^63 and above read negative, which must not mean "none".
    guard count >= 0, count <= 10_000 else { throw invalid("\(name) count \(UInt(bitPattern: count)) is out of range (0...10000)") }
    guard count > 0 else { return [] }
    guard let p else { throw invalid("\(name) is NULL but its count is \(count)") }
    var out: [(name: String, value: String)] = []
    out.reserveCapacity(count)
    for i in 0..<count {
        out.append((try string(p[i].name, "\(name)[\(i)].name"), try string(p[i].value, "\(name)[\(i)].value")))
    }
    return out
}

func checkVersion(_ version: UInt32, current: UInt32, _ what: String) throws(R2Error) {
    guard version >= 1, version <= current else {
        throw invalid("\(what) version \(version) is not supported by this library (1...\(current)); initialise it with the _INIT macro or _init function")
    }
}

// MARK: Handles

// A handle is a small block r2 allocates: a type tag (word 0), the retained
// object (word 1) and a count of calls taking their reference (word 2). Every
// call checks the tag, without a lock: NULL, a handle of another type, a freed
// handle and (almost always) a pointer r2 never handed out are refused instead
// of followed. Best-effort armour, as SQLite's SQLITE_ENABLE_API_ARMOR (see
// r2.h's prelude): freed blocks wait in a quarantine of `quarantineSlots`
// before their memory is reused, so a stale pointer is seen as freed until
// then; after that it reads memory r2 no longer owns.
//
// A free racing calls that are entering the library: a call announces itself
// in word 2 before it checks the tag again and takes its own reference; the
// free marks the tag first, then waits for the announced calls before it drops
// the handle's reference. Both sides use sequentially consistent atomics, so
// either the call sees the mark (and fails cleanly) or the free sees the call
// (and waits the few instructions it needs to take its reference).

private let handleBytes = 32
private let handleAlignment = 16
/// Mixed into every tag, so that a Swift type's metadata pointer (the first
/// word of any Swift object) never looks like a live handle.
private let tagSalt: UInt = 0x5232_5F48_414E_444C  // "R2_HANDL"
/// The tag of a freed handle.
private let deadTag: UInt = 0xDEAD_F4EE_DEAD_F4EE

/// The tag of a live handle to a `T`: its type's identity, salted.
@inline(__always)
private func tag<T: AnyObject>(_: T.Type) -> UInt {
    UInt(bitPattern: Int(bitPattern: ObjectIdentifier(T.self))) ^ tagSalt
}

/// The handle's tag word, or nil for a pointer that cannot be an r2 handle (misaligned).
@inline(__always)
private func tagWord(_ raw: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Atomic<UInt>>? {
    guard UInt(bitPattern: raw) % UInt(handleAlignment) == 0 else { return nil }
    return raw.assumingMemoryBound(to: Atomic<UInt>.self)
}

/// The count of calls taking their reference (only touched once the tag matched).
@inline(__always)
private func entering(_ raw: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Atomic<Int>> {
    (raw + 16).assumingMemoryBound(to: Atomic<Int>.self)
}

/// Freed handles, the oldest evicted (and deallocated) by each new one.
private let quarantineSlots = 4096
// Only ever touched through the atomics it holds.
nonisolated(unsafe) private let quarantine: UnsafeMutablePointer<Atomic<UInt>> = {
    let slots = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: quarantineSlots)
    for i in 0..<quarantineSlots { (slots + i).initialize(to: Atomic(0)) }
    return slots
}()
private let quarantineNext = Atomic<UInt>(0)

/// A new handle owning a reference to `object`.
func retain<T: AnyObject>(_ object: T) -> OpaquePointer {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: handleBytes, alignment: handleAlignment)
    raw.storeBytes(of: Unmanaged.passRetained(object).toOpaque(), toByteOffset: 8, as: UnsafeMutableRawPointer.self)
    (raw + 16).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
    raw.bindMemory(to: Atomic<UInt>.self, capacity: 1).initialize(to: Atomic(tag(T.self)))
    return OpaquePointer(raw)
}

/// The object behind a live handle of type `T`, with a reference of the
/// caller's own (dropped when the call ends).
func handle<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type, _ name: String) throws(R2Error) -> T {
    guard let p else { throw invalid("\(name) is NULL") }
    let raw = UnsafeMutableRawPointer(p)
    guard let word = tagWord(raw) else { throw invalid("\(name) is not an r2 handle") }
    let live = tag(T.self)
    let found = word.pointee.load(ordering: .acquiring)  // read only: nothing is written to a foreign pointer
    guard found == live else {
        throw invalid(found == deadTag ? "\(name) is no live handle: it was freed"
                                       : "\(name) is not a live r2 handle of this type (another type, freed, or never handed out by r2)")
    }
    let count = entering(raw)
    count.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
    guard word.pointee.load(ordering: .sequentiallyConsistent) == live else {
        count.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        throw invalid("\(name) is no live handle: it was freed")
    }
    let object = Unmanaged<T>.fromOpaque(raw.load(fromByteOffset: 8, as: UnsafeMutableRawPointer.self)).retain()
    count.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    return object.takeRetainedValue()
}

/// Whether `p` is a live handle of type `T` (not NULL, not freed), without a lock.
func isLive<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type) -> Bool {
    guard let p, let word = tagWord(UnsafeMutableRawPointer(p)) else { return false }
    return word.pointee.load(ordering: .acquiring) == tag(T.self)
}

/// Drops the handle's own reference and marks it freed. A pointer that is not
/// a live handle of type `T` (NULL, freed, foreign, or a handle of another
/// type) is left alone.
func release<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type) {
    guard let p, let word = tagWord(UnsafeMutableRawPointer(p)) else { return }
    let live = tag(T.self)
    // Load first: a compare-exchange writes even when it fails, and a foreign
    // pointer may point at read-only memory.
    guard word.pointee.load(ordering: .relaxed) == live,
          word.pointee.compareExchange(expected: live, desired: deadTag, ordering: .sequentiallyConsistent).exchanged
    else { return }  // freed twice, or by two threads at once: only one wins
    let raw = UnsafeMutableRawPointer(p)
    // Calls that passed the first check before the mark: they take their
    // reference (a few instructions) or see the mark; wait for them.
    while entering(raw).pointee.load(ordering: .sequentiallyConsistent) != 0 { sched_yield() }
    Unmanaged<T>.fromOpaque(raw.load(fromByteOffset: 8, as: UnsafeMutableRawPointer.self)).release()
    let slot = Int(quarantineNext.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(quarantineSlots))
    let evicted = quarantine[slot].exchange(UInt(bitPattern: raw), ordering: .acquiringAndReleasing)
    if let old = UnsafeMutableRawPointer(bitPattern: evicted) { old.deallocate() }
}

/// A signing time in seconds since 1970: 1970 to 9999 (SigV4 dates have four-digit years).
func unixTime(_ t: Int64, _ name: String) throws(R2Error) -> Int64 {
    guard t >= 0, t <= 253_402_300_799 else { throw invalid("\(name) \(t) is out of range (0 to 253402300799, years 1970 to 9999)") }
    return t
}

// MARK: Owned output

/// Copies `s` into a malloc'ed r2_buf the caller releases with r2_buf_dispose.
func fill(_ out: UnsafeMutablePointer<r2_buf>, _ s: String) {
    var s = s
    s.withUTF8 { bytes in
        let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        if bytes.count > 0 { memcpy(p, bytes.baseAddress!, bytes.count) }
        p[bytes.count] = 0
        out.pointee = r2_buf(ptr: p, size: bytes.count)
    }
}

/// A NUL-terminated copy that lives as long as its owner.
final class CStringBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<CChar>
    init(_ s: String) { pointer = strdup(s)! }
    deinit { free(pointer) }
}

/// An SSE-C key from a pointer to 32 bytes (NULL: none).
func sseKey(_ p: UnsafePointer<UInt8>?) throws(R2Error) -> SSECustomerKey? {
    guard let p else { return nil }
    return try SSECustomerKey(Array(UnsafeBufferPointer(start: p, count: 32)))
}

// MARK: Results that can grow

/// A struct r2 fills for the caller. It starts with a `version` (set by the
/// caller, or by r2 in an array r2 allocates), and r2 writes only the bytes
/// that version has: a caller built against an older header is never
/// written past. A new version appends fields and adds a case to `size` and
/// `stride`.
protocol VersionedResult {
    init()
    static var currentVersion: UInt32 { get }
    /// The C macro naming the current version, for messages.
    static var versionMacro: String { get }
    /// The bytes of the struct as a caller of `version` (1...currentVersion) declares it.
    static func size(ofVersion version: UInt32) -> Int
    /// The distance between elements of an array of that version.
    static func stride(ofVersion version: UInt32) -> Int
}

extension VersionedResult {
    // Every result struct has one version so far.
    static func size(ofVersion version: UInt32) -> Int { MemoryLayout<Self>.size }
    static func stride(ofVersion version: UInt32) -> Int { MemoryLayout<Self>.stride }
}

extension r2_object_info: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_OBJECT_INFO_VERSION) }
    static var versionMacro: String { "R2_OBJECT_INFO_VERSION" }
}
extension r2_object_entry: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_OBJECT_ENTRY_VERSION) }
    static var versionMacro: String { "R2_OBJECT_ENTRY_VERSION" }
}
extension r2_list_result: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_LIST_RESULT_VERSION) }
    static var versionMacro: String { "R2_LIST_RESULT_VERSION" }
    /// Version 2 added `strings` and `strings_size`.
    static func size(ofVersion version: UInt32) -> Int {
        version == 1 ? MemoryLayout<Self>.offset(of: \.strings)! : MemoryLayout<Self>.size
    }
}
extension r2_delete_error: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_DELETE_ERROR_VERSION) }
    static var versionMacro: String { "R2_DELETE_ERROR_VERSION" }
}
extension r2_delete_result: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_DELETE_RESULT_VERSION) }
    static var versionMacro: String { "R2_DELETE_RESULT_VERSION" }
}
extension r2_multipart_part_info: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_MULTIPART_PART_INFO_VERSION) }
    static var versionMacro: String { "R2_MULTIPART_PART_INFO_VERSION" }
}
extension r2_multipart_part_list: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_MULTIPART_PART_LIST_VERSION) }
    static var versionMacro: String { "R2_MULTIPART_PART_LIST_VERSION" }
}
extension r2_multipart_upload_info: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_MULTIPART_UPLOAD_INFO_VERSION) }
    static var versionMacro: String { "R2_MULTIPART_UPLOAD_INFO_VERSION" }
}
extension r2_multipart_upload_list: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_MULTIPART_UPLOAD_LIST_VERSION) }
    static var versionMacro: String { "R2_MULTIPART_UPLOAD_LIST_VERSION" }
}
extension r2_signed_fields: VersionedResult {
    static var currentVersion: UInt32 { UInt32(R2_SIGNED_FIELDS_VERSION) }
    static var versionMacro: String { "R2_SIGNED_FIELDS_VERSION" }
}

/// Copies the first size(ofVersion: version) bytes of `value`, with its
/// version field set to `version`, to `dest`. (So the `version` a value is
/// built with does not matter.)
func writeVersioned<T: VersionedResult>(_ value: T, version: UInt32, to dest: UnsafeMutableRawPointer) {
    var v = value
    withUnsafeMutableBytes(of: &v) { bytes in
        bytes.storeBytes(of: version, as: UInt32.self)
        memcpy(dest, bytes.baseAddress!, T.size(ofVersion: version))
    }
}

/// A caller's result struct (or NULL: not wanted) and the version it set.
struct ResultOut<T: VersionedResult> {
    let pointer: UnsafeMutablePointer<T>?
    let version: UInt32

    /// Checks the version the caller set and clears the fields of that
    /// version, so that a failed call leaves nothing to release.
    init(_ p: UnsafeMutablePointer<T>?, _ name: String) throws(R2Error) {
        pointer = p
        guard let p else { version = 0; return }
        // Only the version is read: the rest may be shorter than today's struct.
        let v = UnsafeRawPointer(p).load(as: UInt32.self)
        guard v >= 1, v <= T.currentVersion else {
            throw invalid("\(name)->version \(v) is not supported by this library (1...\(T.currentVersion)); set it to \(T.versionMacro)")
        }
        version = v
        writeVersioned(T(), version: v, to: UnsafeMutableRawPointer(p))
    }

    /// Writes the fields of the caller's version of `value`.
    func store(_ value: T) {
        guard let pointer else { return }
        writeVersioned(value, version: version, to: UnsafeMutableRawPointer(pointer))
    }
}

/// Clears a result for its _dispose function: the fields of its version are
/// zeroed and the version kept (a version r2 does not know clears the fields
/// of version 1, which every caller has).
func clearResult<T: VersionedResult>(_ p: UnsafeMutablePointer<T>) {
    let v = UnsafeRawPointer(p).load(as: UInt32.self)
    let known = v >= 1 && v <= T.currentVersion
    writeVersioned(T(), version: known ? v : 1, to: UnsafeMutableRawPointer(p))
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: UInt32.self)
}
