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
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        dateStamp = pad(tmv.tm_year + 1900, 4) + pad(tmv.tm_mon + 1, 2) + pad(tmv.tm_mday, 2)
        amzDate = dateStamp + "T" + pad(tmv.tm_hour, 2) + pad(tmv.tm_min, 2) + pad(tmv.tm_sec, 2) + "Z"
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
