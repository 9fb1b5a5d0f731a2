//! 200 file and FFmpeg sinks created and dropped leave no FFmpeg process and no open fd.
//!
//! Alone in its test binary so no other test's children or files are counted.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::time::{Duration, Instant};

use common::TempDir;
use voxwire_sinks::{
    FfmpegSink, FfmpegSinkConfig, MixedWavConfig, MixedWavSink, Sink, WavConfig, WavSink,
};

fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc").map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .is_some_and(|p| p == me)
            })
            .count()
    })
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

#[test]
fn two_hundred_sinks_leave_nothing_behind() {
    require_ffmpeg!();
    let dir = TempDir::new("res");
    let fds_before = open_fds();
    let config = FfmpegSinkConfig::default();
    for batch in 0..10 {
        let mut live: Vec<Box<dyn Sink>> = Vec::new();
        for i in 0..20 {
            let path = dir.join(&format!("{batch}-{i}"));
            live.push(match i % 4 {
                0 => Box::new(FfmpegSink::create(path.with_extension("flac"), &config).unwrap()),
                1 | 2 => Box::new(
                    WavSink::create(path.with_extension("wav"), WavConfig::default()).unwrap(),
                ),
                _ => Box::new(
                    MixedWavSink::create(path.with_extension("wav"), MixedWavConfig::default())
                        .unwrap(),
                ),
            });
        }
        if batch % 2 == 0 {
            for s in &mut live {
                s.cleanup().unwrap();
            }
        }
        drop(live);
        assert_eq!(children(), 0, "an FFmpeg child outlived its sink (batch {batch})");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_fds() > fds_before {
        assert!(Instant::now() < deadline, "{} fds left open, {fds_before} before", open_fds());
        std::thread::sleep(Duration::from_millis(20));
    }
}
