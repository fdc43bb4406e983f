/// The engine's driver of the retry state machine: waits are timer events on
/// the operation's loop and attempts are asynchronous transfers; nothing
/// blocks. Runs on the loop's thread from start to finish.
final class EngineCall<S: ResponseSink>: ResponseReceiver, Interruptible {
    private let machine: RetryMachine<S>
    private let transport: any AsyncTransport
    private let op: AsyncOp
    private var done: ((Result<ResponseHead, R2Error>, S) -> Void)?
    /// The attempt's sink while a transfer runs.
    private var routing: AttemptSink<S>? = nil
    private var transfer: (any TransferControl)? = nil
    private var timer: UInt64? = nil
    private let operation: Operation

    init(client: R2Client, call: R2Client.Call, body: RequestBody, sink: S, op: AsyncOp,
         done: @escaping (Result<ResponseHead, R2Error>, S) -> Void) {
        machine = RetryMachine(client: client, call: call, body: body, sink: sink)
        transport = client.transport as? any AsyncTransport ?? BlockingTransportOnLoop(client.transport)
        self.op = op
        self.done = done
        operation = call.operation
    }

    /// Starts the call. Loop thread only.
    func start() {
        op.enter(self)
        step(machine.advance())
    }

    private func step(_ step: RetryMachine<S>.Step) {
        switch step {
        case .wait(let nanos):
            timer = op.loop.schedule(afterNanos: nanos) { [self] in
                timer = nil
                self.step(machine.advance())
            }
        case .send(let request):
            routing = machine.attemptSink()
            transfer = transport.start(request, body: machine.sendBody, receiver: self, on: op.loop) { [self] error in
                transfer = nil
                let routing = self.routing!
                self.routing = nil
                self.step(machine.attemptEnded(routing, error))
            }
        case .finish(let result):
            op.leave(self)
            let done = self.done
            self.done = nil
            done?(result, machine.sink)
        }
    }

    func head(_ head: ResponseHead) { routing?.head(head) }

    func offer(_ chunk: UnsafeRawBufferPointer) -> SinkVerdict { routing?.offer(chunk) ?? .aborted }

    func interrupt() {
        if let transfer { transfer.abort(R2Error(.cancelled, "\(operation) cancelled")) }
        else if let timer { op.loop.fireNow(timer) }  // the machine sees the cancellation and finishes
    }

    func unpause() { transfer?.unpause() }
}

/// A transport without an asynchronous side (a test kit's), run on the loop's
/// thread: correct, but it holds the loop for the length of each request.
struct BlockingTransportOnLoop: AsyncTransport {
    let inner: any Transport
    init(_ inner: any Transport) { self.inner = inner }

    func start(_ request: HTTPRequest, body: RequestBody, receiver: any ResponseReceiver, on loop: EventLoop,
               completed: @escaping (R2Error?) -> Void) -> any TransferControl {
        let control = DeferredTransfer()
        loop.submit {
            guard !control.aborted else { return completed(control.error) }
            var sink = ReceiverSink(receiver: receiver)
            do throws(R2Error) { try inner.send(request, body: body, sink: &sink); completed(nil) } catch { completed(error) }
        }
        return control
    }

    final class DeferredTransfer: TransferControl {
        var aborted = false
        var error: R2Error?
        func abort(_ error: R2Error) { aborted = true; self.error = error }
        func unpause() {}
    }
}
