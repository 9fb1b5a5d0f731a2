//! Cross-crate and comparison benchmarks for voxwire. Per-crate hot paths are benchmarked in each
//! crate's own `benches/`; this package holds the ones that span crates:
//!
//! - `benches/send_path.rs` (criterion): the per-packet send path of a playing client, piece by
//!   piece and whole: RTP header build, DAVE Opus frame encryption (DAVE protocol v1, AES-128-GCM
//!   with a truncated nonce), transport encryption (`aead_aes256_gcm_rtpsize`, RFC 7714 style
//!   AEAD with the rtpsize clear header), and the `sendto` of the datagram on 127.0.0.1. Run it
//!   with `cargo bench -p voxwire-benches --bench send_path`.
//! - the `bench-clients` binary (`cargo xtask bench clients`): N real voxwire clients in one
//!   process, each in its own DAVE call on a local voxwire server that runs in a process of its
//!   own, all playing Opus pass-through. It reports process CPU time per client per 20 ms tick
//!   and resident memory per client, idle and playing, as a markdown table, and beside it the
//!   cost of a bare `send` of the same datagrams on the same machine ([`floor`]).
//!
//! This library holds what the binary measures with and how it reports, so that it is unit
//! tested: readers of `/proc/self` ([`procfs`]), the shared Opus clip played by every client
//! ([`clip`]), the raw senders of the floor measurement ([`floor`]), and the per-round results
//! and their table ([`report`]).
//!
//! # Measuring
//!
//! CPU is the whole client process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`, nanosecond
//! resolution; `/proc/self/stat` gives the user/system split at 10 ms resolution) over steady
//! windows, divided by clients × 20 ms ticks in the window: everything a client costs (the
//! tokio driver, the send clock, timers, the `sendto` system call and, since the server is on
//! loopback, the kernel's delivery of each datagram to the server's socket) is in it, and nothing
//! of the server's own work, which runs in another process. Memory is the growth of anonymous
//! resident memory (`RssAnon`: heap and stacks) over the baseline taken before the first
//! connection, divided by the number of clients; `VmRSS` growth, which also counts the program's
//! code pages touched for the first time, is reported beside it.
//!
//! ```
//! use voxwire_benches::procfs::{parse_stat_times, parse_status_kb};
//! let stat = "4242 (bench (x) y) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 7 0 100 4096 300";
//! let t = parse_stat_times(stat).expect("a stat line");
//! assert_eq!((t.user_ticks, t.system_ticks), (150, 25));
//! assert_eq!(parse_status_kb("Name:\tx\nVmRSS:\t   2048 kB\n", "VmRSS"), Some(2048));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![expect(
    clippy::cast_precision_loss,
    reason = "counts of packets, ticks, samples and KiB stay far below 2^52"
)]

pub mod clip;
pub mod floor;
pub mod procfs;
pub mod report;

/// The median of `values` (the mean of the middle two for an even count), or `None` when empty.
/// NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { f64::midpoint(v[mid - 1], v[mid]) } else { v[mid] })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
