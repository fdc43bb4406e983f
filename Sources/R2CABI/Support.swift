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

/// Live handles, so a stale or foreign pointer is refused instead of followed.
let liveHandles = Mutex<Set<UInt>>([])

func retain<T: AnyObject>(_ object: T) -> OpaquePointer {
    let raw = Unmanaged.passRetained(object).toOpaque()
    _ = liveHandles.withLock { $0.insert(UInt(bitPattern: raw)) }
    return OpaquePointer(raw)
}

/// The object behind a live handle, with a reference of the caller's own:
/// it is taken under the same lock `release` removes the handle under, so a
/// free racing this call either comes first (the call fails cleanly) or
/// leaves the object alive until the call drops its reference.
func handle<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type, _ name: String) throws(R2Error) -> T {
    guard let p else { throw invalid("\(name) is NULL") }
    let raw = UnsafeMutableRawPointer(p)
    let live = liveHandles.withLock { live in
        guard live.contains(UInt(bitPattern: raw)) else { return false }
        _ = Unmanaged<AnyObject>.fromOpaque(raw).retain()  // the call's reference, taken under the lock
        return true
    }
    guard live else { throw invalid("\(name) is not a live r2 handle (already freed?)") }
    let object = Unmanaged<AnyObject>.fromOpaque(raw).takeRetainedValue()  // dropped when the call ends
    guard let typed = object as? T else { throw invalid("\(name) is a handle of another type") }
    return typed
}

/// Drops the handle's own reference. A pointer that is not a live handle of
/// type `T` (NULL, freed, foreign, or a handle of another type) is left alone.
func release<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type) {
    guard let p else { return }
    let raw = UnsafeMutableRawPointer(p)
    let removed = liveHandles.withLock { live in
        // Checking the type under the lock is safe: the handle's own reference keeps it alive here.
        guard live.contains(UInt(bitPattern: raw)), Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() is T else { return false }
        live.remove(UInt(bitPattern: raw))
        return true
    }
    if removed { Unmanaged<AnyObject>.fromOpaque(raw).release() }
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
