//! Results of one benchmark round (one client count) and the markdown report of a run.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::median;

/// One 20 ms tick of the playback clock, in seconds.
pub const TICK_SECS: f64 = 0.020;
/// The per-client CPU target, microseconds per 20 ms tick.
pub const TARGET_CPU_US: f64 = 4.0;
/// The per-client memory target while playing, KiB.
pub const TARGET_KB: f64 = 100.0;

/// The process's counters over one measurement window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Wall-clock length of the window.
    pub wall_secs: f64,
    /// Process CPU time (all threads, user + system) spent in it.
    pub cpu_secs: f64,
    /// User-mode `USER_HZ` ticks from `/proc/self/stat` (10 ms resolution). Kept in the JSON
    /// only: the kernel samples these at its timer tick, which here locks in phase with the
    /// 20 ms send grid, so the user/kernel split they give swings from 10 % to 100 % kernel
    /// between identical runs. `perf` gives the split (see the README).
    pub user_ticks: u64,
    /// Kernel-mode `USER_HZ` ticks from `/proc/self/stat`.
    pub system_ticks: u64,
    /// RTP packets all clients sent in it.
    pub packets: u64,
    /// Resident set size at its end, KiB.
    pub rss_kb: u64,
    /// Its anonymous part (`RssAnon`: heap and stacks, not the program's mapped code), KiB.
    #[serde(default)]
    pub rss_anon_kb: u64,
}

impl Window {
    /// Playback ticks of all `clients` in the window.
    pub fn client_ticks(&self, clients: usize) -> f64 {
        clients as f64 * self.wall_secs / TICK_SECS
    }

    /// CPU microseconds per client per 20 ms tick.
    pub fn cpu_us_per_client_tick(&self, clients: usize) -> f64 {
        self.cpu_secs * 1e6 / self.client_ticks(clients).max(f64::MIN_POSITIVE)
    }

    /// CPU microseconds per packet sent (`None` when none was).
    pub fn cpu_us_per_packet(&self) -> Option<f64> {
        (self.packets > 0).then(|| self.cpu_secs * 1e6 / self.packets as f64)
    }

    /// Packets sent per client tick: 1.0 when every client sent on every tick.
    pub fn packets_per_tick(&self, clients: usize) -> f64 {
        self.packets as f64 / self.client_ticks(clients).max(f64::MIN_POSITIVE)
    }
}

/// The measurements of one client count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Clients connected and playing.
    pub clients: usize,
    /// Wall time to connect all of them (TLS, gateway, IP discovery, DAVE group), seconds.
    pub connect_secs: f64,
    /// Resident set size before the first connection, KiB.
    pub rss_baseline_kb: u64,
    /// Its anonymous part, KiB.
    #[serde(default)]
    pub rss_anon_baseline_kb: u64,
    /// All clients connected, DAVE ready, nothing playing.
    pub idle: Window,
    /// Steady playback windows.
    pub windows: Vec<Window>,
    /// Threads of the process while idle.
    pub threads_idle: u64,
    /// Threads of the process while playing.
    pub threads_playing: u64,
    /// Player statistics summed over the clients at the end: ticks that fired late (> 5 ms).
    pub late_ticks: u64,
    /// Ticks on which the player had no frame ready.
    pub underruns: u64,
    /// Mean Opus packet size played, bytes.
    pub opus_bytes: f64,
    /// The floor: windows of N bare `send`s per tick of a datagram of the same size, on N
    /// sockets, to the same server, after the clients left (see [`crate::floor`]).
    #[serde(default)]
    pub floor: Vec<Window>,
}

impl Round {
    fn per_window(&self, f: impl Fn(&Window) -> Option<f64>) -> Vec<f64> {
        self.windows.iter().filter_map(f).collect()
    }

    /// Median CPU microseconds per client per tick over the playback windows.
    pub fn cpu_us_per_client_tick(&self) -> Option<f64> {
        median(&self.per_window(|w| Some(w.cpu_us_per_client_tick(self.clients))))
    }

    /// Smallest and largest per-window CPU microseconds per client per tick.
    pub fn cpu_us_range(&self) -> Option<(f64, f64)> {
        let v = self.per_window(|w| Some(w.cpu_us_per_client_tick(self.clients)));
        let lo = v.iter().copied().reduce(f64::min)?;
        let hi = v.iter().copied().reduce(f64::max)?;
        Some((lo, hi))
    }

    /// Median CPU microseconds per packet sent.
    pub fn cpu_us_per_packet(&self) -> Option<f64> {
        median(&self.per_window(Window::cpu_us_per_packet))
    }

    /// Median packets per client tick.
    pub fn packets_per_tick(&self) -> Option<f64> {
        median(&self.per_window(|w| Some(w.packets_per_tick(self.clients))))
    }

    /// Median CPU microseconds per bare send in the floor windows.
    pub fn floor_us_per_send(&self) -> Option<f64> {
        median(&self.floor.iter().filter_map(Window::cpu_us_per_packet).collect::<Vec<_>>())
    }

    /// What a client costs over the bare send of its datagram: median CPU per client per tick
    /// minus [`Self::floor_us_per_send`].
    pub fn above_floor_us(&self) -> Option<f64> {
        Some(self.cpu_us_per_client_tick()? - self.floor_us_per_send()?)
    }

    /// Idle CPU microseconds per client per tick (connected, not playing).
    pub fn idle_cpu_us_per_client_tick(&self) -> f64 {
        self.idle.cpu_us_per_client_tick(self.clients)
    }

    /// KiB per client while idle: growth of anonymous resident memory over the baseline,
    /// divided by the client count.
    pub fn kb_per_client_idle(&self) -> f64 {
        self.idle.rss_anon_kb.saturating_sub(self.rss_anon_baseline_kb) as f64
            / self.clients.max(1) as f64
    }

    /// KiB per client while playing (median anonymous resident memory over the windows).
    pub fn kb_per_client_playing(&self) -> Option<f64> {
        let anon = median(&self.per_window(|w| Some(w.rss_anon_kb as f64)))?;
        Some((anon - self.rss_anon_baseline_kb as f64).max(0.0) / self.clients.max(1) as f64)
    }

    /// KiB per client while playing by whole `VmRSS`, which also counts the program's code
    /// pages first touched during the run (TLS, MLS, DAVE code: paged in once per process).
    pub fn rss_kb_per_client_playing(&self) -> Option<f64> {
        let rss = median(&self.per_window(|w| Some(w.rss_kb as f64)))?;
        Some((rss - self.rss_baseline_kb as f64).max(0.0) / self.clients.max(1) as f64)
    }
}

/// Where and under what load a run happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model.
    pub cpu_model: String,
    /// Online CPUs.
    pub cpus: usize,
    /// Load averages (1, 5, 15 min) when the run started.
    pub loadavg_start: [f64; 3],
    /// Load averages when it ended.
    pub loadavg_end: [f64; 3],
    /// The command that produced the report.
    pub command: String,
    /// Seconds per window, windows per round, warm-up seconds.
    pub window_secs: f64,
    /// Windows per round.
    pub windows: usize,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

fn verdict(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The markdown report of a run.
pub fn markdown(env: &Environment, rounds: &[Round]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# voxwire clients: CPU and memory per playing client\n");
    let _ = writeln!(
        s,
        "N voxwire clients in one process, each in its own call on a local voxwire server \
         (another process, which also holds one silent companion client per call so that the \
         DAVE group forms), `aead_aes256_gcm_rtpsize` and DAVE v1 on, playing a looped Opus clip \
         (pass-through, mean {} bytes per packet). CPU is the client process's CPU time over \
         {} steady windows of {:.1} s (medians; min–max in brackets) divided by clients × 20 ms \
         ticks; memory is the growth of anonymous resident memory (`RssAnon`: heap and stacks) \
         over the baseline before the first connection, divided by N. VmRSS growth is shown \
         beside it: it also counts the program's code pages that connecting and playing touch \
         for the first time, a one-off per process that N divides. Late ticks are playback ticks that fired over 5 ms late, summed over clients.\n",
        rounds.first().map_or_else(|| "–".into(), |r| format!("{:.0}", r.opus_bytes)),
        env.windows,
        env.window_secs,
    );
    let _ = writeln!(
        s,
        "Machine: {} × {}. Load average at start {:.2} / {:.2} / {:.2}, at end {:.2} / {:.2} / \
         {:.2} (1 / 5 / 15 min): the machine was shared while this ran.\n",
        env.cpus,
        env.cpu_model,
        env.loadavg_start[0],
        env.loadavg_start[1],
        env.loadavg_start[2],
        env.loadavg_end[0],
        env.loadavg_end[1],
        env.loadavg_end[2],
    );
    let _ = writeln!(
        s,
        "Targets: under {TARGET_CPU_US} µs CPU and under {TARGET_KB} KB per playing client.\n"
    );
    let _ = writeln!(
        s,
        "| clients | CPU µs / client / tick | µs / packet | packets / tick | \
         idle µs / client / tick | KB / client idle | KB / client playing | VmRSS KB / client \
         playing | threads | late ticks | connect s | CPU target | memory target |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|");
    for r in rounds {
        let cpu = r.cpu_us_per_client_tick();
        let range =
            r.cpu_us_range().map_or_else(String::new, |(lo, hi)| format!(" [{lo:.2}–{hi:.2}]"));
        let kb = r.kb_per_client_playing();
        let _ = writeln!(
            s,
            "| {} | {}{} | {} | {} | {:.2} | {:.1} | {} | {} | {} → {} | {} | {:.1} | {} | {} |",
            r.clients,
            opt(cpu, 2),
            range,
            opt(r.cpu_us_per_packet(), 2),
            opt(r.packets_per_tick(), 3),
            r.idle_cpu_us_per_client_tick(),
            r.kb_per_client_idle(),
            opt(kb, 1),
            opt(r.rss_kb_per_client_playing(), 1),
            r.threads_idle,
            r.threads_playing,
            r.late_ticks,
            r.connect_secs,
            verdict(cpu.is_some_and(|c| c < TARGET_CPU_US)),
            verdict(kb.is_some_and(|k| k < TARGET_KB)),
        );
    }
    floor_section(&mut s, rounds);
    let _ = writeln!(s, "\nCommand: `{}`", env.command);
    s
}

/// The floor table, when the rounds measured one.
fn floor_section(s: &mut String, rounds: &[Round]) {
    if rounds.iter().all(|r| r.floor.is_empty()) {
        return;
    }
    let _ = writeln!(
        s,
        "\n## The floor: bare sends\n\nAfter the clients leave, the same process sends N \
         datagrams of the clients' mean size ({} bytes) per 20 ms tick, one on each of N \
         UDP sockets connected to the same server, from one thread that does nothing else \
         (`voxwire_benches::floor`). Its CPU time per datagram is what one `send` costs here, \
         the kernel's loopback delivery to the server's socket included: no client that \
         sends its own datagram on its own socket can cost less on this machine. \
         The last column is what a voxwire client costs over it.\n",
        rounds.first().map_or_else(
            || "–".into(),
            |r| format!("{:.0}", r.opus_bytes + crate::floor::WIRE_OVERHEAD as f64)
        ),
    );
    let _ = writeln!(
        s,
        "| clients | voxwire µs / client / tick | bare send µs / datagram | datagrams / tick | \
         voxwire above the floor µs |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|");
    for r in rounds.iter().filter(|r| !r.floor.is_empty()) {
        let per_tick =
            median(&r.floor.iter().map(|w| w.packets_per_tick(r.clients)).collect::<Vec<_>>());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.clients,
            opt(r.cpu_us_per_client_tick(), 2),
            opt(r.floor_us_per_send(), 2),
            opt(per_tick, 3),
            opt(r.above_floor_us(), 2),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(cpu_secs: f64, packets: u64, rss_kb: u64) -> Window {
        Window {
            wall_secs: 2.0,
            cpu_secs,
            user_ticks: 30,
            system_ticks: 10,
            packets,
            rss_kb,
            // The code pages stay at 3 MB: the anonymous part is what grows.
            rss_anon_kb: rss_kb - 3_000,
        }
    }

    fn round() -> Round {
        Round {
            clients: 10,
            connect_secs: 1.5,
            rss_baseline_kb: 9_000,
            rss_anon_baseline_kb: 7_000,
            idle: Window { cpu_secs: 0.0001, ..window(0.0, 0, 10_500) },
            windows: vec![
                window(0.003, 1000, 11_000),
                window(0.002, 1000, 11_200),
                window(0.004, 1000, 11_100),
            ],
            threads_idle: 4,
            threads_playing: 14,
            late_ticks: 0,
            underruns: 0,
            opus_bytes: 160.0,
            floor: vec![window(0.002, 1000, 9_000), window(0.0025, 1000, 9_000)],
        }
    }

    #[test]
    fn per_client_tick_arithmetic() {
        let r = round();
        // 10 clients × 2 s / 20 ms = 1000 client ticks; 3 ms over 1000 ticks is 3 µs.
        assert!((r.cpu_us_per_client_tick().unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(r.cpu_us_range(), Some((2.0, 4.0)));
        assert!((r.cpu_us_per_packet().unwrap() - 3.0).abs() < 1e-9);
        assert!((r.packets_per_tick().unwrap() - 1.0).abs() < 1e-9);
        assert!((r.kb_per_client_idle() - 50.0).abs() < 1e-9);
        assert!((r.kb_per_client_playing().unwrap() - 110.0).abs() < 1e-9);
        assert!((r.rss_kb_per_client_playing().unwrap() - 210.0).abs() < 1e-9);
        // Bare sends: 2 and 2.5 ms over 1000 datagrams, median 2.25 µs; 3 - 2.25 above it.
        assert!((r.floor_us_per_send().unwrap() - 2.25).abs() < 1e-9);
        assert!((r.above_floor_us().unwrap() - 0.75).abs() < 1e-9);
        let none = Round { floor: Vec::new(), ..round() };
        assert_eq!((none.floor_us_per_send(), none.above_floor_us()), (None, None));
    }

    #[test]
    fn report_has_one_row_per_round_and_verdicts() {
        let env = Environment { cpus: 2, windows: 3, window_secs: 2.0, ..Environment::default() };
        let md = markdown(&env, &[round()]);
        let row = md.lines().find(|l| l.starts_with("| 10 |")).expect("row for 10 clients");
        assert!(row.contains("3.00 [2.00–4.00]"), "{row}");
        assert!(row.contains("| 110.0 | 210.0 |"), "{row}");
        // 3 µs meets the CPU target, 110 KB misses the memory one.
        assert!(row.ends_with("| yes | **no** |"), "{row}");
        let floor = md.lines().filter(|l| l.starts_with("| 10 |")).nth(1).expect("floor row");
        assert_eq!(floor, "| 10 | 3.00 | 2.25 | 1.000 | 0.75 |");
        let without = markdown(&env, &[Round { floor: Vec::new(), ..round() }]);
        assert!(!without.contains("bare send"), "{without}");
    }

    #[test]
    fn rounds_round_trip_through_json() {
        let r = round();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Round>(&json).unwrap(), r);
    }
}
