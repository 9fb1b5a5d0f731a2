//! Helpers shared by voxwire's integration tests: `FFmpeg` detection, scratch directories, test
//! tones from `FFmpeg`'s `lavfi` sine source, tone analysis, resource counters, and where the
//! third-party Discord clients of the interop tests live.
//!
//! A dev-dependency only. Helpers that generate media run the `ffmpeg` binary and panic when it
//! fails: they are for tests, where a failure should stop the test with its reason.
//!
//! ```
//! use voxwire_testkit::{goertzel, rms, tone_hz};
//! // One second of a 440 Hz stereo tone at 48 kHz.
//! let tone: Vec<i16> = (0..48_000)
//!     .flat_map(|i| {
//!         let v = (f64::from(i) * 2.0 * std::f64::consts::PI * 440.0 / 48_000.0).sin();
//!         let s = (v * 10_000.0) as i16;
//!         [s, s]
//!     })
//!     .collect();
//! assert!((tone_hz(&tone) - 440.0).abs() < 2.0);
//! assert!((rms(&tone) - 10_000.0 / 2f64.sqrt()).abs() < 10.0);
//! assert!(goertzel(&tone, 440.0) > 100.0 * goertzel(&tone, 1000.0));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![expect(clippy::cast_precision_loss, reason = "sample counts far below 2^52")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The sample rate the helpers assume, Hz.
pub const RATE: f64 = 48_000.0;

/// Whether `ffmpeg` and `ffprobe` run.
#[must_use]
pub fn ffmpeg_available() -> bool {
    ["ffmpeg", "ffprobe"]
        .iter()
        .all(|p| Command::new(p).arg("-version").output().is_ok_and(|o| o.status.success()))
}

/// A scratch directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name holds `tag`, the process id and a counter.
    ///
    /// # Panics
    ///
    /// If the directory cannot be created.
    #[must_use]
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "voxwire-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path in the directory.
    #[must_use]
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `secs` of a `freq` Hz sine (`lavfi`) to `path` at `rate` Hz, stereo, with extra output
/// options (codec, sample format); the container follows the extension.
///
/// # Panics
///
/// If `ffmpeg` does not run or fails.
pub fn sine(path: &Path, freq: u32, secs: f64, rate: u32, extra: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency={freq}:sample_rate={rate}:duration={secs}"))
        .args(["-ac", "2"])
        .args(extra)
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed to generate {}", path.display());
}

/// Frequency of the left channel of interleaved stereo at [`RATE`], from zero crossings.
#[must_use]
pub fn tone_hz(interleaved: &[i16]) -> f64 {
    let left: Vec<i16> = interleaved.iter().step_by(2).copied().collect();
    let crossings = left.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (left.len().max(1) as f64 / RATE)
}

/// Root mean square of the samples (0 for none).
#[must_use]
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Power of `freq` in the left channel of interleaved stereo at [`RATE`] (Goertzel), normalised
/// by length.
#[must_use]
pub fn goertzel(interleaved: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / RATE;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut n = 0usize;
    for &x in interleaved.iter().step_by(2) {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        n += 1;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).sqrt() / n.max(1) as f64
}

/// Live child processes of this process (Linux: from `/proc/*/stat`; 0 elsewhere).
#[must_use]
pub fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc").map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // pid (comm) state ppid ...
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .is_some_and(|p| p == me)
            })
            .count()
    })
}

/// File descriptors this process has open (Linux: `/proc/self/fd`; 0 elsewhere).
#[must_use]
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Waits up to 10 s for `f()` to come down to `want` or below (a killed child's pipes close
/// when its stderr reader sees the end, a moment after the kill).
///
/// # Panics
///
/// With `what` and the count left, if it does not settle in time.
pub fn settles(what: &str, want: usize, f: fn() -> usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = f();
        if n <= want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {n} left, expected at most {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The workspace's `interop/` directory: the npm project of the third-party Discord clients
/// (`@discordjs/voice`) that the interop tests run, installed at test time by `cargo xtask test`.
#[must_use]
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// Whether `@discordjs/voice` is installed in [`interop_dir`]. On CI (`CI` set) its absence
/// is a failure; elsewhere the caller skips, with a printed reason.
///
/// # Panics
///
/// On CI, when the packages are missing.
#[must_use]
pub fn discordjs_available() -> bool {
    let installed = interop_dir().join("node_modules/@discordjs/voice/package.json").is_file();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "interop/node_modules is missing: `cargo xtask test` installs it (npm ci in interop/)"
        );
        eprintln!("skipped: run `cargo xtask interop` to install @discordjs/voice");
    }
    installed
}
