// 10 000 concurrent async GETs of 4 KiB through the Swift async API (on r2's
// engine) against a local server: threads in the process, peak RSS, ops/s and
// CPU per op. Run by `make bench-swift-async` (which starts SeaweedFS); reads
// R2_TEST_ENDPOINT / R2_TEST_ACCESS_KEY_ID / R2_TEST_SECRET_ACCESS_KEY / R2_TEST_BUCKET.
//
//   r2-async-bench [requests=10000] [object-bytes=4096]
import Glibc
import R2
import Synchronization

func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// Names of this process's threads now (/proc/self/task/*/comm).
func threadNames() -> [String] {
    guard let dir = opendir("/proc/self/task") else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        guard tid.first != "." else { continue }
        let fd = open("/proc/self/task/\(tid)/comm", O_RDONLY)
        guard fd >= 0 else { continue }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, 64)
        close(fd)
        names.append(String(decoding: buf[0..<max(n, 0)], as: UTF8.self).trimmingCharacters(in: "\n"))
    }
    return names
}

extension String {
    func trimmingCharacters(in set: Character) -> String { String(self.filter { $0 != set }) }
}

final class Gauge: Sendable {
    let state = Mutex((now: 0, peak: 0))
}

func usage() -> rusage {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return u
}

func cpuMicros(_ u: rusage) -> Double {
    Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec)
}

/// `x` with `digits` decimals (no Foundation).
func fmt(_ x: Double, _ digits: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    if digits == 0 { return String(Int(r)) }
    let whole = Int(r), frac = Int(((abs(r) - Double(abs(whole))) * scale).rounded())
    let f = String(frac)
    return "\(r < 0 && whole == 0 ? "-" : "")\(whole)." + String(repeating: "0", count: max(digits - f.count, 0)) + f
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func currentRSSKiB() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 128)
    let n = read(fd, &buf, 128)
    let fields = String(decoding: buf[0..<max(n, 0)], as: UTF8.self).split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024 : -1
}

let args = CommandLine.arguments
let requests = args.count > 1 ? Int(args[1]) ?? 10_000 : 10_000
let size = args.count > 2 ? Int(args[2]) ?? 4096 : 4096
guard let endpoint = env("R2_TEST_ENDPOINT") else {
    print("r2-async-bench: set R2_TEST_ENDPOINT (make bench-swift-async starts a local server)")
    exit(2)
}
let bucket = env("R2_TEST_BUCKET") ?? "r2-test"
var config = ClientConfig(accountID: "", credentials: Credentials(accessKeyID: env("R2_TEST_ACCESS_KEY_ID") ?? "",
                                                                  secretAccessKey: env("R2_TEST_SECRET_ACCESS_KEY") ?? ""))
config.endpoint = endpoint
config.allowHTTP = true

/// The run, in a function: top-level code is no async context for overload
/// resolution, and would pick the blocking calls.
func bench(client config: ClientConfig) async -> Int32 {
    do {
        let client = try R2Client(config: config)
        let key = "bench-swift-async/obj-\(size)"
        try await client.putObject(bucket: bucket, key: key, body: [UInt8](repeating: 0x5A, count: size))
        // Warm up: the engine's threads, connections and the signing key.
        for _ in 0..<50 { _ = try await client.getObject(bucket: bucket, key: key) }
        let threadsBefore = threadNames()
        let rssBefore = currentRSSKiB()
        let u0 = usage(), t0 = now()
        let peakThreads = Mutex(threadsBefore)
        // Calls started and not yet returned, and the most of them at once.
        let inFlight = Gauge()
        let (bytes, failures) = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<requests {
                group.addTask {
                    inFlight.state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    defer { inFlight.state.withLock { $0.now -= 1 } }
                    do { return try await client.getObject(bucket: bucket, key: key).body.count } catch { return -1 }
                }
            }
            var total = 0, failed = 0, done = 0
            for try await n in group {
                if n < 0 { failed += 1 } else { total += n }
                done += 1
                if done % 250 == 0 {
                    let names = threadNames()
                    peakThreads.withLock { if names.count > $0.count { $0 = names } }
                }
            }
            return (total, failed)
        }
        let t1 = now(), u1 = usage()
        let seconds = t1 - t0
        let peak = peakThreads.withLock { $0 }
        let engine = peak.filter { $0.hasPrefix("r2-engine") }.count
        var byName: [String: Int] = [:]
        for n in peak { byName[n, default: 0] += 1 }
        let opsPerSecond: Double = Double(requests) / seconds
        let cpuPerOp: Double = (cpuMicros(u1) - cpuMicros(u0)) / Double(requests)
        let peakRSS: Int = Int(u1.ru_maxrss)  // KiB
        let perRequest: Double = Double(peakRSS - rssBefore) / Double(requests)
        let named: [String] = byName.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        let engineThreads: String = env("R2_ENGINE_THREADS") ?? "default \(Engine.defaultThreads)"
        print("r2 Swift async: \(requests) concurrent getObject of \(size) B, one task each (R2_ENGINE_THREADS \(engineThreads))")
        print("  \(fmt(opsPerSecond)) ops/s   \(fmt(seconds, 2)) s   \(fmt(cpuPerOp)) us CPU/op (user+sys, whole process)")
        print("  failures: \(failures); bytes: \(bytes); calls in flight at once: up to \(inFlight.state.withLock { $0.peak })")
        print("  threads: \(threadsBefore.count) before, \(peak.count) at peak (r2 engine: \(engine)): " + named.joined(separator: ", "))
        print("  peak RSS \(fmt(Double(peakRSS) / 1024, 1)) MiB (\(fmt(Double(rssBefore) / 1024, 1)) MiB before the run): "
              + "\(fmt(perRequest, 1)) KiB per in-flight request")
        try await client.deleteObject(bucket: bucket, key: key)
        return failures == 0 ? 0 : 1
    } catch {
        print("r2-async-bench: \(error)")
        return 1
    }
}

exit(await bench(client: config))
