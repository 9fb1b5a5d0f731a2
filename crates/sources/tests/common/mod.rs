//! Helpers shared by the integration tests: FFmpeg detection, temp dirs, test media, analysis
//! (from voxwire-testkit).
#![allow(dead_code, unreachable_pub, unused_imports, reason = "each test binary uses a subset")]

pub use voxwire_testkit::{TempDir, ffmpeg_available, goertzel, rms, sine, tone_hz};

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
