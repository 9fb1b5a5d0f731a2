//! `cargo xtask <task>`: the project's tasks. Run `cargo xtask help` for the list.
#![forbid(unsafe_code)]

mod bench_clients;
mod bench_ffmpeg;
mod bench_jitter;
mod ffmpeg_minimal;
mod setup;
mod util;

use std::process::ExitCode;

use util::{Cmd, Fail, root};

const HELP: &str = "\
cargo xtask <task> [args]

  setup                      check for and install what the workspace needs (ffmpeg, libopus, ...)
  demo [ARGS]                setup, then run the demo against the embedded local server
  test                       setup, then the whole test suite (what .ci/run runs)
  interop                    install the third-party Discord clients (npm) and run the interop tests
  ci                         everything CI checks: fmt, clippy, tests, docs, fuzz replay, benches build,
                             io-free check, cargo-deny (when installed), short fuzz runs (when possible)
  fuzz TARGET [--seconds N]  run one fuzz target under cargo-fuzz (needs a nightly toolchain)
  fuzz-list                  list the fuzz targets
  ffmpeg-minimal             build a small static FFmpeg for voxwire-ffmpeg into target/ffmpeg-minimal
  bench [NAME]               benchmarks; NAME is one of: clients (the default) [--clients 1,10,50,100]
                             [--windows N] [--window-secs S] (CPU and memory per playing client),
                             criterion (all criterion benches)
                             ffmpeg-pool [--seconds N] (100 real-time players: memory, FFmpeg processes)
                             jitter [--seconds N] [--seeds N] (playout quality per impairment profile)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match task {
        "setup" => setup::run(setup::Needs::All),
        "demo" => demo(rest),
        "test" => test(),
        "interop" => interop(),
        "ci" => ci(),
        "fuzz" => fuzz(rest),
        "fuzz-list" => fuzz_list(),
        "bench" => bench(rest),
        "ffmpeg-minimal" => ffmpeg_minimal::run(),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(Fail::new(format!("unknown task `{other}`\n\n{HELP}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo(args: &[String]) -> Result<(), Fail> {
    setup::run(setup::Needs::Runtime)?;
    Cmd::cargo(&["run", "-p", "voxwire-cli", "--bin", "voxwire", "--", "demo"]).args(args).run()
}

/// The test command of the README and of `.ci/run`.
fn test() -> Result<(), Fail> {
    setup::run(setup::Needs::All)?;
    install_interop_peers()?;
    run_tests()
}

/// Installs the third-party clients of `interop/` from npm (never vendored), when the lock file
/// changed or they are missing.
fn install_interop_peers() -> Result<(), Fail> {
    let dir = root().join("interop");
    let marker = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let fresh = match (
        std::fs::metadata(&marker).and_then(|m| m.modified()),
        std::fs::metadata(&lock).and_then(|m| m.modified()),
    ) {
        (Ok(installed), Ok(locked)) => installed >= locked,
        _ => false,
    };
    if fresh && dir.join("node_modules/@discordjs/voice/package.json").is_file() {
        return Ok(());
    }
    Cmd::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix"]).arg(&dir).run()
}

/// Interop with real third-party Discord voice clients.
fn interop() -> Result<(), Fail> {
    setup::run(setup::Needs::All)?;
    install_interop_peers()?;
    Cmd::cargo(&["test", "-p", "voxwire-server", "--test", "interop_discordjs"]).run()
}

fn run_tests() -> Result<(), Fail> {
    // voxwire-ffmpeg's tests run the pool with the minimal build too.
    let minimal = ffmpeg_minimal::ensure()?;
    let minimal = minimal.to_string_lossy();
    let var = "VOXWIRE_TEST_FFMPEG_MINIMAL";
    if util::have("cargo-nextest") {
        let profile = if std::env::var_os("CI").is_some() { "ci" } else { "default" };
        Cmd::cargo(&["nextest", "run", "--workspace", "--profile", profile])
            .env(var, &minimal)
            .run()?;
    } else {
        println!("xtask: cargo-nextest not found, using cargo test");
        Cmd::cargo(&["test", "--workspace", "--lib", "--bins", "--tests"])
            .env(var, &minimal)
            .run()?;
    }
    // nextest does not run doctests.
    Cmd::cargo(&["test", "--workspace", "--doc"]).run()
}

/// The crates that must not depend on an async runtime or sockets.
const SANS_IO: &[&str] = &[
    "voxwire-rtp",
    "voxwire-rtcp",
    "voxwire-video",
    "voxwire-crypto",
    "voxwire-jitter",
    "voxwire-netsim",
    "voxwire-gateway",
];

fn ci() -> Result<(), Fail> {
    setup::run(setup::Needs::All)?;
    Cmd::cargo(&["fmt", "--all", "--", "--check"]).run()?;
    Cmd::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]).run()?;
    run_tests()?;
    Cmd::cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings").run()?;
    Cmd::cargo(&["test", "--workspace", "--benches"]).run()?;
    io_free_check()?;
    if util::have("cargo-deny") {
        Cmd::cargo(&["deny", "check"]).run()?;
    } else {
        println!("xtask: cargo-deny not installed, skipping `cargo deny check`");
    }
    if fuzz_possible() {
        for t in fuzz_targets()? {
            fuzz(&[t, "--seconds".into(), "10".into()])?;
        }
    } else {
        println!(
            "xtask: cargo-fuzz or a nightly toolchain is missing, so only the corpus replay ran \
             (install with `cargo install cargo-fuzz` and `rustup toolchain install nightly`)"
        );
    }
    println!("xtask: ci passed");
    Ok(())
}

/// `cargo tree -e normal` of every sans-IO crate must not contain tokio, mio or socket2.
fn io_free_check() -> Result<(), Fail> {
    for krate in SANS_IO {
        let tree =
            Cmd::cargo(&["tree", "-e", "normal", "--prefix", "none", "-p", krate]).output()?;
        for banned in ["tokio ", "mio ", "socket2 "] {
            if tree.lines().any(|l| l.starts_with(banned)) {
                return Err(Fail::new(format!(
                    "{krate} is sans-IO but its dependency tree contains `{}`",
                    banned.trim()
                )));
            }
        }
    }
    println!("xtask: sans-IO crates are free of tokio, mio and socket2");
    Ok(())
}

fn fuzz_possible() -> bool {
    util::have("cargo-fuzz")
        && Cmd::new("rustup").args(["run", "nightly", "rustc", "--version"]).quiet().run().is_ok()
}

fn fuzz_targets() -> Result<Vec<String>, Fail> {
    let dir = root().join("fuzz/src/bin");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| Fail::new(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

fn fuzz_list() -> Result<(), Fail> {
    for t in fuzz_targets()? {
        println!("{t}");
    }
    Ok(())
}

fn fuzz(args: &[String]) -> Result<(), Fail> {
    let mut target = None;
    let mut seconds = 60u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds = it
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Fail::new("--seconds takes a whole number"))?;
        } else {
            target = Some(a.clone());
        }
    }
    let target = target.ok_or_else(|| Fail::new("usage: cargo xtask fuzz TARGET [--seconds N]"))?;
    if !fuzz_targets()?.contains(&target) {
        return Err(Fail::new(format!("no fuzz target `{target}` (see `cargo xtask fuzz-list`)")));
    }
    if !util::have("cargo-fuzz") {
        println!("xtask: installing cargo-fuzz");
        Cmd::cargo(&["install", "--locked", "cargo-fuzz"]).run()?;
    }
    let corpus = root().join("fuzz/corpus").join(&target);
    // Run on a scratch copy of the corpus so that new inputs do not dirty the repository.
    let scratch = root().join("target/fuzz-corpus").join(&target);
    let _ = std::fs::create_dir_all(&scratch);
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        for e in entries.filter_map(Result::ok) {
            let _ = std::fs::copy(e.path(), scratch.join(e.file_name()));
        }
    }
    Cmd::new("cargo")
        .args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", &target])
        .arg(scratch.to_string_lossy().as_ref())
        .args(["--", &format!("-max_total_time={seconds}"), "-rss_limit_mb=2048"])
        .run()
}

fn bench(args: &[String]) -> Result<(), Fail> {
    let name = args.first().map_or("clients", String::as_str);
    match name {
        "clients" => bench_clients::run(args.get(1..).unwrap_or_default()),
        "criterion" => {
            setup::run(setup::Needs::All)?;
            Cmd::cargo(&["bench", "--workspace"]).args(&args[1..]).run()
        }
        "ffmpeg-pool" => bench_ffmpeg::run(&args[1..]),
        "jitter" => bench_jitter::run(&args[1..]),
        other => Err(Fail::new(format!("unknown bench `{other}`\n\n{HELP}"))),
    }
}
