/// Signing, sending and error mapping shared by every operation.
extension R2Client {
    /// One operation's request before signing.
    package struct Call {
        package var operation: String
        package var method: String
        package var bucket: String
        package var key: String?
        package var query: [(String, String)] = []
        package var headers: [(name: String, value: String)] = []
        package var payloadHash = SigV4Signer.emptyPayloadHash
        package var isLargeTransfer = false
        package var cancellation: Cancellation?

        package init(operation: String, method: String, bucket: String, key: String? = nil) {
            self.operation = operation
            self.method = method
            self.bucket = bucket
            self.key = key
        }
    }

    /// Builds the signed HTTP request for a call.
    package func request(for call: Call) -> HTTPRequest {
        let path = Self.objectPath(bucket: call.bucket, key: call.key)
        let rawQuery = call.query.isEmpty ? nil
            : call.query.map { $0.1.isEmpty && $0.0 == "uploads" || $0.0 == "delete" ? URIEncoding.encode($0.0)
                : URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }.joined(separator: "&")
        var headers: [(name: String, value: String)] = [("Host", endpoint.hostHeader)]
        headers += call.headers
        let signed = signer.sign(SigV4Signer.Request(method: call.method, path: path, query: rawQuery,
                                                     headers: headers, payloadHash: call.payloadHash))
        // Host is set by curl from the URL; sending it twice would be an error.
        let sendHeaders = signed.headers.filter { !asciiEqualsIgnoringCase($0.name, "host") }
        var request = HTTPRequest(method: call.method, baseURL: endpoint.baseURL, path: path, query: rawQuery,
                                  headers: sendHeaders, operation: call.operation)
        request.isLargeTransfer = call.isLargeTransfer
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
            if sink.overflowed { throw R2Error(.malformedResponse, "\(call.operation) response is larger than \(limit) bytes") }
            throw error
        }
    }

    static func error(from head: ResponseHead, body: [UInt8], isHead: Bool) -> R2Error {
        var s3Code = "", message = "", requestID = head.requestID
        if !body.isEmpty, let parsed = try? S3XML.parseError(body) {
            s3Code = parsed.code
            message = parsed.message
            if requestID.isEmpty { requestID = parsed.requestID }
        }
        var retryAfter: Int64? = nil
        // Whole non-negative seconds; a huge value saturates (found by fuzzing: "-1" gave a negative
        // wait, which the C ABI reads as "none", and 19 digits overflowed the multiplication).
        if let ra = head.header("retry-after"), let seconds = UInt64(ra.trimmingSpaces()) {
            retryAfter = Int64(min(seconds, UInt64(Int64.max / 1000))) * 1000
        }
        return R2Error.fromResponse(status: head.status, s3Code: s3Code, message: message, requestID: requestID,
                                    retryAfterMs: retryAfter, isHead: isHead)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
