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

use common::TempDir;
use voxwire_sinks::{
    FfmpegSink, FfmpegSinkConfig, MixedWavConfig, MixedWavSink, Sink, WavConfig, WavSink,
};
use voxwire_testkit::{children, open_fds, settles};

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
    settles("open fds", fds_before, open_fds);
}
