//! Whole-system benchmark of the pool (run by `cargo xtask bench ffmpeg-pool`).
//!
//! Two scenarios, each with `--players` concurrent players reading Opus packets in real time
//! (one packet per 20 ms, each player's clock starting at its first packet) for `--seconds`:
//! 1. distinct: every player streams its own generated MP3 (segmented streaming, nothing cached);
//! 2. shared: every player plays the same MP3 through the transcode-once cache.
//!
//! A sampler records, every 100 ms, the live FFmpeg children and the memory of this process
//! plus its children: RSS (what `/proc/<pid>/status` says; shared library pages are counted
//! once per process), PSS (shared pages divided among their users) and private (USS) bytes.
//! Writes `report.md` and `plot.svg` to `--out`.
#![expect(
    clippy::cast_precision_loss,
    clippy::type_complexity,
    clippy::similar_names,
    reason = "plot arithmetic on small counts; the plot's series table reads best inline"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use voxwire_ffmpeg::{Input, OpusConfig, PacketReader, Pool, PoolConfig, Priority, StreamConfig};

struct Args {
    per_core: usize,
    players: usize,
    seconds: u64,
    track_seconds: u64,
    out: PathBuf,
}

fn parse_args() -> Args {
    let mut a = Args {
        per_core: 2,
        players: 100,
        seconds: 30,
        track_seconds: 180,
        out: PathBuf::from("target/bench-ffmpeg-pool"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--per-core" => a.per_core = v.parse().expect("--per-core N"),
            "--players" => a.players = v.parse().expect("--players N"),
            "--seconds" => a.seconds = v.parse().expect("--seconds N"),
            "--track-seconds" => a.track_seconds = v.parse().expect("--track-seconds N"),
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

#[derive(Clone, Copy, Default)]
struct Sample {
    t: f64,
    children: usize,
    rss: u64,
    pss: u64,
    private: u64,
    self_rss: u64,
    anon: u64,
}

fn kb_field(text: &str, field: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// (rss, pss, private, anonymous) of one process, in bytes.
fn memory(pid: &str) -> (u64, u64, u64, u64) {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return (0, 0, 0, 0);
    };
    (
        kb_field(&s, "Rss:"),
        kb_field(&s, "Pss:"),
        kb_field(&s, "Private_Clean:") + kb_field(&s, "Private_Dirty:"),
        kb_field(&s, "Anonymous:"),
    )
}

fn sampler(
    pool: Pool,
    stop: Arc<AtomicBool>,
    start: Instant,
) -> std::thread::JoinHandle<Vec<Sample>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let stats = pool.stats();
            let (mut rss, mut pss, mut private, _) = memory("self");
            let self_rss = rss;
            // Anonymous memory of the children plus all of our own RSS: what the pool costs
            // beyond FFmpeg's read-only, reclaimable library pages.
            let mut anon = rss;
            for pid in &stats.child_pids {
                let (r, p, u, a) = memory(&pid.to_string());
                rss += r;
                pss += p;
                private += u;
                anon += a;
            }
            out.push(Sample {
                t: start.elapsed().as_secs_f64(),
                children: stats.live_children,
                rss,
                pss,
                private,
                self_rss,
                anon,
            });
            std::thread::sleep(Duration::from_millis(100));
        }
        out
    })
}

struct Outcome {
    name: &'static str,
    samples: Vec<Sample>,
    spawned: u64,
    peak_children: usize,
    waited: u64,
    first_packet_max: Duration,
    first_packet_median: Duration,
    underruns: u64,
    packets: u64,
    wall: Duration,
}

/// Reads every player in real time from one 20 ms tick loop (like a voice send loop).
fn play_all(
    mut readers: Vec<PacketReader>,
    seconds: u64,
    start: Instant,
) -> (Vec<Duration>, u64, u64) {
    let want = seconds * 50;
    let n = readers.len();
    let mut started: Vec<Option<(Instant, u64)>> = vec![None; n];
    let mut first = vec![Duration::ZERO; n];
    let mut read = vec![0u64; n];
    let mut done = vec![false; n];
    let (mut underruns, mut packets) = (0u64, 0u64);
    let mut tick = Instant::now();
    while done.iter().any(|d| !d) {
        tick += Duration::from_millis(20);
        if let Some(d) = tick.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let now = Instant::now();
        for i in 0..n {
            if done[i] {
                continue;
            }
            // Packets due by now since this player's first packet.
            let due = started[i]
                .map_or(1, |(t0, _)| (now.duration_since(t0).as_millis() / 20) as u64 + 1)
                .min(want);
            while read[i] < due && !done[i] {
                match readers[i].try_next_packet() {
                    Poll::Ready(Ok(Some(_))) => {
                        if started[i].is_none() {
                            started[i] = Some((now, 0));
                            first[i] = now.duration_since(start);
                        }
                        read[i] += 1;
                        packets += 1;
                    }
                    Poll::Ready(Ok(None)) => done[i] = true,
                    Poll::Ready(Err(e)) => panic!("player {i}: {e}"),
                    Poll::Pending => {
                        if started[i].is_some() {
                            underruns += 1;
                        }
                        break;
                    }
                }
            }
            if read[i] >= want {
                done[i] = true;
            }
        }
    }
    drop(readers);
    (first, underruns, packets)
}

fn scenario(
    name: &'static str,
    pool: &Pool,
    make: impl Fn(usize) -> PacketReader,
    players: usize,
    seconds: u64,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let sampler = sampler(pool.clone(), Arc::clone(&stop), start);
    let readers: Vec<PacketReader> = (0..players).map(make).collect();
    let (mut first, underruns, packets) = play_all(readers, seconds, start);
    let wall = start.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    first.sort();
    let stats = pool.stats();
    Outcome {
        name,
        samples,
        spawned: stats.spawned_total,
        peak_children: stats.peak_children,
        waited: stats.jobs_waited,
        first_packet_max: first.last().copied().unwrap_or_default(),
        first_packet_median: first.get(first.len() / 2).copied().unwrap_or_default(),
        underruns,
        packets,
        wall,
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

fn peak(o: &Outcome, f: impl Fn(&Sample) -> u64) -> f64 {
    mb(o.samples.iter().map(f).max().unwrap_or(0))
}

fn svg(outcomes: &[Outcome]) -> String {
    let (w, h, pad) = (900.0, 260.0, 50.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        h * outcomes.len() as f64 * 2.0
    );
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let mut y0 = 0.0;
    for o in outcomes {
        let tmax = o.samples.last().map_or(1.0, |x| x.t).max(1.0);
        let panels: [(&str, Vec<(&str, Box<dyn Fn(&Sample) -> f64>)>); 2] = [
            (
                "FFmpeg processes alive",
                vec![("children", Box::new(|x: &Sample| x.children as f64))],
            ),
            (
                "memory of process + children (MB)",
                vec![
                    ("RSS", Box::new(|x: &Sample| mb(x.rss))),
                    ("PSS", Box::new(|x: &Sample| mb(x.pss))),
                    ("private", Box::new(|x: &Sample| mb(x.private))),
                    ("own+anon", Box::new(|x: &Sample| mb(x.anon))),
                ],
            ),
        ];
        for (title, series) in panels {
            let vmax =
                series.iter().flat_map(|(_, f)| o.samples.iter().map(f)).fold(1.0f64, f64::max)
                    * 1.1;
            let _ = writeln!(
                s,
                "<text x=\"{pad}\" y=\"{}\" font-weight=\"bold\">{}: {title} (max axis {vmax:.1}, {tmax:.0} s)</text>",
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
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\" points=\"{}\"/>",
                    pts.join(" ")
                );
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" fill=\"{c}\">{label}</text>",
                    x_a + 10.0 + 80.0 * k as f64,
                    y_a + ph + 18.0
                );
            }
            let _ = writeln!(s, "<text x=\"{}\" y=\"{}\">{vmax:.0}</text>", 5.0, y_a + 10.0);
            let _ = writeln!(s, "<text x=\"{}\" y=\"{}\">0</text>", 30.0, y_a + ph);
            y0 += h;
        }
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    let args = parse_args();
    std::fs::create_dir_all(&args.out).unwrap();
    let inputs = generate(&args.out.join("inputs"), args.players, args.track_seconds);
    let cfg = OpusConfig::new();
    let mut outcomes = Vec::new();

    eprintln!("distinct: {} players, {} s each", args.players, args.seconds);
    let pool = Pool::new(PoolConfig::new().per_core(args.per_core));
    let stream = StreamConfig::new();
    outcomes.push(scenario(
        "distinct",
        &pool,
        |i| pool.stream(Input::File(inputs[i].clone()), &cfg, &stream).unwrap(),
        args.players,
        args.seconds,
    ));
    pool.shutdown();
    drop(pool);

    eprintln!("shared: {} players of one track, {} s each", args.players, args.seconds);
    let pool = Pool::new(PoolConfig::new().per_core(args.per_core));
    outcomes.push(scenario(
        "shared",
        &pool,
        |_| pool.play(Input::File(inputs[0].clone()), &cfg, Priority::Playback).unwrap(),
        args.players,
        args.seconds,
    ));

    let mut r = String::new();
    let _ = writeln!(r, "# ffmpeg-pool bench\n");
    let _ = writeln!(
        r,
        "{} players, {} s of each {} s MP3 read in real time; worker limit {} ({} cores).\n",
        args.players,
        args.seconds,
        args.track_seconds,
        pool.worker_limit(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    let _ = writeln!(
        r,
        "| scenario | peak RSS sum MB | peak PSS sum MB | peak private MB | peak own RSS + children anon MB | peak own RSS MB | FFmpeg spawned | peak alive | jobs queued | first packet median / max | underruns | packets | wall s |"
    );
    let _ = writeln!(
        r,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for o in &outcomes {
        let _ = writeln!(
            r,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {:.2} s / {:.2} s | {} | {} | {:.1} |",
            o.name,
            peak(o, |x| x.rss),
            peak(o, |x| x.pss),
            peak(o, |x| x.private),
            peak(o, |x| x.anon),
            peak(o, |x| x.self_rss),
            o.spawned,
            o.peak_children,
            o.waited,
            o.first_packet_median.as_secs_f64(),
            o.first_packet_max.as_secs_f64(),
            o.underruns,
            o.packets,
            o.wall.as_secs_f64()
        );
    }
    let _ = writeln!(
        r,
        "\nRSS sum: this process's RSS plus each child's, so shared library pages are counted once per \
         FFmpeg process. PSS divides shared pages among the processes mapping them. Private: pages only that \
         process maps. Own RSS + children anon: all of this process's resident memory plus the children's \
         anonymous (heap, stack, dirty) pages, leaving out FFmpeg's file-backed library pages, which the page cache \
         shares and can reclaim. Targets: distinct < 100 MB, shared < 30 MB."
    );
    std::fs::write(args.out.join("report.md"), &r).unwrap();
    std::fs::write(args.out.join("plot.svg"), svg(&outcomes)).unwrap();
    print!("{r}");
    println!(
        "\nwrote {} and {}",
        args.out.join("report.md").display(),
        args.out.join("plot.svg").display()
    );
}
