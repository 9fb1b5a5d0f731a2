//! The playout-quality report: every impairment profile through the adaptive buffer, a fixed
//! 60 ms buffer and the seed-001 reordering baseline, over several seeds.
//!
//! `cargo run --release -p voxwire-jitter --example quality -- [--out DIR] [--seconds N] [--seeds N]`
//! prints the table and, with `--out`, writes `DIR/report.md` and `DIR/plot.svg`
//! (`cargo xtask bench jitter` does this into `target/bench-jitter/`).
#![expect(clippy::cast_precision_loss, reason = "report arithmetic")]

#[path = "../tests/support/quality.rs"]
mod quality;

use std::fmt::Write as _;
use std::path::PathBuf;

use quality::{Policy, Profile, Quality};

struct Row {
    profile: &'static str,
    policy: Policy,
    late: f64,
    delay: f64,
    latency: f64,
    concealed: f64,
}

fn main() {
    let mut out: Option<PathBuf> = None;
    let (mut seconds, mut seeds) = (120u32, 5u64);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{a} takes a value"));
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(v)),
            "--seconds" => seconds = v.parse().expect("--seconds takes a whole number"),
            "--seeds" => seeds = v.parse().expect("--seeds takes a whole number"),
            other => panic!("unknown option {other}"),
        }
    }
    let profiles = quality::profiles();
    let mut rows = Vec::new();
    for p in &profiles {
        for policy in Policy::ALL {
            let runs: Vec<Quality> =
                (0..seeds).map(|s| quality::run(p, policy, s, seconds)).collect();
            let n = runs.len() as f64;
            rows.push(Row {
                profile: p.name,
                policy,
                late: runs.iter().map(Quality::late_rate).sum::<f64>() / n,
                delay: runs.iter().map(Quality::mean_added_delay_ms).sum::<f64>() / n,
                latency: runs.iter().map(Quality::mean_latency_ms).sum::<f64>() / n,
                concealed: runs
                    .iter()
                    .map(|q| q.concealed as f64 / (seconds as f64 * 50.0))
                    .sum::<f64>()
                    / n,
            });
        }
    }
    let table = table(&profiles, &rows, seconds, seeds);
    print!("{table}");
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).expect("create the output directory");
        std::fs::write(dir.join("report.md"), &table).expect("write report.md");
        let jit = profiles.iter().find(|p| p.name == "jitter-120").expect("profile exists");
        let adaptive = quality::run(jit, Policy::Adaptive, 1, 60);
        let fixed = quality::run(jit, Policy::Fixed60, 1, 60);
        std::fs::write(dir.join("plot.svg"), svg(&rows, &adaptive, &fixed))
            .expect("write plot.svg");
        println!(
            "\nwrote {} and {}",
            dir.join("report.md").display(),
            dir.join("plot.svg").display()
        );
    }
}

fn table(profiles: &[Profile], rows: &[Row], seconds: u32, seeds: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# voxwire-jitter playout quality\n");
    let _ = writeln!(
        s,
        "{seconds} s of 20 ms audio per run, {seeds} seeds per cell (netsim, seeded). late = packets that \
         missed their playout deadline (dropped as late, or played after it because playout stalled) over \
         packets received; added delay = playout time - arrival time; latency = playout time - send time - \
         the path's base delay (what a listener hears beyond the network minimum); concealed = frames \
         reported lost (network loss plus late) per frame sent. seed-001 has no playout clock: its delay \
         is only the reordering wait, and network jitter passes to its output unabsorbed.\n"
    );
    let _ =
        writeln!(s, "| profile | policy | late % | added delay ms | latency ms | concealed % |");
    let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | ---: |");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {:.1} | {:.1} | {:.2} |",
            r.profile,
            r.policy.name(),
            r.late * 100.0,
            r.delay,
            r.latency,
            r.concealed * 100.0
        );
    }
    let _ = writeln!(s, "\nProfiles:\n");
    for p in profiles {
        let _ = writeln!(s, "- **{}**: {}", p.name, p.description);
    }
    s
}

const COLORS: [&str; 3] = ["#1f77b4", "#ff7f0e", "#7f7f7f"];

/// Two panels: late % per profile and policy (bars, with the added delay written on each), and
/// 60 s of the jitter-120 profile: network delay above base and the playout delay of both
/// buffers.
fn svg(rows: &[Row], adaptive: &Quality, fixed: &Quality) -> String {
    let (w, h) = (960.0, 720.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    // Panel 1: bars.
    let (x0, y0, pw, ph) = (70.0, 40.0, 860.0, 250.0);
    let _ = writeln!(
        s,
        r#"<text x="{x0}" y="24" font-size="15">Late packets (%) per profile; label: mean added delay (ms)</text>"#
    );
    let max_late = rows.iter().map(|r| r.late * 100.0).fold(1.0f64, f64::max).ceil();
    let profiles: Vec<&str> = rows.iter().map(|r| r.profile).fold(Vec::new(), |mut v, p| {
        if !v.contains(&p) {
            v.push(p);
        }
        v
    });
    let group = pw / profiles.len() as f64;
    let bar = group / 4.0;
    axis(&mut s, x0, y0, pw, ph, max_late, "%");
    for r in rows {
        let gi = profiles.iter().position(|p| *p == r.profile).unwrap_or(0) as f64;
        let pi = Policy::ALL.iter().position(|p| *p == r.policy).unwrap_or(0);
        let bh = ph * (r.late * 100.0 / max_late).min(1.0);
        let x = x0 + gi * group + bar * 0.5 + pi as f64 * bar;
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"/>"#,
            y0 + ph - bh,
            bar * 0.9,
            COLORS[pi]
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{:.0}</text>"#,
            x + bar * 0.45,
            y0 + ph - bh - 3.0,
            r.delay
        );
    }
    for (i, p) in profiles.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{p}</text>"#,
            x0 + (i as f64 + 0.5) * group,
            y0 + ph + 16.0
        );
    }
    legend(&mut s, x0 + pw - 330.0, y0 + 10.0, &["adaptive", "fixed 60 ms", "seed-001"]);

    // Panel 2: trajectory.
    let (x0, y0, pw, ph) = (70.0, 380.0, 860.0, 280.0);
    let _ = writeln!(
        s,
        r#"<text x="{x0}" y="{}" font-size="15">jitter-120, seed 1, first 60 s: network delay above base (dots) and playout delay (lines), ms</text>"#,
        y0 - 16.0
    );
    let base = 30.0;
    let max_ms = adaptive
        .network
        .iter()
        .map(|p| p.1 - base)
        .chain(adaptive.trajectory.iter().map(|p| p.1))
        .fold(100.0f64, f64::max)
        .min(600.0)
        .ceil();
    axis(&mut s, x0, y0, pw, ph, max_ms, "ms");
    let tx = |t: f64| x0 + pw * (t / 60.0).min(1.0);
    let ty = |v: f64| y0 + ph - ph * (v / max_ms).clamp(0.0, 1.0);
    for (t, d) in adaptive.network.iter().step_by(2) {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="1.2" fill="#bbbbbb"/>"##,
            tx(*t),
            ty(d - base)
        );
    }
    for (q, color) in [(adaptive, COLORS[0]), (fixed, COLORS[1])] {
        let pts = q.trajectory.iter().fold(String::new(), |mut acc, (t, d)| {
            let _ = write!(acc, "{:.1},{:.1} ", tx(*t), ty(*d));
            acc
        });
        let _ = writeln!(
            s,
            r#"<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
        );
    }
    for t in (0..=60).step_by(10) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{t} s</text>"#,
            tx(f64::from(t)),
            y0 + ph + 16.0
        );
    }
    legend(&mut s, x0 + 10.0, y0 + 10.0, &["adaptive", "fixed 60 ms"]);
    let _ = writeln!(s, "</svg>");
    s
}

fn axis(s: &mut String, x0: f64, y0: f64, pw: f64, ph: f64, max: f64, unit: &str) {
    let _ = writeln!(s, r#"<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{}" stroke="black"/>"#, y0 + ph);
    let _ = writeln!(
        s,
        r#"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        y0 + ph,
        x0 + pw,
        y0 + ph
    );
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let y = y0 + ph - ph * f64::from(k) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eeeeee"/>"##,
            x0 + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{v:.0} {unit}</text>"#,
            x0 - 6.0,
            y + 4.0
        );
    }
}

fn legend(s: &mut String, x: f64, y: f64, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        let xi = x + i as f64 * 110.0;
        let _ =
            writeln!(s, r#"<rect x="{xi}" y="{y}" width="12" height="12" fill="{}"/>"#, COLORS[i]);
        let _ = writeln!(s, r#"<text x="{}" y="{}">{n}</text>"#, xi + 16.0, y + 10.0);
    }
}
