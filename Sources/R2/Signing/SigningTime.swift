import Glibc

/// A UTC instant with what SigV4 needs: `YYYYMMDD` and `YYYYMMDD'T'HHMMSS'Z'`.
package struct SigningTime: Sendable, Equatable {
    package let unixSeconds: Int64
    package let dateStamp: String   // 20150830
    package let amzDate: String     // 20150830T123600Z

    package init(unixSeconds: Int64) {
        self.unixSeconds = unixSeconds
        var t = time_t(unixSeconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var b = [UInt8](repeating: 0, count: 16)
        func put(_ v: Int32, _ at: Int, _ width: Int) {
            var v = v
            for k in stride(from: at + width - 1, through: at, by: -1) { b[k] = UInt8(0x30 + v % 10); v /= 10 }
        }
        put(tmv.tm_year + 1900, 0, 4); put(tmv.tm_mon + 1, 4, 2); put(tmv.tm_mday, 6, 2)
        b[8] = 0x54  // T
        put(tmv.tm_hour, 9, 2); put(tmv.tm_min, 11, 2); put(tmv.tm_sec, 13, 2)
        b[15] = 0x5a  // Z
        dateStamp = String(decoding: b[0..<8], as: UTF8.self)
        amzDate = String(decoding: b, as: UTF8.self)
    }

    package static func now() -> SigningTime { SigningTime(unixSeconds: Int64(time(nil))) }
}

/// The clock is injectable so signing is deterministic in tests.
package typealias Clock = @Sendable () -> Int64
package let systemClock: Clock = { Int64(time(nil)) }

/// Monotonic nanoseconds, for durations.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
