import Foundation
import PuenteIngest
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Shows how an import goes: a bar redrawn in place on a terminal, a plain line every few seconds
/// otherwise (a log file or pipe). Written to standard error so that `--format json` stays clean.
final class ProgressMeter: Sendable {
    private struct State {
        var last = Date.distantPast
        var drawn = false
    }

    private let label: String
    private let started = Date()
    private let onTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    init(label: String) { self.label = label }

    func update(_ p: ImportProgress) {
        let now = Date()
        let line: String? = state.withLock { s in
            guard now.timeIntervalSince(s.last) >= (onTerminal ? 0.2 : 5) else { return nil }
            s.last = now
            s.drawn = true
            return render(p, now: now)
        }
        guard let line else { return }
        FileHandle.standardError.write(Data((onTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if onTerminal && state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func render(_ p: ImportProgress, now: Date) -> String {
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(p.rowsRead) / elapsed : 0
        let fraction = min(max(p.fractionRead, 0), 1)
        let left = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : nil
        let percent = Int((fraction * 100).rounded(.down))
        let stats = "\(p.rowsRead) rows, \(Int(rate)) rows/s" + (left.map { ", \(Self.clock($0)) left" } ?? "")
        guard onTerminal else { return "\(label): \(percent)% read, \(stats)" }
        let width = 24, filled = Int(fraction * Double(width))
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(percent)%  \(stats)"
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
