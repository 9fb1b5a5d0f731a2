//! Helpers shared by the integration tests: FFmpeg detection, temp dirs, test media, analysis.
#![allow(dead_code, unreachable_pub, reason = "each test binary uses a subset")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether ffmpeg and ffprobe run.
pub fn ffmpeg_available() -> bool {
    ["ffmpeg", "ffprobe"]
        .iter()
        .all(|p| Command::new(p).arg("-version").output().is_ok_and(|o| o.status.success()))
}

/// Returns early (passing) with a printed reason when FFmpeg is absent.
#[macro_export]
macro_rules! require_ffmpeg {
    () => {
        if !common::ffmpeg_available() {
            eprintln!("skipped: ffmpeg/ffprobe not found on PATH");
            return;
        }
    };
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "voxwire-sources-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `secs` of a `freq` Hz sine (lavfi) to `path`, stereo, with extra output options
/// (codec, rate). The format follows the extension.
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

/// Frequency of the left channel estimated from zero crossings.
pub fn tone_hz(interleaved: &[i16]) -> f64 {
    let left: Vec<i16> = interleaved.iter().step_by(2).copied().collect();
    let crossings = left.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (left.len() as f64 / 48_000.0)
}

/// Root mean square of the samples.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Power of `freq` in the left channel (Goertzel), normalised by length.
pub fn goertzel(interleaved: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 48_000.0;
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
