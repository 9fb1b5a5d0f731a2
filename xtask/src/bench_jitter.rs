//! `cargo xtask bench jitter [--seconds N] [--seeds N]`: runs the `quality` example of
//! voxwire-jitter (every netsim impairment profile through the adaptive buffer, a fixed 60 ms
//! buffer and the seed-001 reordering baseline) and leaves `report.md` (the table) and
//! `plot.svg` in `target/bench-jitter/`.

use crate::util::{Cmd, Fail, root};

pub(crate) fn run(args: &[String]) -> Result<(), Fail> {
    let mut pass: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next().ok_or_else(|| Fail::new(format!("{a} takes a value")))?;
        if value.parse::<u64>().is_err() {
            return Err(Fail::new(format!("{a} takes a whole number")));
        }
        match a.as_str() {
            "--seconds" | "--seeds" => pass.extend([a.clone(), value.clone()]),
            other => return Err(Fail::new(format!("unknown option `{other}` for bench jitter"))),
        }
    }
    let out = root().join("target/bench-jitter");
    Cmd::cargo(&["run", "--release", "-p", "voxwire-jitter", "--example", "quality", "--", "--out"])
        .arg(&out)
        .args(&pass)
        .run()
}
