import Synchronization

/// One series of a metric: label pairs and a value.
public struct MetricSample: Sendable {
    /// The series name: the family's, or `<family>_bucket|_sum|_count` for histograms.
    public let name: String
    public let labels: [(name: String, value: String)]
    public let value: Double

    /// The value of the label `name`, or nil.
    public func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }
}

/// A metric family as Prometheus sees it.
public struct MetricFamily: Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }
    public let name: String
    public let kind: Kind
    public let help: String
    public let samples: [MetricSample]
}

/// The client's counters and histograms. Metrics are kept in the library
/// (no swift-metrics dependency): r2 depends only on system C libraries, its
/// main users are C, Python and Node through the C ABI, which need the
/// numbers as text anyway, and swift-metrics would need a backend chosen by
/// the application. A Swift application that uses swift-metrics can read
/// `R2Client.metrics()` and forward the values.
package final class MetricsStore: Sendable {
    /// Histogram upper bounds for `r2_request_duration_seconds`, in seconds.
    package static let durationBuckets: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// Up to three label values (unused ones ""): a fixed struct, not an
    /// array, so counting a request allocates nothing.
    private struct Labels: Hashable, Comparable {
        var a: String, b = "", c = ""
        var values: [String] { [a, b, c] }
        static func < (x: Labels, y: Labels) -> Bool { (x.a, x.b, x.c) < (y.a, y.b, y.c) }
    }

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: MetricsStore.durationBuckets.count + 1)  // last: +Inf
        var sum = 0.0
        var count: UInt64 = 0

        mutating func observe(_ bucket: Int, _ seconds: Double) {
            counts[bucket] += 1
            sum += seconds
            count += 1
        }
    }

    private struct Store {
        var requests: [Labels: UInt64] = [:]
        var durations: [Labels: Histogram] = [:]
        var bytes: [Labels: UInt64] = [:]
        var errors: [Labels: UInt64] = [:]
        var retries: [Labels: UInt64] = [:]
        var parts: [Labels: UInt64] = [:]
    }

    private let store = Mutex(Store())

    package init() {}

    /// One HTTP request that was sent (an attempt). `status` is the HTTP
    /// status, or "none" when no response arrived.
    package func request(operation: String, bucket: String, status: String, seconds: Double,
                         sent: UInt64, received: UInt64) {
        let bucketIndex = Self.durationBuckets.firstIndex { seconds <= $0 } ?? Self.durationBuckets.count
        store.withLock { s in
            s.requests[Labels(a: operation, b: bucket, c: status), default: 0] += 1
            s.durations[Labels(a: operation), default: Histogram()].observe(bucketIndex, seconds)
            if sent > 0 { s.bytes[Labels(a: operation, b: bucket, c: "sent"), default: 0] += sent }
            if received > 0 { s.bytes[Labels(a: operation, b: bucket, c: "received"), default: 0] += received }
        }
    }

    /// One failed attempt (or a call refused before sending, e.g. CircuitOpen).
    package func error(operation: String, type: String) {
        store.withLock { $0.errors[Labels(a: operation, b: type), default: 0] += 1 }
    }

    /// A retry is about to be made; `attempt` is its number (2 for the first retry).
    package func retry(operation: String, attempt: Int) {
        store.withLock { $0.retries[Labels(a: operation, b: String(attempt)), default: 0] += 1 }
    }

    /// The multipart orchestrator's hook: one part finished, uploaded or failed for good.
    package func multipartPart(bucket: String, succeeded: Bool) {
        store.withLock { $0.parts[Labels(a: bucket, b: succeeded ? "success" : "failure"), default: 0] += 1 }
    }

    /// Every family, in a stable order (series sorted by label values).
    package func families(breakerState: CircuitState, signingKeyCacheHits: UInt64) -> [MetricFamily] {
        let s = store.withLock { $0 }
        func counter(_ name: String, _ help: String, _ labelNames: [String], _ values: [Labels: UInt64]) -> MetricFamily {
            MetricFamily(name: name, kind: .counter, help: help, samples: values.sorted { $0.key < $1.key }.map { key, value in
                MetricSample(name: name, labels: Array(zip(labelNames, key.values)).map { (name: $0.0, value: $0.1) }, value: Double(value))
            })
        }
        var histogram: [MetricSample] = []
        let name = "r2_request_duration_seconds"
        for (key, h) in s.durations.sorted(by: { $0.key < $1.key }) {
            let op = (name: "operation", value: key.a)
            var cumulative: UInt64 = 0
            for (i, bound) in Self.durationBuckets.enumerated() {
                cumulative += h.counts[i]
                histogram.append(MetricSample(name: name + "_bucket", labels: [op, ("le", Self.format(bound))], value: Double(cumulative)))
            }
            histogram.append(MetricSample(name: name + "_bucket", labels: [op, ("le", "+Inf")], value: Double(h.count)))
            histogram.append(MetricSample(name: name + "_sum", labels: [op], value: h.sum))
            histogram.append(MetricSample(name: name + "_count", labels: [op], value: Double(h.count)))
        }
        return [
            counter("r2_requests_total", "HTTP requests sent, retries included, by response status (\"none\": no response).",
                    ["operation", "bucket", "status"], s.requests),
            MetricFamily(name: name, kind: .histogram, help: "Duration of each HTTP request (attempt).", samples: histogram),
            counter("r2_bytes_transferred_total", "Body bytes sent and received.", ["operation", "bucket", "direction"], s.bytes),
            counter("r2_errors_total", "Failed attempts (retried or not) and calls refused before sending, by error type.",
                    ["operation", "error_type"], s.errors),
            counter("r2_retries_total", "Retries made, by the number of the attempt they started.", ["operation", "attempt"], s.retries),
            counter("r2_multipart_parts_total", "Multipart parts finished, by outcome.", ["bucket", "status"], s.parts),
            MetricFamily(name: "r2_circuit_breaker_state", kind: .gauge, help: "0 closed, 1 open, 2 half-open.",
                         samples: [MetricSample(name: "r2_circuit_breaker_state", labels: [], value: Double(breakerState.rawValue))]),
            MetricFamily(name: "r2_signing_key_cache_hits_total", kind: .counter, help: "Signatures made with the cached signing key.",
                         samples: [MetricSample(name: "r2_signing_key_cache_hits_total", labels: [], value: Double(signingKeyCacheHits))]),
        ]
    }

    /// Prometheus text exposition format 0.0.4.
    package static func prometheus(_ families: [MetricFamily]) -> String {
        var out = ""
        for f in families {
            out += "# HELP \(f.name) \(f.help)\n# TYPE \(f.name) \(f.kind.rawValue)\n"
            for s in f.samples {
                out += s.name
                if !s.labels.isEmpty {
                    out += "{" + s.labels.map { "\($0.name)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
                }
                out += " " + format(s.value) + "\n"
            }
        }
        return out
    }

    /// `{"metrics":[{"name":…,"type":…,"help":…,"samples":[{"name":…,"labels":{…},"value":…}]}]}`
    package static func json(_ families: [MetricFamily]) -> String {
        JSON.object([("metrics", .array(families.map { f in
            .object([("name", .string(f.name)), ("type", .string(f.kind.rawValue)), ("help", .string(f.help)),
                     ("samples", .array(f.samples.map { s in
                         .object([("name", .string(s.name)), ("labels", .object(s.labels.map { ($0.name, .string($0.value)) })),
                                  ("value", .number(s.value))])
                     }))])
        }))]).serialized(pretty: false)
    }

    private static func escape(_ v: String) -> String {
        var out = ""
        for c in v.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Integers without a fraction; others with Swift's shortest round-trip form.
    private static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
