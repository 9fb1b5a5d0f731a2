//! 200 sources created and dropped leave no FFmpeg process and no open file descriptor.
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
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegPcmSource, FfmpegSourceConfig, OpusMode};
use voxwire_sources::{AudioFrame, MediaSource, PcmSource, WavSource};
use voxwire_testkit::{children, open_fds, settles};

#[test]
fn two_hundred_sources_leave_nothing_behind() {
    require_ffmpeg!();
    let dir = TempDir::new("res");
    let wav = dir.join("tone.wav");
    common::sine(&wav, 440, 2.0, 48_000, &[]);
    let opus = dir.join("tone.opus");
    common::sine(&opus, 440, 2.0, 48_000, &["-c:a", "libopus"]);
    let fds_before = open_fds();
    assert_eq!(children(), 0);

    let config = FfmpegSourceConfig::default();
    let mut frame = AudioFrame::new();
    for batch in 0..10 {
        let mut live: Vec<Box<dyn MediaSource>> = Vec::new();
        for i in 0..20 {
            let src: Box<dyn MediaSource> = match i % 4 {
                0 => Box::new(FfmpegPcmSource::new(wav.as_path(), &config).unwrap()),
                1 => Box::new(
                    FfmpegOpusSource::new(opus.as_path(), &config, OpusMode::Copy).unwrap(),
                ),
                2 => Box::new(PcmSource::new(std::fs::File::open(&wav).unwrap())),
                _ => Box::new(WavSource::new(std::fs::File::open(&wav).unwrap()).unwrap()),
            };
            live.push(src);
        }
        // A few are read from (so they are dropped mid-stream), the rest never; every other batch
        // is cleaned up, the rest just dropped.
        for (i, s) in live.iter_mut().enumerate() {
            if i < 4 {
                s.read_audio(&mut frame).unwrap();
            }
            if batch % 2 == 0 {
                s.cleanup().unwrap();
            }
        }
        drop(live);
        assert_eq!(children(), 0, "an FFmpeg child outlived its source (batch {batch})");
    }
    settles("open fds", fds_before, open_fds);
}
