//! `cargo xtask bench ffmpeg-pool [--seconds N] [--players N] [--per-core N] [--hard-cap N]
//! [--segment S] [--read-ahead S] [--batch N] [--complexity 0-10] [--only distinct|shared]
//! [--ffmpeg PATH]`: runs the `bench_pool` example of voxwire-ffmpeg (100 players of distinct
//! generated 3-minute MP3s, then 100 players of one shared MP3, each scenario in a fresh
//! process, each player read in real time) and leaves `report.md` (peak PSS, RSS sum and USS of the process plus its `ffmpeg` children; late
//! packets; CPU) and `plot.svg` (`ffmpeg` processes, memory and starving players over time) in
//! `target/bench-ffmpeg-pool/`.

use crate::setup;
use crate::util::{Cmd, Fail, root};

pub(crate) fn run(args: &[String]) -> Result<(), Fail> {
    let mut seconds = "30".to_owned();
    let mut rest: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next().ok_or_else(|| Fail::new(format!("{a} takes a value")))?;
        let numeric = !matches!(a.as_str(), "--only" | "--ffmpeg");
        if numeric && value.parse::<u64>().is_err() {
            return Err(Fail::new(format!("{a} takes a whole number")));
        }
        match a.as_str() {
            "--seconds" => seconds.clone_from(value),
            "--players" | "--per-core" | "--hard-cap" | "--segment" | "--read-ahead"
            | "--batch" | "--complexity" | "--only" | "--ffmpeg" => {
                rest.extend([a.clone(), value.clone()]);
            }
            other => {
                return Err(Fail::new(format!("unknown option `{other}` for bench ffmpeg-pool")));
            }
        }
    }
    setup::run(setup::Needs::Runtime)?;
    let out = root().join("target/bench-ffmpeg-pool");
    Cmd::cargo(&["run", "--release", "-p", "voxwire-ffmpeg", "--example", "bench_pool", "--"])
        .args(["--seconds", seconds.as_str(), "--out"])
        .arg(&out)
        .args(&rest)
        .run()
}
