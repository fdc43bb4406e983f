import CR2Types

/// The library's version. Written once, as R2_VERSION_MAJOR/MINOR/PATCH in
/// r2_types.h; r2.h's R2_VERSION_STRING is derived from the same numbers.
public enum R2Version {
    /// MAJOR * 10000 + MINOR * 100 + PATCH, as R2_VERSION_NUMBER.
    public static let number = UInt32(R2_VERSION_MAJOR * 10000 + R2_VERSION_MINOR * 100 + R2_VERSION_PATCH)
    /// "MAJOR.MINOR.PATCH", as R2_VERSION_STRING.
    public static let string = "\(R2_VERSION_MAJOR).\(R2_VERSION_MINOR).\(R2_VERSION_PATCH)"
}
