//! `cargo xtask bench ffmpeg-pool [--seconds N] [--players N] [--per-core N] [--hard-cap N]
//! [--segment S] [--read-ahead S] [--batch N] [--complexity 0-10] [--only distinct|shared]
//! [--ffmpeg both|system|minimal|PATH]`: runs the `bench_pool` example of voxwire-ffmpeg (100
//! players of distinct generated 3-minute MP3s, then 100 players of one shared MP3, each scenario
//! in a fresh process, each player read in real time) and leaves `report.md` (peak PSS, RSS sum
//! and USS of the process plus its `ffmpeg` children; late packets; CPU) and `plot.svg`
//! (`ffmpeg` processes, memory and starving players over time) in `target/bench-ffmpeg-pool/`.
//!
//! By default it runs twice, with the system's `FFmpeg` and with the minimal static build of
//! `cargo xtask ffmpeg-minimal` (built first if needed), into `system/` and `minimal/`, and
//! `report.md` holds both reports.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{Cmd, Fail, root};
use crate::{ffmpeg_minimal, setup};

pub(crate) fn run(args: &[String]) -> Result<(), Fail> {
    let mut seconds = "30".to_owned();
    let mut which = "both".to_owned();
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
            "--ffmpeg" => which.clone_from(value),
            "--players" | "--per-core" | "--hard-cap" | "--segment" | "--read-ahead"
            | "--batch" | "--complexity" | "--only" => {
                rest.extend([a.clone(), value.clone()]);
            }
            other => {
                return Err(Fail::new(format!("unknown option `{other}` for bench ffmpeg-pool")));
            }
        }
    }
    setup::run(setup::Needs::Runtime)?;
    let out = root().join("target/bench-ffmpeg-pool");
    let runs: Vec<(&str, Option<PathBuf>)> = match which.as_str() {
        "system" => vec![("system", None)],
        "minimal" => vec![("minimal", Some(ffmpeg_minimal::ensure()?))],
        "both" => vec![("system", None), ("minimal", Some(ffmpeg_minimal::ensure()?))],
        path => vec![("given", Some(PathBuf::from(path)))],
    };
    let mut reports = Vec::new();
    for (label, ffmpeg) in &runs {
        let dir = out.join(label);
        let mut cmd = Cmd::cargo(&[
            "run",
            "--release",
            "-p",
            "voxwire-ffmpeg",
            "--example",
            "bench_pool",
            "--",
        ])
        .args(["--seconds", seconds.as_str(), "--out"])
        .arg(&dir)
        .args(&rest);
        if let Some(p) = ffmpeg {
            cmd = cmd.arg("--ffmpeg").arg(p);
        }
        cmd.run()?;
        reports.push((*label, dir));
    }
    let combined = combine(&reports)?;
    fs::write(out.join("report.md"), &combined)
        .map_err(|e| Fail::new(format!("writing the report: {e}")))?;
    println!("{combined}\nwritten to {}", out.join("report.md").display());
    Ok(())
}

/// One report with a section per run, each run's own headings one level down.
fn combine(reports: &[(&str, PathBuf)]) -> Result<String, Fail> {
    let mut s = String::from("# ffmpeg-pool bench\n");
    for (label, dir) in reports {
        let path = dir.join("report.md");
        let text =
            fs::read_to_string(&path).map_err(|e| Fail::new(format!("{}: {e}", path.display())))?;
        let _ =
            write!(s, "\n## FFmpeg: {}\n\nPlot: `{}`.\n", title(label), rel(&dir.join("plot.svg")));
        s.push_str(&demote(&text));
    }
    Ok(s)
}

fn title(label: &str) -> &str {
    match label {
        "system" => "the system's",
        "minimal" => "the minimal static build (`cargo xtask ffmpeg-minimal`)",
        _ => "the one given",
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// Drops the report's `# ` title and moves every other heading one level down.
fn demote(report: &str) -> String {
    let mut out = String::new();
    for line in report.lines() {
        if line.starts_with("# ") {
            continue;
        }
        if line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::demote;

    #[test]
    fn reports_nest_under_their_run() {
        let r = "# ffmpeg-pool bench\n\ntext\n\n## Memory\n\n| a |\n";
        assert_eq!(demote(r), "\ntext\n\n### Memory\n\n| a |\n");
    }
}
