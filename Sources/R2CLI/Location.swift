import ArgumentParser
import Glibc

/// An operand: an object or prefix in a bucket, a local path, or `-` (stdin or stdout).
enum Location: CustomStringConvertible {
    /// `key` may be "" (the whole bucket) or end in "/".
    case remote(bucket: String, key: String)
    case local(String)
    case standard

    init(_ text: String) throws(Failure) {
        if text == "-" { self = .standard; return }
        for scheme in ["r2://", "s3://"] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else { throw Failure("\(text): no bucket name (expected r2://BUCKET/KEY)") }
            // The key is taken as written: S3 keys may hold any character, so nothing is decoded.
            self = .remote(bucket: String(bucket), key: String(rest.dropFirst(bucket.count + 1)))
            return
        }
        // Something URL-like that is not r2:// is a mistake, not a file name
        // ("http://…", or "r2:/b/k" with a slash missing).
        let scheme = text.prefix { $0.isLetter || $0.isNumber }
        if !scheme.isEmpty, text.dropFirst(scheme.count).hasPrefix(":/")
            || (["r2", "s3"].contains(scheme.lowercased()) && text.dropFirst(scheme.count).hasPrefix(":")) {
            throw Failure("\(text): not a valid remote path (expected r2://BUCKET/KEY)")
        }
        self = .local(text)
    }

    /// A remote operand: `r2://BUCKET[/PREFIX]`.
    static func remote(_ text: String) throws(Failure) -> (bucket: String, key: String) {
        guard case let .remote(bucket, key) = try Location(text) else {
            throw Failure("\(text): expected r2://BUCKET/KEY")
        }
        return (bucket, key)
    }

    /// A remote operand naming one object: `r2://BUCKET/KEY`.
    static func object(_ text: String) throws(Failure) -> (bucket: String, key: String) {
        let (bucket, key) = try remote(text)
        guard !key.isEmpty else { throw Failure("\(text): no object key (expected r2://BUCKET/KEY)") }
        return (bucket, key)
    }

    var description: String {
        switch self {
        case let .remote(bucket, key): return "r2://\(bucket)/\(key)"
        case let .local(path): return path
        case .standard: return "-"
        }
    }
}

/// The last component of a key or path ("" when it ends in "/").
func baseName(_ path: String) -> String {
    String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// Sizes such as 16MiB, 16M or 16777216; K, M and G are powers of 1024 (as in the aws CLI).
func parseSize(_ text: String) throws(ValidationError) -> UInt64 {
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    let shift: UInt64
    switch text.dropFirst(digits.count).lowercased() {
    case "", "b": shift = 0
    case "k", "kb", "kib": shift = 10
    case "m", "mb", "mib": shift = 20
    case "g", "gb", "gib": shift = 30
    default: throw ValidationError("\"\(text)\" is not a size (e.g. 16MiB)")
    }
    guard let n = UInt64(digits), n <= UInt64.max >> shift else { throw ValidationError("\"\(text)\" is not a size (e.g. 16MiB)") }
    return n << shift
}
