import ArgumentParser
import CR2Types
import Glibc
import R2

/// `r2`: the command-line tool over the Swift API. Every failure ends as one
/// line on stderr, `r2: <message>`, and a non-zero exit status.
@main
struct R2Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "r2",
        abstract: "Copy, list and delete objects in Cloudflare R2 (or any S3-compatible store).",
        discussion: """
            Remote paths are written r2://BUCKET/KEY (s3:// works too). Credentials and the \
            endpoint come from the environment: R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY and \
            R2_ACCOUNT_ID or R2_ENDPOINT; R2_ALLOW_HTTP=1 allows an http:// endpoint, R2_CA_BUNDLE \
            adds trusted CAs, R2_MULTIPART_THRESHOLD_BYTES, R2_MULTIPART_PART_SIZE_BYTES and \
            R2_MULTIPART_CONCURRENCY set the transfer defaults.
            """,
        version: R2Version.string,
        subcommands: [Copy.self, List.self, Remove.self, Cat.self, Presign.self, Multipart.self])

    /// ArgumentParser's own `main`, except that failures (usage errors too)
    /// are one line; help and --version still print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            failure.exit()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            Failure(message(for: error) + " (see r2 --help)", status: code.rawValue).exit()
        }
    }
}

/// A failure to report as `r2: <message>` with an exit status.
struct Failure: Error {
    var message: String
    var status: Int32 = 1

    init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    /// A library error about `subject` (a path or URL). The library's messages
    /// never contain secrets, and neither do the subjects.
    init(_ error: R2Error, about subject: String) {
        // After Ctrl-C, whatever failed first (a read, a part) failed because of it.
        if error.code == .cancelled || Interrupt.cancellation.isCancelled {
            self.init("\(subject): cancelled", status: 130)  // 128 + SIGINT, as a shell reports it
            return
        }
        switch error.code {
        case .noSuchKey: self.init("\(subject): no such key")
        case .noSuchBucket: self.init("\(subject): no such bucket")
        case .noSuchUpload: self.init("\(subject): no such upload")
        case .config: self.init(error.message)
        default: self.init("\(subject): \(error.description)")
        }
    }

    func exit() -> Never {
        // One line even if a server's message had line breaks in it.
        let line = message.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        Console.error("r2: \(line)\n")
        Glibc.exit(status)
    }
}

/// Runs library calls, turning their error into a failure about `subject`.
func attempt<T>(_ subject: String, _ body: () throws(R2Error) -> T) throws(Failure) -> T {
    do { return try body() } catch { throw Failure(error, about: subject) }
}

/// The client from the `R2_*` environment.
func makeClient() throws(Failure) -> R2Client {
    do { return try R2Client.fromEnvironment() } catch { throw Failure(error.message) }
}

/// Writing to the standard streams without stdio's buffering.
enum Console {
    static func error(_ text: String) {
        var text = text
        text.withUTF8 { _ = writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    /// Writes every byte, retrying short writes and EINTR; false (errno set) on failure.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}

/// Ctrl-C (SIGINT) and SIGTERM cancel the running transfer instead of killing
/// the process, so the library can abort a multipart upload and remove a
/// partial download; a second signal ends the process at once.
enum Interrupt {
    static let cancellation = Cancellation()

    static func install() {
        // Created here, not on first use inside the handler: a signal handler
        // must not run Swift's lazy initialisation.
        _ = cancellation
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            Interrupt.cancellation.cancel()
            Glibc.signal(signal, SIG_DFL)
        }
        sigemptyset(&action.sa_mask)
        // No SA_RESTART: a blocking read of stdin returns EINTR and notices.
        action.sa_flags = 0
        for signal in [SIGINT, SIGTERM] {
            var old = sigaction()
            sigaction(signal, nil, &old)
            // A signal ignored on entry (a script's background job, nohup) stays ignored.
            if unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            sigaction(signal, &action, nil)
        }
    }
}
