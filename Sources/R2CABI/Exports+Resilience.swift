import CR2Types
import Glibc
import R2

// Resilience and observability: the version 2 fields of r2_client_options,
// the log and trace callbacks, the circuit breaker's state and the metrics.

/// Copies the version 2 fields into `config` (validated by the client). Zero
/// keeps the default ResilienceOptions declares; R2_OFF turns off what 0
/// turns off in the core.
func applyResilienceOptions(_ o: r2_client_options, to config: inout ClientConfig) throws(R2Error) {
    var r = config.resilience
    func rule(_ c: r2_retry_rule, _ rule: inout RetryRule) {
        setIfNonZero(c.max_attempts, &rule.maxAttempts)
        setIfNonZero(c.base_delay_ms, &rule.baseDelayMs)
        setIfNonZero(c.max_delay_ms, &rule.maxDelayMs)
    }
    func offOrSet(_ value: UInt32, _ field: inout UInt32) {
        field = value == R2_OFF ? 0 : (value == 0 ? field : value)
    }
    rule(o.retry_slow_down, &r.retry.slowDown)
    rule(o.retry_server, &r.retry.server)
    rule(o.retry_network, &r.retry.network)
    rule(o.retry_interrupted, &r.retry.interrupted)
    if o.retry_jitter == Double(R2_OFF) { r.retry.jitter = 0 } else if o.retry_jitter != 0 { r.retry.jitter = o.retry_jitter }
    setIfNonZero(o.deadline_ms, &r.retry.deadlineMs)
    offOrSet(o.list_timeout_ms, &r.listTimeoutMs)
    setIfNonZero(o.part_timeout_ms, &r.partTimeoutMs)
    setIfNonZero(o.stall_timeout_ms, &r.stallTimeoutMs)
    offOrSet(o.stall_min_bytes_per_s, &r.stallMinBytesPerSecond)
    offOrSet(o.breaker_failure_threshold, &r.circuitBreaker.failureThreshold)
    setIfNonZero(o.breaker_success_threshold, &r.circuitBreaker.successThreshold)
    setIfNonZero(o.breaker_reset_timeout_ms, &r.circuitBreaker.resetTimeoutMs)
    if o.rate_limit != 0 { r.rateLimit = o.rate_limit }
    config.resilience = r
    guard let level = LogLevel(rawValue: o.log_level) else { throw invalid("opts->log_level \(o.log_level) is not an r2_log_level") }
    config.observability.logLevel = level
    config.observability.propagateTraceparent = o.traceparent
}

/// A caller's userdata, handed to its free function when the last closure
/// holding it goes (when the client is freed).
final class OwnedUserdata: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    let free: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    init(_ pointer: UnsafeMutableRawPointer?, _ free: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
        self.pointer = pointer
        self.free = free
    }
    deinit { if let pointer { free?(pointer) } }
}

/// The log and trace callbacks of one r2_client_new call.
struct ObservabilityCallbacks {
    let log: r2_log_cb?
    let logData: OwnedUserdata
    let trace: r2_trace_cb?
    let traceData: OwnedUserdata

    init(_ o: r2_client_options) {
        log = o.log_cb
        logData = OwnedUserdata(o.log_userdata, o.log_userdata_free)
        trace = o.trace_cb
        traceData = OwnedUserdata(o.trace_userdata, o.trace_userdata_free)
    }

    func install(in config: inout ClientConfig) {
        if let log {
            let data = logData
            config.observability.logger = { r in
                withCStrings([r.message, r.operation, r.bucket, r.key, r.requestID]) { s in
                    var record = r2_log_record(level: r.level.rawValue, message: s[0], operation: s[1], bucket: s[2], key: s[3],
                                               http_status: Int32(clamping: r.httpStatus), request_id: s[4],
                                               attempt: UInt32(clamping: r.attempt), duration_ms: r.durationMs,
                                               error_code: r.error?.rawValue ?? 0)
                    log(&record, data.pointer)
                }
            }
        }
        if let trace {
            let data = traceData
            config.observability.tracer = { t in
                withCStrings([t.operation, t.bucket, t.key, t.error?.message ?? "", t.requestID, t.traceparent]) { s in
                    var record = r2_trace_record(operation: s[0], bucket: s[1], key: s[2], http_status: Int32(clamping: t.httpStatus),
                                                 error_code: t.error?.code.rawValue ?? 0, error_message: s[3], request_id: s[4],
                                                 duration_ms: t.durationMs, bytes_sent: t.bytesSent, bytes_received: t.bytesReceived,
                                                 retries: UInt32(clamping: t.retries), traceparent: s[5])
                    trace(&record, data.pointer)
                }
            }
        }
    }
}

/// Calls `body` with NUL-terminated copies of `strings`, valid during the call.
private func withCStrings(_ strings: [String], _ body: ([UnsafePointer<CChar>]) -> Void) {
    let copies = strings.map { strdup($0)! }
    defer { for c in copies { free(c) } }
    body(copies.map { UnsafePointer($0) })
}

/// Reads the state of the client's circuit breaker.
///
/// - Parameters:
///   - out: Out: an r2_breaker_state.
///   - client: The client.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out or an invalid client.
/// - Ownership: out is the caller's.
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_client_breaker_state(_ out: UnsafeMutablePointer<Int32>?, _ client: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = try handle(client, as: R2Client.self, "client").circuitState.rawValue
    }
}

/// The client's metrics in the Prometheus text exposition format (version
/// 0.0.4): r2_requests_total{operation,bucket,status},
/// r2_request_duration_seconds (histogram, buckets 0.01 to 60),
/// r2_bytes_transferred_total{operation,bucket,direction},
/// r2_errors_total{operation,error_type}, r2_retries_total{operation,attempt},
/// r2_multipart_parts_total{bucket,status}, r2_circuit_breaker_state and
/// r2_signing_key_cache_hits_total.
///
/// - Parameters:
///   - out: Out: the text on success, {NULL, 0} on failure.
///   - client: The client.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out or an invalid client.
/// - Ownership: *out belongs to the caller: release it with r2_buf_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_client_metrics_prometheus(_ out: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = r2_buf(ptr: nil, size: 0)
        fill(out, try handle(client, as: R2Client.self, "client").metricsPrometheus())
    }
}

/// The client's metrics (those of r2_client_metrics_prometheus()) as one JSON
/// object: {"metrics":[{"name","type","help","samples":[{"name","labels":{...},"value"}]}]}.
///
/// - Parameters:
///   - out: Out: the JSON text on success, {NULL, 0} on failure.
///   - client: The client.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT for a NULL out or an invalid client.
/// - Ownership: *out belongs to the caller: release it with r2_buf_dispose().
/// - Threads: any thread; the client may be shared by many threads at once.
@c public func r2_client_metrics_json(_ out: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?) -> Int32 {
    guarded { () throws(R2Error) in
        guard let out else { throw invalid("out is NULL") }
        out.pointee = r2_buf(ptr: nil, size: 0)
        fill(out, try handle(client, as: R2Client.self, "client").metricsJSON())
    }
}
