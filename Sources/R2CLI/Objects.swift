import ArgumentParser
import R2

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List objects under a prefix.",
        discussion: """
            Without --recursive, one level: keys up to the next / are grouped and shown as \
            "PRE name/", and names are shown relative to the prefix's last /. With it, every \
            key under the prefix, in full. The prefix is matched as text: r2://b/photo lists \
            photo.jpg and photos/.
            """)

    @Argument(help: "r2://BUCKET[/PREFIX]")
    var location: String

    @Flag(name: .shortAndLong, help: "List every key under the prefix.")
    var recursive = false

    @Flag(help: "Sizes in KiB, MiB, GiB.")
    var humanReadable = false

    func run() throws {
        let (bucket, prefix) = try Location.remote(location)
        let client = try makeClient()
        var options = ListOptions()
        options.prefix = prefix.isEmpty ? nil : prefix
        options.delimiter = recursive ? nil : "/"
        // One level is shown as a directory would be: names after the prefix's last "/".
        let hidden = recursive ? 0 : prefix.utf8.count - baseName(prefix).utf8.count
        func name(_ key: String) -> String { String(decoding: key.utf8.dropFirst(hidden), as: UTF8.self) }
        // Page by page, prefixes and objects merged in S3's order, by UTF-8 bytes
        // (the listing returns them apart).
        var progress = ListingProgress()
        while true {
            let page = try attempt("r2://\(bucket)/\(prefix)") { () throws(R2Error) in
                let page = try client.listObjects(bucket: bucket, options: options).result
                try progress.check(page, sentToken: options.continuationToken)
                return page
            }
            var rows = page.commonPrefixes.map { (key: $0, line: String(repeating: " ", count: 27) + "PRE " + name($0)) }
            for entry in page.contents {
                let size = humanReadable ? formatBytes(entry.size) : String(entry.size)
                rows.append((entry.key, timestamp(entry.lastModified) + " " + pad(size, 10) + " " + name(entry.key)))
            }
            for row in rows.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) { print(row.line) }
            guard page.isTruncated, let token = page.nextContinuationToken, !token.isEmpty else { break }
            options.continuationToken = token
        }
    }

    /// "2026-11-24T10:08:51.000Z" → "2026-11-24 10:08:51" (UTC, as sent).
    private func timestamp(_ iso: String) -> String {
        let t = iso.prefix(19)
        return t.count == 19 ? t.replacingOccurrences("T", " ") : pad(String(t), 19)
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete an object, or every object under a prefix.",
        discussion: """
            With --recursive, every key that starts with the prefix (as text: r2://b/logs also \
            matches logs2/…) is deleted, 1000 per request. Keys the server refuses are listed on \
            stderr and make the exit status 1. Deleting a key that does not exist succeeds.
            """)

    @Argument(help: "r2://BUCKET/KEY, or r2://BUCKET[/PREFIX] with --recursive")
    var location: String

    @Flag(name: .shortAndLong, help: "Delete every key under the prefix.")
    var recursive = false

    @Flag(help: "Show what would be deleted without deleting it.")
    var dryRun = false

    func run() throws {
        guard recursive else {
            let (bucket, key) = try Location.object(location)
            if !dryRun {
                let client = try makeClient()
                _ = try attempt("r2://\(bucket)/\(key)") { () throws(R2Error) in try client.deleteObject(bucket: bucket, key: key) }
            }
            print("\(dryRun ? "(dry run) " : "")delete: r2://\(bucket)/\(key)")
            return
        }
        let (bucket, prefix) = try Location.remote(location)
        let client = try makeClient()
        let subject = "r2://\(bucket)/\(prefix)"
        var options = ListOptions()
        options.prefix = prefix.isEmpty ? nil : prefix
        var listing = client.listAllObjects(bucket: bucket, options: options)
        var batch: [String] = []
        var failed = 0
        var total = 0
        // Deletes as it lists, one batch at a time: memory stays flat however many keys there are.
        func flush() throws(Failure) {
            guard !batch.isEmpty else { return }
            defer { total += batch.count; batch.removeAll(keepingCapacity: true) }
            guard !dryRun else {
                for key in batch { print("(dry run) delete: r2://\(bucket)/\(key)") }
                return
            }
            let result = try attempt(subject) { () throws(R2Error) in try client.deleteObjects(bucket: bucket, keys: batch) }
            for deleted in result.deleted { print("delete: r2://\(bucket)/\(deleted.key)") }
            for failure in result.errors {
                Console.error("r2: r2://\(bucket)/\(failure.key): not deleted: \(failure.code) \(failure.message)\n")
            }
            failed += result.errors.count
        }
        while let entry = try attempt(subject, { () throws(R2Error) in try listing.next() }) {
            batch.append(entry.key)
            if batch.count == 1000 { try flush() }
        }
        try flush()
        if failed > 0 { throw Failure("\(failed) of \(total) objects under \(subject) were not deleted") }
    }
}

struct Presign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presign", abstract: "Print a presigned URL for an object.",
        discussion: "Anyone with the URL can make that one request until it expires; no network call is made.")

    @Argument(help: "r2://BUCKET/KEY")
    var object: String

    @Option(help: "GET, PUT, HEAD or DELETE.")
    var method = "GET"

    @Option(help: ArgumentHelp("Seconds the URL stays valid, 1 to 604800 (7 days).", valueName: "seconds"))
    var expires: Int64 = 3600

    func run() throws {
        let (bucket, key) = try Location.object(object)
        let client = try makeClient()
        print(try attempt("r2://\(bucket)/\(key)") { () throws(R2Error) in
            try client.presign(method: method.uppercased(), bucket: bucket, key: key, expiresIn: expires)
        })
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

extension Substring {
    func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}
