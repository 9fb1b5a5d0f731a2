//! `bench-clients`: CPU time and memory per playing voxwire client.
//!
//! ```text
//! bench-clients [--clients 1,10,50,100] [--windows 5] [--window-secs 2] [--warmup-secs 2]
//!               [--bitrate 64] [--out target/bench-clients]
//! ```
//!
//! For every client count it starts a fresh process (`bench-clients round`), which starts the
//! local voice server in a process of its own (`bench-clients server`: TLS, DAVE required; it
//! connects a silent companion client to each of N calls, since a DAVE group forms with two
//! members, prints the join credentials of N users, one per call, and serves until its stdin
//! closes), connects N clients, measures an idle window, starts Opus pass-through playback
//! on all of them and measures steady windows. A fresh process per round keeps one round's freed
//! memory from hiding the next round's growth. The report goes to `<out>/report.md` and
//! `<out>/results.json`.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use voxwire::{
    ConnectionInfo, PlayOptions, Playing, Transport, VoiceConfig, VoiceConnection, VoiceEvent,
};
use voxwire_benches::clip::OpusClip;
use voxwire_benches::floor::{RawSenders, WIRE_OVERHEAD};
use voxwire_benches::procfs;
use voxwire_benches::report::{self, Environment, Round, Window};
use voxwire_server::{DaveMode, JoinInfo, Server, ServerConfig};

/// Connections opened at once.
const CONNECT_CONCURRENCY: usize = 8;
/// Frames in the shared clip (5 s, looped).
const CLIP_FRAMES: usize = 250;
/// How long connecting all clients and their DAVE groups may take.
const SETUP_TIMEOUT: Duration = Duration::from_mins(2);

#[derive(Clone, Debug)]
struct Options {
    clients: Vec<usize>,
    windows: usize,
    window_secs: f64,
    warmup_secs: f64,
    bitrate: u32,
    out: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clients: vec![1, 10, 50, 100],
            windows: 5,
            window_secs: 2.0,
            warmup_secs: 2.0,
            bitrate: 64,
            out: PathBuf::from("target/bench-clients"),
        }
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} takes a value"))?;
        let bad = |what: &str| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--clients" => {
                o.clients = value
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().ok().filter(|n| *n > 0))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("a comma-separated list of positive counts"))?;
            }
            "--windows" => {
                o.windows = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a count"))?;
            }
            "--window-secs" => {
                o.window_secs =
                    value.parse().ok().filter(|s| *s > 0.1).ok_or_else(|| bad("seconds > 0.1"))?;
            }
            "--warmup-secs" => {
                o.warmup_secs =
                    value.parse().ok().filter(|s| *s >= 0.0).ok_or_else(|| bad("seconds"))?;
            }
            "--bitrate" => {
                o.bitrate = value
                    .parse()
                    .ok()
                    .filter(|b| (16..=512).contains(b))
                    .ok_or_else(|| bad("kbit/s in 16..=512"))?;
            }
            "--out" => o.out = PathBuf::from(value),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((cmd, rest)) if cmd == "server" => server(rest),
        Some((cmd, rest)) if cmd == "round" => {
            parse_options(rest).and_then(|o| run_round(&o)).and_then(|r| {
                let json = serde_json::to_string(&r).map_err(|e| e.to_string())?;
                println!("{json}");
                Ok(())
            })
        }
        Some((cmd, _)) if cmd == "-h" || cmd == "--help" => {
            println!(
                "bench-clients [--clients 1,10,50,100] [--windows 5] [--window-secs 2] \
                 [--warmup-secs 2] [--bitrate 64] [--out target/bench-clients]"
            );
            Ok(())
        }
        _ => parse_options(&args).and_then(|o| orchestrate(&o, &args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-clients: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- orchestration -------------------------------------------------------------------------

fn orchestrate(o: &Options, args: &[String]) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let (cpu_model, cpus) = procfs::cpu_model().unwrap_or_default();
    let mut env = Environment {
        cpu_model,
        cpus,
        loadavg_start: procfs::loadavg().unwrap_or_default(),
        command: format!("bench-clients {}", args.join(" ")).trim_end().to_owned(),
        window_secs: o.window_secs,
        windows: o.windows,
        ..Environment::default()
    };
    let mut rounds = Vec::new();
    for &n in &o.clients {
        eprintln!("bench-clients: {n} clients");
        let out = Command::new(&exe)
            .arg("round")
            .args(["--clients", &n.to_string()])
            .args(["--windows", &o.windows.to_string()])
            .args(["--window-secs", &o.window_secs.to_string()])
            .args(["--warmup-secs", &o.warmup_secs.to_string()])
            .args(["--bitrate", &o.bitrate.to_string()])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("starting the round for {n} clients: {e}"))?;
        if !out.status.success() {
            return Err(format!("the round for {n} clients failed ({})", out.status));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().rfind(|l| l.starts_with('{')).unwrap_or_default();
        let round: Round = serde_json::from_str(line)
            .map_err(|e| format!("the round for {n} clients printed no result: {e}"))?;
        rounds.push(round);
    }
    env.loadavg_end = procfs::loadavg().unwrap_or_default();
    let md = report::markdown(&env, &rounds);
    std::fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    let json = serde_json::to_string_pretty(&Results { environment: env, rounds })
        .map_err(|e| e.to_string())?;
    std::fs::write(o.out.join("results.json"), json).map_err(|e| e.to_string())?;
    std::fs::write(o.out.join("report.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    println!("written to {}", o.out.join("report.md").display());
    Ok(())
}

#[derive(Serialize)]
struct Results {
    environment: Environment,
    rounds: Vec<Round>,
}

// ---- the server process --------------------------------------------------------------------

/// What the server process prints on its first line.
#[derive(Serialize, Deserialize)]
struct ServerHello {
    ca_pem: String,
    /// The server's UDP address, for the raw-send floor.
    udp: std::net::SocketAddr,
    joins: Vec<JoinInfo>,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))
}

/// Starts the voice server, prints the credentials of N users (each alone in a call), and
/// serves until stdin closes.
fn server(args: &[String]) -> Result<(), String> {
    let n = match args {
        [flag, n] if flag == "--clients" => n.parse::<u64>().map_err(|e| e.to_string())?,
        _ => return Err("usage: bench-clients server --clients N".into()),
    };
    runtime()?.block_on(async {
        let server = Server::start(ServerConfig::new().with_dave(DaveMode::Required))
            .await
            .map_err(|e| e.to_string())?;
        let ca_pem = server.ca_pem().ok_or("the server has no TLS certificate")?.to_owned();
        // A DAVE group forms once a call has two members: each call gets a silent companion
        // here, so that the measured process holds only the clients under test and receives
        // no media.
        let config = VoiceConfig::new()
            .with_transport(Transport::TlsTrusting(ca_pem.as_str().into()))
            .with_connect_timeout(SETUP_TIMEOUT);
        let mut companions = Vec::new();
        let mut pending = JoinSet::new();
        for i in 0..n {
            let (guild, channel) = (1_000 + i, 2_000 + i);
            let join = server.join(guild, channel, 20_000 + i).await.map_err(|e| e.to_string())?;
            let config = config.clone();
            pending.spawn(async move {
                VoiceConnection::connect(info(&join)?, config).await.map_err(|e| e.to_string())
            });
            if pending.len() >= CONNECT_CONCURRENCY
                && let Some(r) = pending.join_next().await
            {
                companions.push(r.map_err(|e| e.to_string())??);
            }
        }
        while let Some(r) = pending.join_next().await {
            companions.push(r.map_err(|e| e.to_string())??);
        }
        let mut joins = Vec::new();
        for i in 0..n {
            joins.push(
                server.join(1_000 + i, 2_000 + i, 10_000 + i).await.map_err(|e| e.to_string())?,
            );
        }
        let hello = serde_json::to_string(&ServerHello { ca_pem, udp: server.udp_addr(), joins })
            .map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{hello}").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
        }
        // Serve until the round closes our stdin (or dies).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            std::io::stdin().read_to_end(&mut sink)
        })
        .await;
        for c in companions {
            c.disconnect().await;
        }
        server.shutdown().await;
        Ok(())
    })
}

/// The server child; closing its stdin stops it.
struct ServerProcess {
    child: Child,
}

impl ServerProcess {
    fn start(clients: usize) -> Result<(Self, ServerHello), String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["server", "--clients", &clients.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the server process: {e}"))?;
        let stdout = child.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        let process = Self { child };
        let hello = serde_json::from_str(&line)
            .map_err(|e| format!("the server process printed no credentials: {e}"))?;
        Ok((process, hello))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- one round -----------------------------------------------------------------------------

fn info(j: &JoinInfo) -> Result<ConnectionInfo, String> {
    let id = |s: &str| s.parse::<u64>().map_err(|e| format!("id `{s}`: {e}"));
    Ok(ConnectionInfo {
        endpoint: j.endpoint.clone(),
        token: j.token.clone(),
        session_id: j.session_id.clone(),
        guild_id: id(&j.guild_id)?,
        channel_id: id(&j.channel_id)?,
        user_id: id(&j.user_id)?,
    })
}

/// Connects, then waits until the connection's DAVE group is ready.
async fn connect_ready(
    info: ConnectionInfo,
    config: VoiceConfig,
) -> Result<VoiceConnection, String> {
    let mut conn = VoiceConnection::connect(info, config).await.map_err(|e| e.to_string())?;
    loop {
        match conn.next_event().await {
            Some(VoiceEvent::DaveReady) => return Ok(conn),
            Some(VoiceEvent::Disconnected { code, reason }) => {
                return Err(format!("disconnected before DAVE was ready: {code} {reason}"));
            }
            Some(_) => {}
            None => return Err("the connection ended before DAVE was ready".into()),
        }
    }
}

async fn connect_all(
    joins: &[JoinInfo],
    config: &VoiceConfig,
) -> Result<Vec<VoiceConnection>, String> {
    let mut conns = Vec::with_capacity(joins.len());
    let mut pending = joins.iter();
    let mut set = JoinSet::new();
    loop {
        while set.len() < CONNECT_CONCURRENCY {
            let Some(j) = pending.next() else { break };
            set.spawn(connect_ready(info(j)?, config.clone()));
        }
        match set.join_next().await {
            Some(r) => conns.push(r.map_err(|e| e.to_string())??),
            None => return Ok(conns),
        }
    }
}

/// Throws away queued events (speaking, heartbeats) so that queues do not grow across windows.
fn drain_events(conns: &mut [VoiceConnection]) {
    for c in conns {
        while c.try_next_event().is_some() {}
    }
}

async fn packets_sent(conns: &[VoiceConnection]) -> Result<Vec<u64>, String> {
    let mut v = Vec::with_capacity(conns.len());
    for c in conns {
        v.push(c.stats().await.map_err(|e| e.to_string())?.packets_sent);
    }
    Ok(v)
}

/// Measures one window of `secs`: CPU (clock and `/proc`) strictly inside, packet counts just
/// outside (the `stats` round trips stay out of the CPU figure).
async fn measure(conns: &mut [VoiceConnection], secs: f64) -> Result<Window, String> {
    drain_events(conns);
    let p0: u64 = packets_sent(conns).await?.iter().sum();
    let mut w = cpu_window(secs).await;
    let p1: u64 = packets_sent(conns).await?.iter().sum();
    w.packets = p1.saturating_sub(p0);
    Ok(w)
}

/// Measures one window of the raw senders.
async fn measure_raw(senders: &RawSenders, secs: f64) -> Window {
    let p0 = senders.sent();
    let mut w = cpu_window(secs).await;
    w.packets = senders.sent().saturating_sub(p0);
    w
}

/// The process's CPU time and memory over `secs` (no packet count).
async fn cpu_window(secs: f64) -> Window {
    let s0 = procfs::stat_times().unwrap_or_default();
    let c0 = procfs::process_cpu();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let c1 = procfs::process_cpu();
    let wall = t0.elapsed();
    let s1 = procfs::stat_times().unwrap_or_default();
    let d = s1.since(&s0);
    Window {
        wall_secs: wall.as_secs_f64(),
        cpu_secs: c1.saturating_sub(c0).as_secs_f64(),
        user_ticks: d.user_ticks,
        system_ticks: d.system_ticks,
        packets: 0,
        rss_kb: procfs::rss_kb().unwrap_or(0),
        rss_anon_kb: procfs::rss_anon_kb().unwrap_or(0),
    }
}

fn run_round(o: &Options) -> Result<Round, String> {
    let [n] = o.clients[..] else { return Err("a round takes one client count".into()) };
    let clip = OpusClip::encode(CLIP_FRAMES, o.bitrate).map_err(|e| e.to_string())?;
    let rt = runtime()?;
    let (_server, hello) = ServerProcess::start(n)?;
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(hello.ca_pem.as_str().into()))
        .with_connect_timeout(SETUP_TIMEOUT);
    // Enough frames for the warm-up, the windows and a minute of slack, looped from the clip.
    let windows = u32::try_from(o.windows).map_err(|_| "too many windows")?;
    let total = Duration::from_secs_f64(o.warmup_secs + o.window_secs * f64::from(windows) + 60.0);
    let frames = usize::try_from(total.as_millis() / 20).map_err(|_| "too long a run")?;
    rt.block_on(async {
        // Let the runtime's workers start before the baseline.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let rss_baseline_kb = procfs::rss_kb().unwrap_or(0);
        let rss_anon_baseline_kb = procfs::rss_anon_kb().unwrap_or(0);

        let started = Instant::now();
        let mut conns = tokio::time::timeout(SETUP_TIMEOUT, connect_all(&hello.joins, &config))
            .await
            .map_err(|_| format!("connecting {n} clients took over {SETUP_TIMEOUT:?}"))??;
        let connect_secs = started.elapsed().as_secs_f64();
        eprintln!("bench-clients: {n} connected with DAVE in {connect_secs:.1} s");

        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = measure(&mut conns, o.window_secs).await?;
        let threads_idle = procfs::threads().unwrap_or(0);

        let mut playing: Vec<Playing> = Vec::with_capacity(n);
        for c in &conns {
            playing.push(
                c.play(clip.looping(frames), PlayOptions::default())
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while packets_sent(&conns).await?.contains(&0) {
            if Instant::now() > deadline {
                return Err("some clients sent nothing within 30 s of playing".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs_f64(o.warmup_secs)).await;
        let mut windows = Vec::with_capacity(o.windows);
        for _ in 0..o.windows {
            windows.push(measure(&mut conns, o.window_secs).await?);
        }
        let threads_playing = procfs::threads().unwrap_or(0);

        let (mut late_ticks, mut underruns) = (0, 0);
        for p in playing {
            p.stop().await;
            let stats = p.finished().await.map_err(|e| e.to_string())?;
            late_ticks += stats.late_ticks;
            underruns += stats.underruns;
        }
        for c in conns {
            c.disconnect().await;
        }

        // The floor: the same number of bare sends of the same size, on the same grid, to the
        // same server, with no client around them.
        let datagram = clip.mean_len_bytes() + WIRE_OVERHEAD;
        let senders = RawSenders::start(n, hello.udp, datagram)
            .map_err(|e| format!("starting the raw senders: {e}"))?;
        tokio::time::sleep(Duration::from_secs_f64(o.warmup_secs)).await;
        let mut floor = Vec::with_capacity(o.windows);
        for _ in 0..o.windows {
            floor.push(measure_raw(&senders, o.window_secs).await);
        }
        drop(senders);

        Ok(Round {
            clients: n,
            connect_secs,
            rss_baseline_kb,
            rss_anon_baseline_kb,
            idle,
            windows,
            threads_idle,
            threads_playing,
            late_ticks,
            underruns,
            opus_bytes: clip.mean_len(),
            floor,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let d = parse_options(&[]).unwrap();
        assert_eq!(d.clients, [1, 10, 50, 100]);
        assert_eq!((d.windows, d.bitrate), (5, 64));
        let o =
            parse_options(&args("--clients 2,30 --windows 3 --window-secs 1.5 --out x")).unwrap();
        assert_eq!(o.clients, [2, 30]);
        assert_eq!(o.windows, 3);
        assert!((o.window_secs - 1.5).abs() < f64::EPSILON);
        assert_eq!(o.out, PathBuf::from("x"));
    }

    #[test]
    fn bad_options_are_refused() {
        for bad in [
            "--clients 0",
            "--clients 1,,2",
            "--windows 0",
            "--window-secs 0",
            "--bitrate 8",
            "--frobnicate 1",
            "--clients",
        ] {
            assert!(parse_options(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn join_credentials_become_connection_info() {
        let j = JoinInfo {
            endpoint: "127.0.0.1:4000".into(),
            token: "t".into(),
            session_id: "s".into(),
            guild_id: "1000".into(),
            channel_id: "2000".into(),
            user_id: "10000".into(),
        };
        let i = info(&j).unwrap();
        assert_eq!((i.guild_id, i.channel_id, i.user_id), (1000, 2000, 10_000));
        assert!(info(&JoinInfo { user_id: "x".into(), ..j }).is_err());
    }
}
