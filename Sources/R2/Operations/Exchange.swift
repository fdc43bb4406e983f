/// One request of an operation, planned: the call, its body, the sink its
/// response goes to, and how the response becomes the operation's result.
/// The blocking API runs it on the calling thread (`run`); the asynchronous
/// API on the engine (`start`). Both go through the same retry state machine.
package struct Exchange<S: ResponseSink, Output> {
    package var call: R2Client.Call
    package var body: RequestBody
    package var sink: S
    /// The result from the final response's head and the sink.
    package var finish: (ResponseHead, inout S) throws(R2Error) -> Output
    /// Rewrites any error of the call (a limit the sink hit, say), given the sink.
    package var failure: (R2Error, inout S) -> R2Error = { e, _ in e }
    /// For a failure after a lost answer (`R2Error.afterLostAnswer`): the
    /// exchange that finds out what happened (a conditional PUT: the object's
    /// ETag against the body's MD5), run in its place; nil leaves the failure.
    package var afterLostAnswer: ((R2Error) -> Exchange<BufferSink, Output>?)? = nil

    package init(call: R2Client.Call, body: RequestBody = .empty, sink: S,
                 finish: @escaping (ResponseHead, inout S) throws(R2Error) -> Output) {
        self.call = call
        self.body = body
        self.sink = sink
        self.finish = finish
    }

    /// The same request with its result transformed (and its errors, by `failure`).
    package func map<T>(_ transform: @escaping (Output) throws(R2Error) -> T,
                        failure outer: ((R2Error) -> R2Error)? = nil) -> Exchange<S, T> {
        let finish = self.finish, failure = self.failure
        var e = Exchange<S, T>(call: call, body: body, sink: sink) { (head, sink) throws(R2Error) -> T in
            try transform(try finish(head, &sink))
        }
        e.failure = { error, sink in
            let inner = failure(error, &sink)
            return outer?(inner) ?? inner
        }
        if let resolve = afterLostAnswer {
            e.afterLostAnswer = { error in resolve(error)?.map(transform, failure: outer) }
        }
        return e
    }
}

extension R2Client {
    /// Runs an exchange on the calling thread.
    package func run<S, O>(_ e: Exchange<S, O>) throws(R2Error) -> O {
        var sink = e.sink
        do {
            let head = try perform(e.call, body: e.body, sink: &sink)
            return try e.finish(head, &sink)
        } catch {
            let failure = e.failure(error, &sink)
            if failure.afterLostAnswer, let resolve = e.afterLostAnswer?(failure) { return try run(resolve) }
            throw failure
        }
    }

    /// Runs an exchange on the engine, as part of `op`; `done` runs once, on
    /// the op's loop thread. Callable from any thread.
    package func start<S, O>(_ e: Exchange<S, O>, op: AsyncOp, done: @escaping (Result<O, R2Error>) -> Void) {
        var call = e.call
        if call.cancellation == nil { call.cancellation = op.cancellation }
        let work = { [self] in
            let engineCall = EngineCall(client: self, call: call, body: e.body, sink: e.sink, op: op) { result, sink in
                var sink = sink
                switch result {
                case .success(let head):
                    do throws(R2Error) { done(.success(try e.finish(head, &sink))) } catch { done(.failure(e.failure(error, &sink))) }
                case .failure(let error):
                    let failure = e.failure(error, &sink)
                    if failure.afterLostAnswer, let resolve = e.afterLostAnswer?(failure) {
                        self.start(resolve, op: op, done: done)
                    } else {
                        done(.failure(failure))
                    }
                }
            }
            engineCall.start()
        }
        op.loop.submit(work)  // never inside a curl callback of the loop: always from its queue
    }
}
