//! Whole-system benchmark of the pool (run by `cargo xtask bench ffmpeg-pool`).
//!
//! Two scenarios, each in a fresh process of its own (so that one cannot inherit the other's
//! heap), each with `--players` concurrent players reading Opus packets in real time for
//! `--seconds` (packet k of a player is due 20 ms * k after its first packet):
//! 1. distinct: every player streams its own generated MP3 (segmented streaming, nothing cached);
//! 2. shared: every player plays the same MP3 through the transcode-once cache.
//!
//! A sampler records, every `--sample-ms`, the live FFmpeg children and the memory of this
//! process plus all of them, read from `/proc/<pid>/smaps_rollup`:
//! - PSS (the primary measure): each page divided by the number of processes mapping it;
//! - RSS sum: each process's resident pages, so a shared library page counts once per process;
//! - USS (private): `Private_Clean + Private_Dirty`, the pages only that process maps.
//!
//! Real time is checked, not assumed: a packet that was not there at the tick it was due is
//! late; the report counts late packets, underrun ticks, players that ever starved, how far any
//! player fell behind, and how late the 20 ms loop itself woke up.
//!
//! Writes `report.md` and `plot.svg` (FFmpeg processes, memory and starving players over time)
//! to `--out`.
#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::type_complexity,
    clippy::similar_names,
    reason = "plot arithmetic on small counts; the plot's series table reads best inline"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use voxwire_ffmpeg::{
    Input, OpusConfig, PacketReader, Pool, PoolConfig, PoolStats, Priority, StreamConfig,
    ToolsConfig,
};

const TICK: Duration = Duration::from_millis(20);
/// Targets of peak PSS (process plus FFmpeg children), in MB (10^6 bytes).
const TARGET_DISTINCT_MB: f64 = 100.0;
const TARGET_SHARED_MB: f64 = 30.0;

#[derive(Clone)]
struct Args {
    per_core: usize,
    hard_cap: usize,
    players: usize,
    seconds: u64,
    track_seconds: u64,
    segment: u64,
    first_segment_ms: u64,
    read_ahead: u64,
    sample_ms: u64,
    ffmpeg: Option<PathBuf>,
    complexity: Option<u8>,
    batch: usize,
    scenario: Option<String>,
    only: Option<String>,
    out: PathBuf,
}

fn parse_args() -> Args {
    let mut a = Args {
        per_core: 1,
        hard_cap: 8,
        players: 100,
        seconds: 30,
        track_seconds: 180,
        segment: 10,
        first_segment_ms: 2000,
        read_ahead: 5,
        sample_ms: 100,
        ffmpeg: None,
        complexity: None,
        batch: 8,
        scenario: None,
        only: None,
        out: PathBuf::from("target/bench-ffmpeg-pool"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        let n = || v.parse::<u64>().unwrap_or_else(|_| panic!("{k} takes a whole number"));
        match k.as_str() {
            "--per-core" => a.per_core = n() as usize,
            "--hard-cap" => a.hard_cap = n() as usize,
            "--players" => a.players = n() as usize,
            "--seconds" => a.seconds = n(),
            "--track-seconds" => a.track_seconds = n(),
            "--segment" => a.segment = n(),
            "--first-segment-ms" => a.first_segment_ms = n(),
            "--read-ahead" => a.read_ahead = n(),
            "--sample-ms" => a.sample_ms = n().max(10),
            "--ffmpeg" => a.ffmpeg = Some(PathBuf::from(v)),
            "--batch" => a.batch = n() as usize,
            "--complexity" => a.complexity = Some(u8::try_from(n()).expect("--complexity 0..=10")),
            "--scenario" => a.scenario = Some(v),
            "--only" => a.only = Some(v),
            "--out" => a.out = PathBuf::from(v),
            other => panic!("unknown option {other}"),
        }
    }
    a.seconds = a.seconds.min(a.track_seconds);
    a
}

/// Generates `n` distinct MP3s of `seconds` without encoding each: 10-second MP3 pieces (each
/// its own tone, no headers, CBR 128 kbit/s) are encoded once, and track `i` is the byte
/// concatenation of the pieces in an order of its own (MP3 is a sequence of self-contained
/// frames, so the result is a valid stream).
fn generate(dir: &Path, n: usize, seconds: u64) -> Vec<PathBuf> {
    const PIECE: u64 = 10;
    std::fs::create_dir_all(dir).unwrap();
    let pieces = usize::try_from(seconds.div_ceil(PIECE)).unwrap().max(1);
    let piece_paths: Vec<PathBuf> =
        (0..pieces).map(|j| dir.join(format!("piece{j:02}.mp3"))).collect();
    for (j, p) in piece_paths.iter().enumerate() {
        if p.exists() {
            continue;
        }
        let tmp = p.with_extension("tmp.mp3");
        let ok = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
            .arg(format!("sine=frequency={}:sample_rate=44100:duration={PIECE}", 200 + 37 * j))
            .args(["-ac", "2", "-b:a", "128k", "-compression_level", "9", "-write_xing", "0"])
            .args(["-id3v2_version", "0", "-f", "mp3"])
            .arg(&tmp)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ffmpeg could not generate {}", p.display());
        std::fs::rename(&tmp, p).unwrap();
    }
    let data: Vec<Vec<u8>> = piece_paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let strides: Vec<usize> = (1..pieces.max(2)).filter(|a| gcd(*a, pieces) == 1).collect();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("track{i:03}-{seconds}s.mp3"));
            if !path.exists() {
                let stride = strides[(i / pieces) % strides.len()];
                let mut out = Vec::new();
                for k in 0..pieces {
                    out.extend_from_slice(&data[(k * stride + i) % pieces]);
                }
                std::fs::write(&path, out).unwrap();
            }
            path
        })
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// One sample of the process tree, bytes.
#[derive(Clone, Copy, Default)]
struct Sample {
    t: f64,
    children: usize,
    rss: u64,
    pss: u64,
    uss: u64,
    self_pss: u64,
    starving: usize,
    /// Packets buffered ahead of all players (distinct: their read-ahead).
    ahead: u64,
}

/// What the player loop publishes for the sampler.
#[derive(Default)]
struct Live {
    starving: AtomicUsize,
    ahead: AtomicU64,
}

fn kb_field(text: &str, field: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// (rss, pss, uss) of one process, in bytes; zeros when it is gone.
fn memory(pid: &str) -> (u64, u64, u64) {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return (0, 0, 0);
    };
    (
        kb_field(&s, "Rss:"),
        kb_field(&s, "Pss:"),
        kb_field(&s, "Private_Clean:") + kb_field(&s, "Private_Dirty:"),
    )
}

/// FFmpeg processes on the machine that are not ours (not children of this process, whether or
/// not the pool has listed them yet): they share library pages with our children and so lower
/// our PSS.
fn foreign_ffmpeg(ours: &[u32]) -> usize {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| !ours.contains(pid))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "ffmpeg")
        })
        .filter(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let ppid = status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))
                .and_then(|v| v.trim().parse::<u32>().ok());
            ppid != Some(me)
        })
        .count()
}

/// CPU seconds used by this process, and by it plus its children that were reaped (all of
/// them, once the scenario is over), from `/proc/self/stat` (utime, stime, cutime, cstime).
fn cpu_seconds() -> (f64, f64) {
    let ticks: Vec<u64> = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            // After the command name: state is field 3, utime..cstime are fields 14..=17.
            Some(rest.split_whitespace().skip(11).take(4).filter_map(|v| v.parse().ok()).collect())
        })
        .unwrap_or_default();
    // USER_HZ is 100 on Linux.
    let own = ticks.iter().take(2).sum::<u64>() as f64 / 100.0;
    (own, ticks.iter().sum::<u64>() as f64 / 100.0)
}

/// CPU seconds of the calling thread (`/proc/thread-self/stat`, utime + stime).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            Some(
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum::<u64>(),
            )
        })
        .map_or(0.0, |t| t as f64 / 100.0)
}

/// The first line of `ffmpeg -version`.
fn ffmpeg_version(ffmpeg: &Path) -> String {
    std::process::Command::new(ffmpeg)
        .arg("-version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned))
        .unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Sampled {
    samples: Vec<Sample>,
    foreign_max: usize,
    /// CPU seconds the sampler thread itself used (reading `/proc` is not free).
    cpu: f64,
}

fn sampler(
    pool: Pool,
    stop: Arc<AtomicBool>,
    live: Arc<Live>,
    start: Instant,
    every: Duration,
) -> std::thread::JoinHandle<Sampled> {
    std::thread::Builder::new()
        .name("sampler".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            let mut out = Sampled { samples: Vec::new(), foreign_max: 0, cpu: 0.0 };
            let mut next = Instant::now();
            let mut last: (Vec<u32>, u64) = (Vec::new(), 0);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // The processes are read one after the other, not at one instant: a pass
                // during which a child started or exited can count a library page both as
                // shared (in a process read before) and as private (in one read after). A
                // pass that differs from the last sample is therefore confirmed by two passes
                // in a row that name the same children and agree within 2 %; the larger of the
                // two is kept.
                let pass = || {
                    let stats = pool.stats();
                    let (mut rss, mut pss, mut uss) = memory("self");
                    let self_pss = pss;
                    for pid in &stats.child_pids {
                        let (r, p, u) = memory(&pid.to_string());
                        rss += r;
                        pss += p;
                        uss += u;
                    }
                    (stats, rss, pss, uss, self_pss)
                };
                let mut prev = pass();
                // A pass like the last sample (same children, PSS within 2 %) stands alone;
                // only a change is confirmed by further passes (reading `/proc` costs CPU that
                // the encoders need).
                let steady = |a: &(PoolStats, u64, u64, u64, u64), pids: &[u32], pss: u64| {
                    a.0.child_pids == pids && a.2.abs_diff(pss) * 50 <= a.2.max(pss)
                };
                let mut tries = if steady(&prev, &last.0, last.1) { 10 } else { 0 };
                let (stats, rss, pss, uss, self_pss) = loop {
                    if tries == 10 {
                        break prev;
                    }
                    let next = pass();
                    tries += 1;
                    let agree = next.0.child_pids == prev.0.child_pids
                        && next.2.abs_diff(prev.2) * 50 <= next.2.max(prev.2);
                    if agree || tries == 10 {
                        break if next.2 >= prev.2 { next } else { prev };
                    }
                    prev = next;
                };
                last = (stats.child_pids.clone(), pss);
                if n.is_multiple_of(10) {
                    out.foreign_max = out.foreign_max.max(foreign_ffmpeg(&stats.child_pids));
                }
                n += 1;
                out.samples.push(Sample {
                    t: start.elapsed().as_secs_f64(),
                    children: stats.live_children,
                    rss,
                    pss,
                    uss,
                    self_pss,
                    starving: live.starving.load(Ordering::Relaxed),
                    ahead: live.ahead.load(Ordering::Relaxed),
                });
                next += every;
                if let Some(d) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
            }
            out.cpu = thread_cpu_seconds();
            out
        })
        .unwrap()
}

/// What the players saw.
#[derive(Default)]
struct Playback {
    /// Time from the scenario's start to each player's first packet, sorted.
    first: Vec<Duration>,
    packets: u64,
    /// Packets that were not there at the tick they were due.
    late_packets: u64,
    /// (player, tick) pairs where a due packet was missing.
    underrun_ticks: u64,
    /// Players with at least one late packet.
    players_late: usize,
    /// The furthest any player fell behind its schedule.
    max_behind: Duration,
    /// How late the 20 ms loop itself woke up at worst, and how often by more than a tick.
    tick_lag_max: Duration,
    ticks_lagged: u64,
    ticks: u64,
}

/// Reads every player in real time from one 20 ms tick loop (like a voice send loop).
fn play_all(mut readers: Vec<PacketReader>, seconds: u64, start: Instant, live: &Live) -> Playback {
    let want = seconds * 50;
    let n = readers.len();
    let mut t0: Vec<Option<Instant>> = vec![None; n];
    let mut read = vec![0u64; n];
    // Packets below this index were already counted late.
    let mut late_upto = vec![0u64; n];
    let mut done = vec![false; n];
    let mut first = vec![Duration::ZERO; n];
    let mut pb = Playback::default();
    let mut tick = Instant::now();
    let mut remaining = n;
    while remaining > 0 {
        tick += TICK;
        if let Some(d) = tick.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let now = Instant::now();
        let lag = now.saturating_duration_since(tick);
        pb.tick_lag_max = pb.tick_lag_max.max(lag);
        pb.ticks += 1;
        if lag >= TICK {
            pb.ticks_lagged += 1;
        }
        let mut starving_now = 0;
        for i in 0..n {
            if done[i] {
                continue;
            }
            // Packets due by now: packet k is due at t0 + 20 ms * k.
            let due = t0[i]
                .map_or(1, |t| (now.duration_since(t).as_millis() / TICK.as_millis()) as u64 + 1)
                .min(want);
            while read[i] < due && !done[i] {
                match readers[i].try_next_packet() {
                    Poll::Ready(Ok(Some(_))) => {
                        if t0[i].is_none() {
                            t0[i] = Some(now);
                            first[i] = now.duration_since(start);
                        }
                        read[i] += 1;
                        pb.packets += 1;
                    }
                    Poll::Ready(Ok(None)) => done[i] = true,
                    Poll::Ready(Err(e)) => panic!("player {i}: {e}"),
                    Poll::Pending => {
                        if let Some(t) = t0[i] {
                            pb.underrun_ticks += 1;
                            starving_now += 1;
                            if late_upto[i] == 0 && due > read[i] {
                                pb.players_late += 1;
                            }
                            let from = late_upto[i].max(read[i]);
                            pb.late_packets += due.saturating_sub(from);
                            late_upto[i] = late_upto[i].max(due);
                            // Packet `read[i]` was due at t + 20 ms * read[i].
                            let due_at = t + TICK * read[i] as u32;
                            pb.max_behind =
                                pb.max_behind.max(now.saturating_duration_since(due_at));
                        }
                        break;
                    }
                }
            }
            if read[i] >= want {
                done[i] = true;
            }
            if done[i] {
                remaining -= 1;
            }
        }
        live.starving.store(starving_now, Ordering::Relaxed);
        let ahead: u64 = readers.iter().map(PacketReader::packets_ahead).sum();
        live.ahead.store(ahead, Ordering::Relaxed);
    }
    drop(readers);
    first.sort();
    pb.first = first;
    pb
}

/// What one scenario process writes for the parent: `key value` lines, then samples.
fn run_scenario(args: &Args, name: &str) {
    let inputs = generate(&args.out.join("inputs"), args.players, args.track_seconds);
    let mut cfg = OpusConfig::new();
    if let Some(c) = args.complexity {
        cfg = cfg.complexity(c).expect("--complexity 0..=10");
    }
    let mut tools = ToolsConfig::new();
    if let Some(p) = &args.ffmpeg {
        tools = tools.ffmpeg(p);
    }
    let pool =
        Pool::new(PoolConfig::new().tools(tools).per_core(args.per_core).hard_cap(args.hard_cap));
    let stream = StreamConfig::new()
        .segment(Some(Duration::from_secs(args.segment)))
        .first_segment(Duration::from_millis(args.first_segment_ms))
        .read_ahead(Duration::from_secs(args.read_ahead))
        .batch(args.batch);
    let load_before = loadavg();
    let stop = Arc::new(AtomicBool::new(false));
    let live = Arc::new(Live::default());
    let start = Instant::now();
    let sampler = sampler(
        pool.clone(),
        Arc::clone(&stop),
        Arc::clone(&live),
        start,
        Duration::from_millis(args.sample_ms),
    );
    let readers: Vec<PacketReader> = (0..args.players)
        .map(|i| match name {
            "distinct" => pool.stream(Input::File(inputs[i].clone()), &cfg, &stream).unwrap(),
            _ => pool.play(Input::File(inputs[0].clone()), &cfg, Priority::Playback).unwrap(),
        })
        .collect();
    let pb = play_all(readers, args.seconds, start, &live);
    let wall = start.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (own_cpu, cpu) = cpu_seconds();
    let sampled = sampler.join().unwrap();
    let stats = pool.stats();
    let mut s = String::new();
    let pct = |q: usize| pb.first.get(pb.first.len() * q / 100).copied().unwrap_or_default();
    let kv: [(&str, String); 20] = [
        ("cpu", cpu.to_string()),
        ("own_cpu", own_cpu.to_string()),
        ("sampler_cpu", sampled.cpu.to_string()),
        ("worker_limit", pool.worker_limit().to_string()),
        ("spawned", stats.spawned_total.to_string()),
        ("peak_children", stats.peak_children.to_string()),
        ("jobs_queued", stats.jobs_waited.to_string()),
        ("first_median", pct(50).as_secs_f64().to_string()),
        ("first_max", pb.first.last().copied().unwrap_or_default().as_secs_f64().to_string()),
        ("packets", pb.packets.to_string()),
        ("late_packets", pb.late_packets.to_string()),
        ("underrun_ticks", pb.underrun_ticks.to_string()),
        ("players_late", pb.players_late.to_string()),
        ("max_behind", pb.max_behind.as_secs_f64().to_string()),
        ("tick_lag_max", pb.tick_lag_max.as_secs_f64().to_string()),
        ("ticks_lagged", format!("{}/{}", pb.ticks_lagged, pb.ticks)),
        ("wall", wall.as_secs_f64().to_string()),
        ("foreign_ffmpeg", sampled.foreign_max.to_string()),
        ("load_before", load_before.replace(' ', "/")),
        ("load_after", loadavg().replace(' ', "/")),
    ];
    for (k, v) in kv {
        let _ = writeln!(s, "{k} {v}");
    }
    for x in &sampled.samples {
        let _ = writeln!(
            s,
            "sample {:.3} {} {} {} {} {} {} {}",
            x.t, x.children, x.rss, x.pss, x.uss, x.self_pss, x.starving, x.ahead
        );
    }
    std::fs::write(args.out.join(format!("{name}.txt")), s).unwrap();
}

/// A scenario's results as read back by the parent.
struct Outcome {
    name: &'static str,
    kv: Vec<(String, String)>,
    samples: Vec<Sample>,
}

impl Outcome {
    fn get(&self, k: &str) -> &str {
        self.kv.iter().find(|(a, _)| a == k).map_or("?", |(_, v)| v.as_str())
    }

    fn secs(&self, k: &str) -> f64 {
        self.get(k).parse().unwrap_or(f64::NAN)
    }

    fn load(name: &'static str, path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let mut o = Self { name, kv: Vec::new(), samples: Vec::new() };
        for line in text.lines() {
            let mut w = line.split_whitespace();
            match (w.next(), w.next()) {
                (Some("sample"), Some(t)) => {
                    let v: Vec<u64> = w.map(|x| x.parse().unwrap()).collect();
                    o.samples.push(Sample {
                        t: t.parse().unwrap(),
                        children: v[0] as usize,
                        rss: v[1],
                        pss: v[2],
                        uss: v[3],
                        self_pss: v[4],
                        starving: v[5] as usize,
                        ahead: v[6],
                    });
                }
                (Some(k), Some(v)) => o.kv.push((k.to_owned(), v.to_owned())),
                _ => {}
            }
        }
        o
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

fn peak(o: &Outcome, f: impl Fn(&Sample) -> u64) -> f64 {
    mb(o.samples.iter().map(f).max().unwrap_or(0))
}

fn svg(outcomes: &[Outcome]) -> String {
    let (w, h, pad) = (900.0, 230.0, 50.0);
    let panels_per = 3.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        h * outcomes.len() as f64 * panels_per
    );
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let mut y0 = 0.0;
    for o in outcomes {
        let tmax = o.samples.last().map_or(1.0, |x| x.t).max(1.0);
        let panels: [(&str, Vec<(&str, Box<dyn Fn(&Sample) -> f64>)>); 3] = [
            (
                "FFmpeg processes alive",
                vec![("FFmpeg children", Box::new(|x: &Sample| x.children as f64))],
            ),
            (
                "memory of process + FFmpeg children (MB)",
                vec![
                    ("PSS", Box::new(|x: &Sample| mb(x.pss))),
                    ("RSS sum", Box::new(|x: &Sample| mb(x.rss))),
                    ("USS", Box::new(|x: &Sample| mb(x.uss))),
                    ("own PSS", Box::new(|x: &Sample| mb(x.self_pss))),
                ],
            ),
            (
                "players missing a due packet",
                vec![("starving players", Box::new(|x: &Sample| x.starving as f64))],
            ),
        ];
        for (title, series) in panels {
            let vmax =
                series.iter().flat_map(|(_, f)| o.samples.iter().map(f)).fold(1.0f64, f64::max)
                    * 1.1;
            let _ = writeln!(
                s,
                "<text x=\"{pad}\" y=\"{}\" font-weight=\"bold\">{}: {title} (axis 0 to {vmax:.1}; time 0 to {tmax:.0} s)</text>",
                y0 + 20.0,
                o.name
            );
            let (x_a, y_a, pw, ph) = (pad, y0 + 30.0, w - 2.0 * pad, h - 60.0);
            let _ = writeln!(
                s,
                "<rect x=\"{x_a}\" y=\"{y_a}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>"
            );
            for (k, (label, f)) in series.iter().enumerate() {
                let pts: Vec<String> = o
                    .samples
                    .iter()
                    .map(|x| {
                        format!("{:.1},{:.1}", x_a + x.t / tmax * pw, y_a + ph - f(x) / vmax * ph)
                    })
                    .collect();
                let c = colors[k % colors.len()];
                let _ = writeln!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"1.2\" points=\"{}\"/>",
                    pts.join(" ")
                );
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" fill=\"{c}\">{label}</text>",
                    x_a + 10.0 + 120.0 * k as f64,
                    y_a + ph + 18.0
                );
            }
            let _ = writeln!(s, "<text x=\"5\" y=\"{}\">{vmax:.0}</text>", y_a + 10.0);
            let _ = writeln!(s, "<text x=\"30\" y=\"{}\">0</text>", y_a + ph);
            y0 += h;
        }
    }
    s.push_str("</svg>\n");
    s
}

fn memory_table(r: &mut String, args: &Args, outcomes: &[Outcome]) {
    let _ = writeln!(r, "## Memory (peak over the run, MB = 10^6 bytes)\n");
    let _ = writeln!(
        r,
        "| scenario | PSS: process + FFmpeg children | target | RSS sum | USS (private) | own PSS | read-ahead per player: at the PSS peak / most | FFmpeg spawned | FFmpeg alive at peak | other FFmpeg on the machine |"
    );
    let _ = writeln!(r, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for o in outcomes {
        let pss = peak(o, |x| x.pss);
        let target = if o.name == "distinct" { TARGET_DISTINCT_MB } else { TARGET_SHARED_MB };
        let verdict = if pss < target { "met" } else { "missed" };
        // Seconds of audio buffered ahead per player (20 ms packets).
        let per_player = |packets: u64| packets as f64 * 0.02 / args.players.max(1) as f64;
        let at_peak = o.samples.iter().max_by_key(|x| x.pss).map_or(0, |x| x.ahead);
        let most = o.samples.iter().map(|x| x.ahead).max().unwrap_or(0);
        let ahead = if o.name == "distinct" {
            format!("{:.1} s / {:.1} s", per_player(at_peak), per_player(most))
        } else {
            "one shared copy".to_owned()
        };
        let _ = writeln!(
            r,
            "| {} | **{pss:.1}** | < {target:.0} ({verdict}) | {:.1} | {:.1} | {:.1} | {ahead} | {} | {} | {} |",
            o.name,
            peak(o, |x| x.rss),
            peak(o, |x| x.uss),
            peak(o, |x| x.self_pss),
            o.get("spawned"),
            o.get("peak_children"),
            o.get("foreign_ffmpeg"),
        );
    }
}

fn report(args: &Args, outcomes: &[Outcome]) -> String {
    let mut r = String::new();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let _ = writeln!(r, "# ffmpeg-pool bench\n");
    let _ = writeln!(
        r,
        "{} players, {} s of each {} s MP3 read in real time, 64 kbit/s stereo Opus; {} cores, \
         worker limit {} (per core {}, hard cap {}); streaming in {} s segments after a first of \
         {} ms (each next one twice as long), refilled below {} s of read-ahead, up to {} segments \
         per FFmpeg run; Opus complexity {}; memory sampled every {} ms. Each scenario ran in a \
         fresh process. FFmpeg: `{}` ({}).\n",
        args.players,
        args.seconds,
        args.track_seconds,
        cores,
        outcomes.first().map_or("?", |o| o.get("worker_limit")),
        args.per_core,
        args.hard_cap,
        args.segment,
        args.first_segment_ms,
        args.read_ahead,
        args.batch,
        args.complexity.map_or_else(|| "10 (libopus default)".to_owned(), |c| c.to_string()),
        args.sample_ms,
        args.ffmpeg.as_deref().unwrap_or(Path::new("ffmpeg")).display(),
        ffmpeg_version(args.ffmpeg.as_deref().unwrap_or(Path::new("ffmpeg"))),
    );
    memory_table(&mut r, args, outcomes);
    let _ = writeln!(r, "\n## Real time\n");
    let _ = writeln!(
        r,
        "| scenario | packets read | late packets | players that starved | underrun ticks | furthest behind | first packet median / max | loop woke late (max, ticks > 20 ms) | wall s | CPU s: process + FFmpeg (process alone; its memory sampler) | CPU per played stream, sampler left out | load before / after |"
    );
    let _ =
        writeln!(r, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for o in outcomes {
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} | {:.2} s | {:.2} s / {:.2} s | {:.0} ms, {} | {:.1} | {:.1} ({:.1}; {:.1}) | {:.2} % of a core | {} / {} |",
            o.name,
            o.get("packets"),
            o.get("late_packets"),
            o.get("players_late"),
            o.get("underrun_ticks"),
            o.secs("max_behind"),
            o.secs("first_median"),
            o.secs("first_max"),
            o.secs("tick_lag_max") * 1000.0,
            o.get("ticks_lagged"),
            o.secs("wall"),
            o.secs("cpu"),
            o.secs("own_cpu"),
            o.secs("sampler_cpu"),
            100.0 * (o.secs("cpu") - o.secs("sampler_cpu")) / (o.secs("packets") * 0.02),
            o.get("load_before").replace('/', " "),
            o.get("load_after").replace('/', " "),
        );
    }
    let _ = writeln!(
        r,
        "\nPSS (proportional set size) divides every page among the processes that map it, so \
         the sum over this process and its FFmpeg children counts FFmpeg's shared libraries once \
         in all, as long as no other FFmpeg runs on the machine (one that does takes a share of \
         those pages and lowers ours: see the last memory column). RSS sum counts a shared page \
         once per process mapping it. USS counts only pages private to each process. A packet \
         is late when it was not there at the 20 ms tick it was due (packet k of a player is \
         due 20 ms * k after its first); a player that starved had at least one late packet. \
         The loop's own lateness is the reader's, not the pool's: a packet due during a late \
         wake-up but present by then is not late. CPU is this process's plus its reaped \
         children's (`/proc/self/stat`); per played stream, the memory sampler's own CPU is \
         left out and the rest divided by the audio played: the share of one core a real-time \
         stream costs, read-ahead that was encoded but not played included."
    );
    r
}

fn main() {
    let args = parse_args();
    std::fs::create_dir_all(&args.out).unwrap();
    if let Some(name) = &args.scenario {
        run_scenario(&args, name);
        return;
    }
    generate(&args.out.join("inputs"), args.players, args.track_seconds);
    let mut outcomes = Vec::new();
    for name in ["distinct", "shared"] {
        if args.only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        eprintln!("{name}: {} players, {} s each", args.players, args.seconds);
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(std::env::args().skip(1))
            .args(["--scenario", name])
            .status()
            .unwrap();
        assert!(status.success(), "scenario {name} failed: {status}");
        outcomes.push(Outcome::load(name, &args.out.join(format!("{name}.txt"))));
    }
    let r = report(&args, &outcomes);
    std::fs::write(args.out.join("report.md"), &r).unwrap();
    std::fs::write(args.out.join("plot.svg"), svg(&outcomes)).unwrap();
    print!("{r}");
    println!(
        "\nwrote {} and {}",
        args.out.join("report.md").display(),
        args.out.join("plot.svg").display()
    );
}
