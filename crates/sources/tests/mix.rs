//! Mixing real files: two tones from FFmpeg sources both present in the mix; Opus rules.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use common::{TempDir, goertzel};
use voxwire_sources::ffmpeg::{FfmpegPcmSource, FfmpegSourceConfig};
use voxwire_sources::{
    AudioFrame, AudioKind, AudioRead, CompositeSource, Error, FRAME_LEN, MediaSource, MixSource,
    OpusFrames, PcmFrames,
};

#[test]
fn two_ffmpeg_tones_mix_into_one_lane_until_the_longest_ends() {
    require_ffmpeg!();
    let dir = TempDir::new("mix");
    let a = dir.join("a.wav");
    let b = dir.join("b.ogg");
    common::sine(&a, 440, 1.0, 48_000, &[]);
    common::sine(&b, 1500, 0.5, 48_000, &["-c:a", "libvorbis"]);
    let config = FfmpegSourceConfig::default();
    let mut mix = MixSource::new(vec![
        Box::new(FfmpegPcmSource::new(a.as_path(), &config).unwrap()),
        Box::new(FfmpegPcmSource::new(b.as_path(), &config).unwrap()),
    ])
    .unwrap();
    let mut frame = AudioFrame::new();
    let mut pcm = Vec::new();
    while mix.read_audio(&mut frame).unwrap() == AudioRead::Frame {
        pcm.extend_from_slice(frame.pcm());
    }
    assert!(mix.is_finished());
    mix.cleanup().unwrap();
    assert_eq!(pcm.len(), 48_000 * 2, "the mix lasts as long as the longest input");
    let first = &pcm[4800..48_000];
    let second = &pcm[52_800..];
    assert!(
        goertzel(first, 440.0) > 500.0 && goertzel(first, 1500.0) > 500.0,
        "both tones in the first half"
    );
    assert!(
        goertzel(second, 440.0) > 500.0 && goertzel(second, 1500.0) < 50.0,
        "only the long tone after"
    );
}

#[test]
fn opus_is_allowed_only_alone() {
    let opus =
        || Box::new(OpusFrames::new(vec![vec![0xf8u8, 0xff, 0xfe]; 2])) as Box<dyn MediaSource>;
    let pcm = || Box::new(PcmFrames::new(vec![vec![0i16; FRAME_LEN]])) as Box<dyn MediaSource>;
    assert!(matches!(MixSource::new(vec![opus(), pcm()]), Err(Error::OpusInMix { others: 1 })));
    assert!(matches!(MixSource::new(vec![pcm(), opus()]), Err(Error::OpusInMix { others: 1 })));
    let mut alone = MixSource::new(vec![opus()]).unwrap();
    assert_eq!(alone.audio_kind(), Some(AudioKind::Opus));
    let mut frame = AudioFrame::new();
    assert_eq!(alone.read_audio(&mut frame).unwrap(), AudioRead::Frame);
    assert_eq!(frame.opus(), &[0xf8, 0xff, 0xfe]);
}

#[test]
fn composite_takes_audio_from_one_source() {
    let audio = PcmFrames::new(vec![vec![7i16; FRAME_LEN]]);
    let mut c = CompositeSource::new(Some(Box::new(audio)), None);
    assert!(!c.has_video());
    let mut frame = AudioFrame::new();
    assert_eq!(c.read_audio(&mut frame).unwrap(), AudioRead::Frame);
    assert_eq!(frame.pcm()[0], 7);
    assert_eq!(c.read_audio(&mut frame).unwrap(), AudioRead::End);
    assert!(c.is_finished());
}
