import Glibc
import Synchronization
import Testing
@testable import R2

private func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

private let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/R2Tests/AsyncProxyTests.swift
    return parts.joined(separator: "/")
}()

/// Tests/FaultProxy/fault_proxy.py, started for one test: resets, stalls and
/// SlowDown between the client and the local server.
final class FaultProxy {
    let port: Int
    let control: Int
    private let pid: pid_t

    init(upstream: String) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw R2Error(.libraryBug, "pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let argv = ["python3", root + "/Tests/FaultProxy/fault_proxy.py", "--upstream", upstream]
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var child = pid_t()
        guard posix_spawnp(&child, "python3", &actions, nil, &cargs, environ) == 0 else { throw R2Error(.libraryBug, "spawn python3") }
        close(fds[1])
        pid = child
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fds[0], &byte, 1) == 1 && byte != 0x0A { line.append(byte) }
        close(fds[0])
        let ports = String(decoding: line, as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        guard ports.count == 2 else { throw R2Error(.libraryBug, "fault proxy said \(String(decoding: line, as: UTF8.self))") }
        (port, control) = (ports[0], ports[1])
    }

    /// Sends one control line and returns the answer.
    @discardableResult
    func send(_ command: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(control).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return "" }
        let bytes = Array((command + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 && byte != 0x0A { answer.append(byte) }
        return String(decoding: answer, as: UTF8.self)
    }

    func stat(_ name: String) -> Int {
        for field in send("stats").split(separator: " ") where field.hasPrefix(name + "=") { return Int(field.dropFirst(name.count + 1)) ?? -1 }
        return -1
    }

    deinit {
        send("quit")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// Retries the tracer saw.
final class Retries: Sendable { let count = Mutex(0) }

/// The async calls through resets mid-body, a stall and SlowDown with
/// Retry-After: the same results as the blocking calls.
@Suite(.enabled(if: env("R2_TEST_ENDPOINT")?.hasPrefix("http://") == true), .serialized)
struct AsyncProxyTests {
    let bucket = env("R2_TEST_BUCKET") ?? "r2-test"

    func client(_ endpoint: String, stallMs: UInt32 = 0, traces: Retries? = nil) throws -> R2Client {
        var config = ClientConfig(accountID: "", credentials: Credentials(
            accessKeyID: env("R2_TEST_ACCESS_KEY_ID") ?? "", secretAccessKey: env("R2_TEST_SECRET_ACCESS_KEY") ?? ""))
        config.endpoint = endpoint
        config.allowHTTP = true
        if stallMs > 0 { config.resilience.stallTimeoutMs = stallMs }
        if let traces { config.observability.tracer = { t in traces.count.withLock { $0 += t.retries } } }
        return try R2Client(config: config)
    }

    @Test func faultsOnTheWire() async throws {
        let upstream = String(env("R2_TEST_ENDPOINT")!.dropFirst("http://".count))
        let proxy = try FaultProxy(upstream: upstream)
        let direct = try client(env("R2_TEST_ENDPOINT")!)
        let via = "http://127.0.0.1:\(proxy.port)"
        let body = AsyncServerTests.pattern(6 << 20, seed: 9)
        try await direct.putObject(bucket: bucket, key: "swift-aio-proxy/obj", body: body)

        // Resets mid-body while a slow consumer reads a stream: resumed with Range + If-Match, every byte once.
        proxy.send("plan reset_down=2000000 resets=2")
        let retries = Retries()
        let c = try client(via, traces: retries)
        let stream = try await c.getObjectStream(bucket: bucket, key: "swift-aio-proxy/obj", bufferBytes: 256 * 1024)
        var got: [UInt8] = []
        for try await chunk in stream.body {
            got += chunk
            if got.count % (1 << 20) < chunk.count { try? await Task.sleep(nanoseconds: 5_000_000) }
        }
        #expect(got == body)
        #expect(proxy.stat("resets") == 2 && retries.count.withLock { $0 } == 2)

        // The same through the blocking call, for comparison.
        proxy.send("plan reset_down=2000000 resets=2")
        let blockingBody = try blocking { () throws(R2Error) in try c.getObject(bucket: bucket, key: "swift-aio-proxy/obj").body }
        #expect(blockingBody == body)

        // A stall: the stall check fails the attempt, the download resumes.
        proxy.send("plan stall_down=1000000 stall_ms=3000 stalls=1")
        let stalled = try client(via, stallMs: 1000)
        #expect(try await stalled.getObject(bucket: bucket, key: "swift-aio-proxy/obj").body == body)
        #expect(proxy.stat("stalls") == 1)

        // SlowDown with Retry-After: 1 s, waited out as an engine timer. (A proxy of its own: the
        // engine keeps its connections to the first one open, and SlowDown comes on new connections.)
        let throttling = try FaultProxy(upstream: upstream)
        throttling.send("plan slowdown=1 retry_after=1")
        let start = monotonicNanos()
        var range = GetOptions()
        range.range = "bytes=0-99"
        let throttled = try client("http://127.0.0.1:\(throttling.port)")
        #expect(try await throttled.getObject(bucket: bucket, key: "swift-aio-proxy/obj", options: range).body == Array(body[0..<100]))
        #expect(throttling.stat("slowdowns") == 1)
        #expect(monotonicNanos() - start >= 900_000_000)  // Retry-After honoured (a lower bound, not a speed)

        // An upload reset mid-body: bytes are re-sent.
        let resetsBefore = proxy.stat("resets")
        proxy.send("plan reset_up=1000000 resets=1")
        try await c.putObject(bucket: bucket, key: "swift-aio-proxy/up", body: body)
        #expect(proxy.stat("resets") == resetsBefore + 1)
        #expect(try await direct.getObject(bucket: bucket, key: "swift-aio-proxy/up").body == body)
        _ = try await direct.deleteObjects(bucket: bucket, keys: ["swift-aio-proxy/obj", "swift-aio-proxy/up"])
    }
}
