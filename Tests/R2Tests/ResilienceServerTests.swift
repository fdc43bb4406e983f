import Glibc
import Testing
@testable import R2
import R2Testing

private func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// Resilience against the local SeaweedFS (make integration sets R2_TEST_*):
/// the real server's answers to resumed ranges, If-Match and bad signatures.
@Suite(.enabled(if: env("R2_TEST_ENDPOINT") != nil), .serialized)
struct ResilienceServerTests {
    let bucket = env("R2_TEST_BUCKET") ?? "r2-test"

    func client(secret: String? = nil, faults: [FaultInjectingTransport.Fault?] = [],
                configure: (inout ClientConfig) -> Void = { _ in }) throws -> (R2Client, FaultInjectingTransport) {
        var config = ClientConfig(accountID: "", credentials: Credentials(
            accessKeyID: env("R2_TEST_ACCESS_KEY_ID") ?? "", secretAccessKey: secret ?? env("R2_TEST_SECRET_ACCESS_KEY") ?? ""))
        config.endpoint = env("R2_TEST_ENDPOINT")
        config.allowHTTP = true
        configure(&config)
        var o = FaultInjectingTransport.Options()
        o.script = faults
        let transport = FaultInjectingTransport(wrapping: try CurlTransport(options: .init()), options: o)
        return (try R2Client(config: config, clock: systemClock, transport: transport), transport)
    }

    @Test func interruptedDownloadResumesAgainstTheServer() throws {
        let body = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let (plain, _) = try client()
        let etag = try plain.putObject(bucket: bucket, key: "resilience/resume", body: body).etag
        let (c, t) = try client(faults: [.truncatedBody, .truncatedBody])
        #expect(try c.getObject(bucket: bucket, key: "resilience/resume").body == body)
        #expect(t.log.map { $0.header("range") } == [nil, "bytes=500000-999999", "bytes=750000-999999"])
        #expect(t.log.dropFirst().allSatisfy { $0.header("if-match") == etag })

        // The object is replaced between the cut and the resume: If-Match stops the mix.
        let (changing, _) = try client(faults: [.truncatedBody])
        var replaced = false
        do {
            try changing.getObject(bucket: bucket, key: "resilience/resume") { _ in
                if !replaced { replaced = true; _ = try? plain.putObject(bucket: bucket, key: "resilience/resume", body: [1, 2, 3]) }
                return true
            }
            Issue.record("must fail")
        } catch {
            #expect(error.code == .preconditionFailed && error.httpStatus == 412)
            #expect(error.message.contains("changed during the download"))
        }
        try plain.deleteObject(bucket: bucket, key: "resilience/resume")
    }

    /// Every operation with a wrong secret, logging at trace level: the
    /// server refuses each; nothing secret shows anywhere.
    @Test func failingAuthLeaksNothing() throws {
        let wrong = "WRONGwrongWRONGwrongWRONGwrong0123456789"
        let rec = Recorder()
        let (c, t) = try client(secret: wrong) { rec.install(&$0, level: .trace) }
        var errors: [R2Error] = []
        func run(_ body: () throws(R2Error) -> Void) {
            do { try body(); Issue.record("must fail") } catch { errors.append(error) }
        }
        run { () throws(R2Error) in try c.putObject(bucket: bucket, key: "auth/a", body: [1]) }
        run { () throws(R2Error) in try c.putObject(bucket: bucket, key: "auth/a", length: 1) { _ in 1 } }
        run { () throws(R2Error) in _ = try c.getObject(bucket: bucket, key: "auth/a") }
        run { () throws(R2Error) in _ = try c.headObject(bucket: bucket, key: "auth/a") }
        run { () throws(R2Error) in try c.deleteObject(bucket: bucket, key: "auth/a") }
        run { () throws(R2Error) in _ = try c.deleteObjects(bucket: bucket, keys: ["auth/a"]) }
        run { () throws(R2Error) in _ = try c.copyObject(sourceBucket: bucket, sourceKey: "auth/a", bucket: bucket, key: "auth/b") }
        run { () throws(R2Error) in _ = try c.listObjects(bucket: bucket) }
        #expect(errors.count == 8)
        #expect(errors.allSatisfy { [.signatureMismatch, .accessDenied, .invalidAccessKey].contains($0.code) }, "\(errors.map(\.code.name))")
        let authorizations = t.log.compactMap { $0.header("authorization") }
        let signatures = authorizations.compactMap { $0.split(separator: "=").last.map(String.init) }
        #expect(signatures.count == t.log.count)
        var texts = errors.map(\.description) + rec.logs.map(\.message) + rec.traces.compactMap { $0.error?.description }
        texts += [c.metricsPrometheus(), c.metricsJSON()]
        for text in texts {
            for secret in [wrong, env("R2_TEST_SECRET_ACCESS_KEY") ?? "-", "Signature="] + signatures + authorizations {
                #expect(!text.contains(secret), "leaked in: \(text)")
            }
        }
        #expect(rec.logs.contains { $0.level == .trace } && rec.logs.contains { $0.level == .error })
    }
}
