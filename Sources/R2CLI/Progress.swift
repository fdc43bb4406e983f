import Glibc
import R2

/// A transfer's progress on stderr: on a terminal a bar redrawn in place with
/// rate and ETA, otherwise a plain line every few seconds (logs and CI keep
/// every line, so a redrawn bar would only fill them with carriage returns).
/// `auto` stays silent for the first second, so quick transfers print nothing.
final class ProgressDisplay {
    enum Mode { case auto, always, never }

    let label: String
    let mode: Mode
    let terminal = isatty(2) == 1
    let start = monotonicSeconds()
    /// Recent (time, bytes) samples: the rate is taken over the last few
    /// seconds, so the ETA follows changes in speed without jumping about.
    private var samples: [(time: Double, bytes: UInt64)]
    private var latest: (bytesDone: UInt64, bytesTotal: UInt64?) = (0, nil)
    private var shown = false
    private var lastShown = 0.0
    private static let window = 5.0
    private static let lineInterval = 5.0

    init(label: String, mode: Mode) {
        self.label = label
        self.mode = mode
        samples = [(start, 0)]
    }

    func update(_ progress: TransferProgress) { update(done: progress.bytesDone, total: progress.bytesTotal) }

    func update(done: UInt64, total: UInt64?) {
        guard mode != .never else { return }
        latest = (done, total)
        let now = monotonicSeconds()
        // A caller may report every read: sample and redraw ten times a second at most.
        guard now - samples[samples.count - 1].time >= 0.1 else { return }
        samples.append((now, done))
        while samples.count > 2, now - samples[1].time >= Self.window { samples.removeFirst() }
        if terminal {
            guard mode == .always || now - start >= 1 else { return }
            Console.error("\r" + bar(now: now) + "\u{1B}[K")
        } else {
            guard now - (shown ? lastShown : start) >= Self.lineInterval else { return }
            Console.error("\(label): \(stats(now: now, compact: false))\n")
        }
        shown = true
        lastShown = now
    }

    /// Replaces the bar by a summary after a success (when anything was shown,
    /// or always was asked for); clears it after a failure, before the error line.
    func finish(success: Bool) {
        guard mode != .never, shown || (success && mode == .always) else { return }
        if terminal { Console.error("\r\u{1B}[K") }
        guard success else { return }
        let elapsed = monotonicSeconds() - start
        guard latest.bytesDone > 0 else {
            // A server-side copy in one request reports no bytes.
            return Console.error("\(label): done in \(formatElapsed(elapsed))\n")
        }
        let rate = formatBytes(UInt64(Double(latest.bytesDone) / max(elapsed, 0.001))) + "/s"
        Console.error("\(label): \(formatBytes(latest.bytesDone)) in \(formatElapsed(elapsed)) (\(rate))\n")
    }

    private func rate(now: Double) -> Double? {
        let first = samples[0]
        guard now - first.time > 0.2 else { return nil }
        return Double(latest.bytesDone - min(first.bytes, latest.bytesDone)) / (now - first.time)
    }

    /// "45% 115.2 MiB of 256.0 MiB, 48.3 MiB/s, ETA 0:03".
    private func stats(now: Double, compact: Bool) -> String {
        let done = latest.bytesDone
        var parts: [String] = []
        if let total = latest.bytesTotal, total > 0 {
            let percent = "\(min(100, done * 100 / total))%"
            parts.append(compact ? "\(percent) \(formatBytes(done))/\(formatBytes(total))"
                                 : "\(formatBytes(done)) of \(formatBytes(total)) (\(percent))")
        } else {
            parts.append(formatBytes(done) + " read")  // only a stream of unknown length has no total
        }
        if let rate = rate(now: now) {
            parts.append(formatBytes(UInt64(rate)) + "/s")
            if let total = latest.bytesTotal, rate > 0, total >= done {
                parts.append("ETA " + formatClock(Double(total - done) / rate))
            }
        }
        return parts.joined(separator: compact ? "  " : ", ")
    }

    /// `label [=====>     ] 45% 115.2 MiB/256.0 MiB  48.3 MiB/s  ETA 0:03`,
    /// kept narrower than the terminal: a wrapped line cannot be redrawn with \r.
    private func bar(now: Double) -> String {
        let columns = terminalColumns() - 3  // room for the terminal echoing ^C
        let right = stats(now: now, compact: true)
        var barText = ""
        if let total = latest.bytesTotal, total > 0 {
            // The name first, then as much bar as fits (10 to 30 columns), or none.
            let width = max(10, min(30, columns - right.count - label.count - 4))
            if columns - right.count - width - 4 >= 8 {
                let filled = Int(Double(width) * Double(min(latest.bytesDone, total)) / Double(total))
                barText = "[" + String(repeating: "=", count: filled)
                    + (filled < width ? ">" + String(repeating: " ", count: width - filled - 1) : "") + "] "
            }
        }
        let room = columns - right.count - barText.count - 1
        guard room >= 8 else { return String(right.prefix(max(columns, 0))) }
        let name = label.count <= room ? label : "…" + label.suffix(room - 1)
        return name + " " + barText + right
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func terminalColumns() -> Int {
    var size = winsize()
    if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
}

/// "812 B", "1.5 KiB", "256.0 MiB".
func formatBytes(_ n: UInt64) -> String {
    if n < 1024 { return "\(n) B" }
    var value = Double(n)
    var unit = -1
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
    while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}

/// "0:07", "12:34", "1:02:03".
func formatClock(_ seconds: Double) -> String {
    let s = Int(min(seconds, 359_999).rounded())
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
}

/// "0.4s", "12.3s", then as a clock.
func formatElapsed(_ seconds: Double) -> String {
    guard seconds < 60 else { return formatClock(seconds) }
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)s"
}
