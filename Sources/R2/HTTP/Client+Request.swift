import Glibc

/// Signing, sending and error mapping shared by every operation.
extension R2Client {
    /// One operation's request before signing.
    package struct Call {
        package var operation: Operation
        package var method: String
        package var bucket: String
        package var key: String?
        package var query: [(String, String)] = []
        package var headers: [(name: String, value: String)] = []
        package var payloadHash = SigV4Signer.emptyPayloadHash
        package var isLargeTransfer = false
        /// The body is known to be large (a part, a big object): see `HTTPRequest.isBulkBody`.
        package var isBulkBody = false
        package var cancellation: Cancellation?
        /// Starts a streamed body again from its first byte (a file, a seekable
        /// stream), so a failed attempt can be re-sent; nil: a one-shot stream,
        /// not retried once any of it was read.
        package var rewindBody: (() throws(R2Error) -> Void)?
        /// False for a request whose retry is not safe to send blindly
        /// (CompleteMultipartUpload: the caller resolves an ambiguous failure).
        package var retries = true

        package init(operation: Operation, method: String, bucket: String, key: String? = nil) {
            self.operation = operation
            self.method = method
            self.bucket = bucket
            self.key = key
        }
    }

    /// Builds the signed HTTP request for a call.
    package func request(for call: Call) -> HTTPRequest {
        let (baseURL, host, path) = location(bucket: call.bucket, key: call.key)
        let rawQuery = call.query.isEmpty ? nil
            : call.query.map { $0.1.isEmpty && $0.0 == "uploads" || $0.0 == "delete" ? URIEncoding.encode($0.0)
                : URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }.joined(separator: "&")
        var headers: [(name: String, value: String)] = [("Host", host)]
        // No request carries an empty header value (R2 answers 501 to one,
        // e.g. `x-amz-storage-class:`): an empty optional value means "not set".
        headers += call.headers.filter { !$0.value.isEmpty }
        let signed = signer.sign(SigV4Signer.Request(method: call.method, path: path, query: rawQuery,
                                                     headers: headers, payloadHash: call.payloadHash))
        // Host is set by curl from the URL; sending it twice would be an error.
        let sendHeaders = signed.headers.filter { !asciiEqualsIgnoringCase($0.name, "host") }
        var request = HTTPRequest(method: call.method, baseURL: baseURL, path: path, query: rawQuery,
                                  headers: sendHeaders, operation: call.operation)
        request.isLargeTransfer = call.isLargeTransfer
        request.isBulkBody = call.isBulkBody
        request.cancellation = call.cancellation
        return request
    }

    /// Sends a call; 2xx responses go to `sink`, error responses become a thrown
    /// `R2Error` mapped from the status and the S3 error body. Retries, resumed
    /// downloads, the circuit breaker, rate limit, metrics, logs and traces
    /// happen here for every operation (Resilience/Client+Resilience.swift).
    @discardableResult
    package func perform<S: ResponseSink>(_ call: Call, body: RequestBody = .empty, sink: inout S) throws(R2Error) -> ResponseHead {
        try call.cancellation?.check()
        return try performResilient(call, body: body, sink: &sink)
    }

    /// Sends a call and returns its whole (small) body.
    package func performBuffered(_ call: Call, body: RequestBody = .empty, limit: Int = 64 * 1024 * 1024)
        throws(R2Error) -> (head: ResponseHead, body: [UInt8])
    {
        var sink = BufferSink(limit: limit)
        do {
            let head = try perform(call, body: body, sink: &sink)
            return (head, sink.bytes)
        } catch {
            if sink.overflowed {
                throw R2Error(.malformedResponse, "\(call.operation) response is larger than \(limit) bytes",
                              httpStatus: sink.head.status, requestID: sink.head.requestID)
            }
            throw error
        }
    }

    /// A call whose whole (small) body is the result, as `performBuffered`.
    package func bufferedExchange(_ call: Call, body: RequestBody = .empty, limit: Int = 64 * 1024 * 1024)
        -> Exchange<BufferSink, (head: ResponseHead, body: [UInt8])>
    {
        var e = Exchange<BufferSink, (head: ResponseHead, body: [UInt8])>(call: call, body: body, sink: BufferSink(limit: limit)) { head, sink in (head, sink.bytes) }
        e.failure = { error, sink in
            guard sink.overflowed else { return error }
            return R2Error(.malformedResponse, "\(call.operation) response is larger than \(limit) bytes",
                           httpStatus: sink.head.status, requestID: sink.head.requestID)
        }
        return e
    }

    static func error(from head: ResponseHead, body: [UInt8], isHead: Bool) -> R2Error {
        var s3Code = "", message = "", requestID = head.requestID
        if !body.isEmpty, let parsed = try? S3XML.parseError(body) {
            s3Code = parsed.code
            message = parsed.message
            if requestID.isEmpty { requestID = parsed.requestID }
        }
        let retryAfter = head.header("retry-after").flatMap { RetryAfter.milliseconds($0, now: Int64(time(nil))) }
        return R2Error.fromResponse(status: head.status, s3Code: s3Code, message: message, requestID: requestID,
                                    retryAfterMs: retryAfter, isHead: isHead)
    }
}

extension String {
    package func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 10.2.3). Clamped to
/// a day (the retry policy's cap bounds the wait further); nil when unreadable.
enum RetryAfter {
    static func milliseconds(_ value: String, now: Int64) -> Int64? {
        let v = value.trimmingSpaces()
        let day: Int64 = 86_400
        if !v.isEmpty, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return min(Int64(v.prefix(12)) ?? day, day) * 1000
        }
        guard let at = httpDate(v) else { return nil }
        return min(max(at - now, 0), day) * 1000
    }

    /// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, to Unix seconds.
    static func httpDate(_ s: String) -> Int64? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = Int32(parts[1]), let year = Int32(parts[3]), (1...31).contains(day), (1970...9999).contains(year) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":")
        guard hms.count == 3, let h = Int32(hms[0]), let m = Int32(hms[1]), let sec = Int32(hms[2]),
              (0...23).contains(h), (0...59).contains(m), (0...60).contains(sec) else { return nil }
        var t = tm()
        t.tm_year = year - 1900; t.tm_mon = Int32(month); t.tm_mday = day
        t.tm_hour = h; t.tm_min = m; t.tm_sec = sec
        return Int64(timegm(&t))
    }
}

extension R2Error {
    /// A parse failure of a response body, with the response's status and request id.
    func from(_ head: ResponseHead) -> R2Error {
        guard httpStatus == 0 || requestID.isEmpty else { return self }
        return R2Error(code, message, httpStatus: httpStatus == 0 ? head.status : httpStatus, s3Code: s3Code,
                       requestID: requestID.isEmpty ? head.requestID : requestID, retryAfterMs: retryAfterMs)
    }
}

extension R2Client {
    /// Parses a response body; a failure carries the response's HTTP status and request id.
    /// An `<Error>` document where a result was expected (S3 and R2 may answer
    /// 200 with one) is the server's error, whatever the operation.
    func parse<T>(_ response: (head: ResponseHead, body: [UInt8]), _ parser: ([UInt8]) throws(R2Error) -> T) throws(R2Error) -> T {
        do { return try parser(response.body) } catch {
            if error.code == .malformedResponse, let e = try? S3XML.parseError(response.body), !e.code.isEmpty {
                let text = e.message.isEmpty ? e.code : e.message
                throw R2Error.fromResponse(status: response.head.status, s3Code: e.code,
                                           message: "\(text) (an error document in a \(response.head.status) response)",
                                           requestID: e.requestID.isEmpty ? response.head.requestID : e.requestID, retryAfterMs: nil)
            }
            throw error.from(response.head)
        }
    }
}
