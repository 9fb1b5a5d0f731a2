//! `cargo xtask bench clients [--clients 1,10,50,100] [--windows N] [--window-secs S]
//! [--warmup-secs S] [--bitrate KBPS]` (also plain `cargo xtask bench`): runs the
//! `bench-clients` binary of voxwire-benches (N voxwire clients in one process, each in its own
//! DAVE call on a local voxwire server in another process, all playing Opus pass-through) and
//! leaves `report.md` (CPU µs per client per 20 ms tick, KB per client) and `results.json` in
//! `target/bench-clients/`.

use crate::setup;
use crate::util::{Cmd, Fail, root};

pub(crate) fn run(args: &[String]) -> Result<(), Fail> {
    let mut pass: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next().ok_or_else(|| Fail::new(format!("{a} takes a value")))?;
        let ok = match a.as_str() {
            "--clients" => value.split(',').all(|n| n.trim().parse::<u32>().is_ok_and(|n| n > 0)),
            "--windows" | "--bitrate" => value.parse::<u32>().is_ok(),
            "--window-secs" | "--warmup-secs" => value.parse::<f64>().is_ok(),
            other => return Err(Fail::new(format!("unknown option `{other}` for bench clients"))),
        };
        if !ok {
            return Err(Fail::new(format!("{a}: `{value}` is not a valid value")));
        }
        pass.extend([a.clone(), value.clone()]);
    }
    setup::run(setup::Needs::Runtime)?;
    let out = root().join("target/bench-clients");
    Cmd::cargo(&["run", "--release", "-p", "voxwire-benches", "--bin", "bench-clients", "--"])
        .arg("--out")
        .arg(&out)
        .args(&pass)
        .run()
}
