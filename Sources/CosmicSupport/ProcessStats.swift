import Foundation

/// What the kernel says about this process: the figures a Lambda reports as
/// "Max Memory Used" (peak resident set) and "Billed Duration" inputs.
public enum ProcessStats {
    /// Peak resident set size in bytes (`VmHWM` from /proc/self/status), the
    /// high-water mark of physical memory, not a sum of allocations.
    public static func peakResidentBytes() -> Int {
        statusField("VmHWM:") ?? maxRSSFromRusage()
    }

    /// Current resident set size in bytes (`VmRSS`).
    public static func residentBytes() -> Int {
        statusField("VmRSS:") ?? 0
    }

    /// Resident set size of process `pid` in bytes, nil once it is gone.
    public static func residentBytes(of pid: pid_t) -> Int? {
        statusField("VmRSS:", file: "/proc/\(pid)/status")
    }

    /// User + system CPU seconds consumed by this process so far.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Wall seconds since the kernel started this process (exec, loading and
    /// runtime start-up included): field 22 of /proc/self/stat, in clock
    /// ticks since boot, against CLOCK_BOOTTIME. Nil where /proc is missing.
    public static func secondsSinceProcessStart() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces), starting at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return max(0, Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - ticks / hertz)
    }

    /// Resets the kernel's peak-RSS counter (Linux ≥ 4.0) so the next
    /// reading covers only what follows. Returns false where unsupported.
    @discardableResult
    public static func resetPeakResident() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    private static func seconds(_ t: timeval) -> Double {
        Double(t.tv_sec) + Double(t.tv_usec) / 1e6
    }

    private static func maxRSSFromRusage() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }

    private static func statusField(_ key: String, file: String = "/proc/self/status") -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kb = Int(parts[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }
}

/// A monotonic clock in seconds, for intervals only.
public enum MonotonicClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
