import ArgumentParser
import Glibc
import R2

/// Transfer settings shared by `cp` and `cat`; unset ones come from the
/// client's configuration (the R2_MULTIPART_* variables, else the defaults).
struct TransferFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Multipart part size, e.g. 16MiB (5MiB to 5GiB).", valueName: "size"),
            transform: parseSize)
    var partSize: UInt64?

    @Option(help: ArgumentHelp("Parts in flight at once (1 to 64).", valueName: "n"))
    var concurrency: Int?

    @Option(help: ArgumentHelp("Use multipart for objects of at least this size, e.g. 100MiB.", valueName: "size"),
            transform: parseSize)
    var threshold: UInt64?

    @Flag(inversion: .prefixedNo,
          help: "Show progress on stderr (default: for transfers that last over a second; on a terminal as a bar).")
    var progress: Bool?

    func validate() throws {
        if let partSize, !(MultipartLimits.minPartSize...MultipartLimits.maxPartSize).contains(partSize) {
            throw ValidationError("--part-size must be 5MiB to 5GiB")
        }
        if let concurrency, !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 64") }
    }

    var mode: ProgressDisplay.Mode { progress.map { $0 ? .always : .never } ?? .auto }

    /// Runs one transfer: progress display, Ctrl-C, and errors about `subject`.
    @discardableResult
    func run<T>(_ subject: String, progress mode: ProgressDisplay.Mode? = nil,
                _ body: (TransferOptions, ProgressDisplay) throws(R2Error) -> T) throws(Failure) -> T {
        Interrupt.install()
        let display = ProgressDisplay(label: subject, mode: mode ?? self.mode)
        var options = TransferOptions()
        options.partSize = partSize
        options.concurrency = concurrency
        options.threshold = threshold
        options.cancellation = Interrupt.cancellation
        options.progress = { display.update($0) }
        do {
            let result = try body(options, display)
            display.finish(success: true)
            return result
        } catch {
            display.finish(success: false)
            throw Failure(error, about: subject)
        }
    }
}

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy a file to R2, an object to a file, or an object to another object.",
        discussion: """
            One of SOURCE and DESTINATION is r2://BUCKET/KEY. A DESTINATION key that is empty or \
            ends in / gets the source's name appended, and so does a local directory. - reads \
            standard input (of any length: it is sent as a multipart upload when it exceeds one \
            part) or writes standard output. Large objects move in parallel parts; Ctrl-C cancels \
            cleanly (an unfinished multipart upload is aborted, a partial download removed).
            """)

    @Argument(help: "A local file, - for standard input, or r2://BUCKET/KEY.")
    var source: String

    @Argument(help: "A local file or directory, - for standard output, or r2://BUCKET/KEY.")
    var destination: String

    @OptionGroup var transfer: TransferFlags

    @Option(help: "Content-Type of an uploaded object.")
    var contentType: String?

    func run() throws {
        let from = try Location(source)
        let to = try Location(destination)
        switch (from, to) {
        case let (.remote, .remote(toBucket, toKey)):
            let object = try Location.object(source)
            let key = toKey.isEmpty || toKey.hasSuffix("/") ? toKey + baseName(object.key) : toKey
            let client = try makeClient()
            try transfer.run("r2://\(toBucket)/\(key)") { (options, _) throws(R2Error) in
                try client.copyLarge(sourceBucket: object.bucket, sourceKey: object.key, bucket: toBucket, key: key,
                                     options: options)
            }
        case let (_, .remote(bucket, key)):
            try upload(from, bucket: bucket, key: key)
        case let (.remote, destination):
            try download(try Location.object(source), to: destination)
        default:
            throw Failure("one of SOURCE and DESTINATION must be r2://BUCKET/KEY")
        }
    }

    private func upload(_ from: Location, bucket: String, key: String) throws {
        var key = key
        if case let .local(path) = from {
            var st = stat()
            guard stat(path, &st) == 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) != S_IFDIR else { throw Failure("\(path): is a directory (cp copies one file)") }
            if key.isEmpty || key.hasSuffix("/") { key += baseName(path) }
        } else if key.isEmpty || key.hasSuffix("/") {
            throw Failure("r2://\(bucket)/\(key): standard input needs a key to be stored under")
        }
        let client = try makeClient()
        try transfer.run("r2://\(bucket)/\(key)") { (transferOptions, display) throws(R2Error) in
            var options = transferOptions
            options.put.contentType = contentType
            if case let .local(path) = from {
                try client.uploadFile(path: path, bucket: bucket, key: key, options: options)
            } else {
                try uploadStandardInput(client, bucket: bucket, key: key, options: options, display: display)
            }
        }
    }

    /// Standard input has no length: its first part is read into memory, so
    /// small input is a plain PUT; anything longer streams as multipart.
    /// Progress counts the bytes read (as `pv` would): the library counts a
    /// stream's parts as they finish, and sizes them for the largest object
    /// (~500 MiB); its reports still come, and redraw the display meanwhile.
    private func uploadStandardInput(_ client: R2Client, bucket: String, key: String, options: TransferOptions,
                                     display: ProgressDisplay) throws(R2Error) {
        var options = options
        var read: UInt64 = 0
        options.progress = { _ in display.update(done: read, total: nil) }
        let head = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(options.partSize ?? client.config.multipartPartSize),
                                                          alignment: 16)
        defer { head.deallocate() }
        let count = try readFully(head)
        read = UInt64(count)
        if count < head.count {
            try client.uploadBytes(UnsafeRawBufferPointer(rebasing: head[..<count]), bucket: bucket, key: key, options: options)
            display.update(done: UInt64(count), total: UInt64(count))
            return
        }
        var offset = 0
        try client.uploadStream(bucket: bucket, key: key, length: nil, options: options) { (buffer) throws(R2Error) -> Int in
            guard offset < head.count else {
                let n = try readSome(buffer)
                read += UInt64(n)
                display.update(done: read, total: nil)
                return n
            }
            let n = min(buffer.count, head.count - offset)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: head[offset..<offset + n]))
            offset += n
            return n
        }
    }

    private func download(_ source: (bucket: String, key: String), to destination: Location) throws {
        let subject = "r2://\(source.bucket)/\(source.key)"
        if case var .local(path) = destination {
            if path.hasSuffix("/") || isDirectory(path) {
                guard !baseName(source.key).isEmpty else { throw Failure("\(subject): the key has no file name to use in \(path)") }
                path += (path.hasSuffix("/") ? "" : "/") + baseName(source.key)
            }
            let client = try makeClient()
            try transfer.run(subject) { (options, _) throws(R2Error) in
                try client.downloadFile(bucket: source.bucket, key: source.key, path: path, options: options)
            }
        } else {
            // Progress would interleave with the data on a terminal showing stdout.
            try writeToStandardOutput(source, transfer: transfer, progress: isatty(1) == 1 ? .never : nil)
        }
    }
}

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Write an object to standard output.",
        discussion: "Large objects are fetched in parallel ranges and written in order.")

    @Argument(help: "r2://BUCKET/KEY")
    var object: String

    @OptionGroup var transfer: TransferFlags

    func run() throws {
        try writeToStandardOutput(try Location.object(object), transfer: transfer,
                                  progress: transfer.progress == true ? .always : .never)
    }
}

private func writeToStandardOutput(_ source: (bucket: String, key: String), transfer: TransferFlags,
                                   progress: ProgressDisplay.Mode?) throws {
    let client = try makeClient()
    var writeError: Int32 = 0
    do {
        try transfer.run("r2://\(source.bucket)/\(source.key)", progress: progress) { (options, _) throws(R2Error) in
            try client.downloadStream(bucket: source.bucket, key: source.key, options: options) { chunk in
                if Console.writeAll(1, chunk) { return true }
                writeError = errno
                return false
            }
        }
    } catch {
        // A failed write aborts the download; its errno, not the abort, is the news.
        throw writeError != 0 ? Failure("standard output: \(String(cString: strerror(writeError)))") : error
    }
}

/// Reads standard input until `buffer` is full or the input ends.
private func readFully(_ buffer: UnsafeMutableRawBufferPointer) throws(R2Error) -> Int {
    var filled = 0
    while filled < buffer.count {
        let n = try readSome(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
        if n == 0 { break }
        filled += n
    }
    return filled
}

/// One read(2) of standard input; Ctrl-C interrupts it (EINTR) and cancels.
private func readSome(_ buffer: UnsafeMutableRawBufferPointer) throws(R2Error) -> Int {
    while true {
        let n = read(0, buffer.baseAddress, buffer.count)
        if n >= 0 { return n }
        guard errno == EINTR else { throw R2Error(.aborted, "reading standard input: \(String(cString: strerror(errno)))") }
        if Interrupt.cancellation.isCancelled { throw R2Error(.cancelled, "cancelled") }
    }
}
