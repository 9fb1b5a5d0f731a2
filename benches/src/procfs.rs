//! The process's own CPU time, resident memory and thread count, from the clock and `/proc/self`.
//!
//! Parsers take the file's text so that they are tested without a live `/proc`; the readers
//! return `None` where `/proc` is missing (not Linux) or malformed.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, fixed at 100 in Linux's
/// user-space ABI on every architecture voxwire targets).
pub const USER_HZ: u64 = 100;

/// User and system CPU time of a process, in `USER_HZ` ticks (fields 14 and 15 of
/// `/proc/<pid>/stat`, proc(5)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatTimes {
    /// Time spent in user mode.
    pub user_ticks: u64,
    /// Time spent in the kernel on the process's behalf (system calls: `sendto`, `epoll_wait`,
    /// futex wake-ups, timers).
    pub system_ticks: u64,
}

impl StatTimes {
    /// User time as a duration.
    pub fn user(&self) -> Duration {
        ticks(self.user_ticks)
    }

    /// System time as a duration.
    pub fn system(&self) -> Duration {
        ticks(self.system_ticks)
    }

    /// The times elapsed since `earlier` (saturating).
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            user_ticks: self.user_ticks.saturating_sub(earlier.user_ticks),
            system_ticks: self.system_ticks.saturating_sub(earlier.system_ticks),
        }
    }
}

fn ticks(t: u64) -> Duration {
    Duration::from_millis(t.saturating_mul(1000 / USER_HZ))
}

/// Parses `utime` and `stime` out of a `/proc/<pid>/stat` line. The command name (field 2) is
/// in parentheses and may itself hold spaces and parentheses, so fields are counted from the
/// last `)`.
pub fn parse_stat_times(stat: &str) -> Option<StatTimes> {
    let (_, rest) = stat.rsplit_once(')')?;
    // After the name: state (field 3), ..., utime (field 14), stime (field 15).
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let user_ticks = fields.next()?.parse().ok()?;
    let system_ticks = fields.next()?.parse().ok()?;
    Some(StatTimes { user_ticks, system_ticks })
}

/// The value of a `Key:  N kB` (or bare `Key: N`) line of `/proc/<pid>/status`.
pub fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k != key {
            return None;
        }
        v.split_ascii_whitespace().next()?.parse().ok()
    })
}

/// This process's user and system time from `/proc/self/stat`.
pub fn stat_times() -> Option<StatTimes> {
    parse_stat_times(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// This process's resident set size in KiB (`VmRSS`).
pub fn rss_kb() -> Option<u64> {
    parse_status_kb(&std::fs::read_to_string("/proc/self/status").ok()?, "VmRSS")
}

/// The anonymous part of this process's resident set in KiB (`RssAnon`: heap and stacks, not
/// file-backed pages such as the program's code).
pub fn rss_anon_kb() -> Option<u64> {
    parse_status_kb(&std::fs::read_to_string("/proc/self/status").ok()?, "RssAnon")
}

/// This process's thread count.
pub fn threads() -> Option<u64> {
    parse_status_kb(&std::fs::read_to_string("/proc/self/status").ok()?, "Threads")
}

/// The whole process's CPU time, all threads, user and system (`CLOCK_PROCESS_CPUTIME_ID`,
/// nanosecond resolution).
pub fn process_cpu() -> Duration {
    cpu_time::ProcessTime::now().as_duration()
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
pub fn loadavg() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// Parses the first three fields of `/proc/loadavg`.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_ascii_whitespace().map(str::parse::<f64>);
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

/// The CPU model and the number of online CPUs, from `/proc/cpuinfo`.
pub fn cpu_model() -> Option<(String, usize)> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let model = info
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == "model name"))
        .map(|(_, v)| v.trim().to_owned())?;
    let cpus = info.lines().filter(|l| l.starts_with("processor")).count();
    Some((model, cpus))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        let line = "1 (a) b) c) R 1 1 1 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 9 1 2\n";
        assert_eq!(parse_stat_times(line), Some(StatTimes { user_ticks: 1234, system_ticks: 56 }));
    }

    #[test]
    fn truncated_or_garbled_stat_is_refused() {
        assert_eq!(parse_stat_times("1 (x) R 1 2 3"), None);
        assert_eq!(parse_stat_times("no parenthesis at all"), None);
        assert_eq!(parse_stat_times("1 (x) R 1 1 1 0 -1 0 0 0 0 0 x 5"), None);
    }

    #[test]
    fn stat_times_convert_and_subtract() {
        let a = StatTimes { user_ticks: 10, system_ticks: 4 };
        let b = StatTimes { user_ticks: 25, system_ticks: 3 };
        let d = b.since(&a);
        assert_eq!(d, StatTimes { user_ticks: 15, system_ticks: 0 });
        assert_eq!(d.user(), Duration::from_millis(150));
    }

    #[test]
    fn status_lines_by_key() {
        let s = "Name:\tbench\nVmRSSx:\t1 kB\nVmRSS:\t  51234 kB\nThreads:\t7\n";
        assert_eq!(parse_status_kb(s, "VmRSS"), Some(51_234));
        assert_eq!(parse_status_kb(s, "Threads"), Some(7));
        assert_eq!(parse_status_kb(s, "VmHWM"), None);
    }

    #[test]
    fn loadavg_fields() {
        assert_eq!(parse_loadavg("15.71 19.36 19.24 9/812 4242\n"), Some([15.71, 19.36, 19.24]));
        assert_eq!(parse_loadavg("1.0 2.0"), None);
    }

    #[test]
    fn live_readers_work_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        assert!(rss_kb().is_some_and(|kb| kb > 0));
        assert!(rss_anon_kb().is_some_and(|kb| kb > 0 && Some(kb) <= rss_kb()));
        assert!(threads().is_some_and(|t| t >= 1));
        assert!(stat_times().is_some());
        let before = process_cpu();
        let mut x = 0u64;
        for i in 0..200_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(process_cpu() > before, "{x}");
    }
}
