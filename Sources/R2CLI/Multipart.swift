import ArgumentParser
import R2

struct Multipart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpu", abstract: "List or abort unfinished multipart uploads.",
        discussion: "Unfinished uploads keep their parts (and cost storage) until they are completed or aborted.",
        subcommands: [ListUploads.self, AbortUpload.self])
}

struct ListUploads: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List unfinished multipart uploads: initiated, upload id, key.")

    @Argument(help: "r2://BUCKET[/PREFIX]")
    var location: String

    func run() throws {
        let (bucket, prefix) = try Location.remote(location)
        let client = try makeClient()
        let uploads = try attempt("r2://\(bucket)/\(prefix)") { () throws(R2Error) in
            try client.listMultipartUploads(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix)
        }
        for upload in uploads {
            let initiated = upload.initiated.prefix(19).replacingOccurrences("T", " ")
            print("\(initiated)  \(upload.uploadID)  \(upload.key)")
        }
    }
}

struct AbortUpload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort", abstract: "Abort a multipart upload, or every one under a prefix.",
        usage: """
            r2 mpu abort r2://BUCKET/KEY UPLOAD_ID
            r2 mpu abort --all r2://BUCKET[/PREFIX]
            """)

    @Argument(help: "r2://BUCKET/KEY, or r2://BUCKET[/PREFIX] with --all")
    var location: String

    @Argument(help: "The upload id, as `r2 mpu ls` shows it.")
    var uploadID: String?

    @Flag(help: "Abort every unfinished upload under the prefix.")
    var all = false

    func validate() throws {
        if all == (uploadID != nil) { throw ValidationError("give either an UPLOAD_ID or --all") }
    }

    func run() throws {
        let client = try makeClient()
        guard all else {
            let (bucket, key) = try Location.object(location)
            try abort(client, MultipartUpload(bucket: bucket, key: key, uploadID: uploadID!))
            return
        }
        let (bucket, prefix) = try Location.remote(location)
        let uploads = try attempt("r2://\(bucket)/\(prefix)") { () throws(R2Error) in
            try client.listMultipartUploads(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix)
        }
        var failed = 0
        for upload in uploads {
            do { try abort(client, MultipartUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID)) } catch {
                Console.error("r2: \(error.message)\n")
                failed += 1
            }
        }
        if failed > 0 { throw Failure("\(failed) of \(uploads.count) uploads were not aborted") }
    }

    private func abort(_ client: R2Client, _ upload: MultipartUpload) throws(Failure) {
        try attempt("r2://\(upload.bucket)/\(upload.key) upload \(upload.uploadID)") { () throws(R2Error) in
            try client.abortMultipartUpload(upload)
        }
        print("abort: r2://\(upload.bucket)/\(upload.key) \(upload.uploadID)")
    }
}
