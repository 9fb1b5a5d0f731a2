//! Per-user recordings from Opus packets: WAV and MP3 files, one per user, SSRC promotion.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::{TempDir, packet, tick, tone_hz};
use voxwire_sinks::{
    CodecSet, DecodeConfig, DecodeSink, Error, FfmpegSink, FfmpegSinkConfig, PerUserSink, Sink,
    StreamKey, UserId, WavConfig, WavSink,
};
use voxwire_sources::MediaSource;

fn name(key: StreamKey, ext: &str) -> String {
    match key {
        StreamKey::User(u) => format!("user-{u}.{ext}"),
        StreamKey::Ssrc(s) => format!("ssrc-{s}.{ext}"),
    }
}

/// User 1 (440 Hz, SSRC 100) is mapped only from its 10th packet on; user 2 (880 Hz) from the start.
fn feed(root: &mut dyn Sink, a: &[bytes::Bytes], b: &[bytes::Bytes]) {
    let t0 = Instant::now();
    for i in 0..a.len().max(b.len()) {
        if let Some(p) = a.get(i) {
            let mut pk =
                packet(100, 1000 + i as u16, 5_000 + 960 * i as u32, tick(t0, i), p.clone());
            if i >= 10 {
                pk = pk.with_user(UserId(1));
            }
            root.write(&pk).unwrap();
        }
        if let Some(p) = b.get(i) {
            let pk =
                packet(200, i as u16, 960 * i as u32, tick(t0, i), p.clone()).with_user(UserId(2));
            root.write(&pk).unwrap();
        }
    }
}

#[test]
fn one_wav_per_user_with_promotion_from_ssrc() {
    require_ffmpeg!();
    let dir = TempDir::new("wav");
    let a = common::opus_tone(&dir, 440, 1.0);
    let b = common::opus_tone(&dir, 880, 1.0);
    let out: PathBuf = dir.path().to_path_buf();
    let per_user = PerUserSink::new(CodecSet::PCM, move |key| {
        Ok(Box::new(WavSink::create(out.join(name(key, "wav")), WavConfig::default())?)
            as Box<dyn Sink>)
    });
    let mut root = DecodeSink::new(per_user, DecodeConfig::default());
    feed(&mut root, &a, &b);
    let mut keys = Vec::new();
    voxwire_sinks::walk(&root, &mut |s, depth| keys.push((s.name(), depth)));
    assert_eq!(
        keys,
        [("opus-decode", 0), ("per-user", 1), ("wav", 2), ("wav", 2)],
        "two children only"
    );
    root.cleanup().unwrap();
    assert!(root.is_closed());

    // User 1's child was created for its SSRC (named then) and promoted: one file for the whole
    // recording, no second file for the user.
    assert!(!dir.join("user-1.wav").exists(), "the SSRC child was promoted, not duplicated");
    for (file, hz, packets) in [("ssrc-100.wav", 440.0, a.len()), ("user-2.wav", 880.0, b.len())] {
        let user = file;
        let path = dir.join(file);
        let (secs, rate, channels, codec) = common::probe(&path);
        assert_eq!((rate, channels, codec.as_str()), (48_000, 2, "pcm_s16le"));
        assert!((secs - packets as f64 * 0.02).abs() < 0.001, "user {user}: {secs} s");
        let pcm = common::read_wav(&path);
        assert_eq!(pcm.len(), packets * 1920, "one decoded frame per packet, nothing truncated");
        let measured = tone_hz(&pcm[4800..pcm.len() - 4800]);
        assert!((measured - hz).abs() < 4.0, "user {user}: {measured} Hz");
    }
}

#[test]
fn one_mp3_per_user_through_ffmpeg() {
    require_ffmpeg!();
    let dir = TempDir::new("mp3");
    let a = common::opus_tone(&dir, 440, 1.0);
    let b = common::opus_tone(&dir, 880, 1.0);
    let out = dir.path().to_path_buf();
    let config = FfmpegSinkConfig::default().output_options(["-c:a", "libmp3lame", "-b:a", "96k"]);
    let per_user = PerUserSink::new(CodecSet::PCM, move |key| {
        Ok(Box::new(FfmpegSink::create(out.join(name(key, "mp3")), &config)?) as Box<dyn Sink>)
    });
    let mut root = DecodeSink::new(per_user, DecodeConfig::default());
    feed(&mut root, &a, &b);
    root.cleanup().unwrap();
    for (user, hz) in [("ssrc-100", 440.0), ("user-2", 880.0)] {
        let path = dir.join(&format!("{user}.mp3"));
        let (secs, rate, channels, codec) = common::probe(&path);
        assert_eq!((rate, channels, codec.as_str()), (48_000, 2, "mp3"));
        assert!((secs - 1.0).abs() < 0.1, "user {user}: {secs} s");
        let mut src = voxwire_sources::ffmpeg::FfmpegPcmSource::new(
            path.as_path(),
            &voxwire_sources::ffmpeg::FfmpegSourceConfig::default(),
        )
        .unwrap();
        let mut frame = voxwire_sources::AudioFrame::new();
        let mut pcm = Vec::new();
        while src.read_audio(&mut frame).unwrap() == voxwire_sources::AudioRead::Frame {
            pcm.extend_from_slice(frame.pcm());
        }
        let measured = tone_hz(&pcm[9600..pcm.len() - 9600]);
        assert!((measured - hz).abs() < 4.0, "user {user}: {measured} Hz");
    }
}

#[test]
fn ffmpeg_failure_and_absence_are_errors() {
    require_ffmpeg!();
    let dir = TempDir::new("bad");
    let config = FfmpegSinkConfig::default().output_options(["-c:a", "no-such-encoder"]);
    let mut sink = FfmpegSink::create(dir.join("x.mp3"), &config).unwrap();
    // The write may or may not see the broken pipe first; cleanup must report the failure.
    let pk = voxwire_sinks::MediaPacket::pcm(
        voxwire_rtp::Ssrc(1),
        voxwire_rtp::SeqNo(0),
        voxwire_rtp::RtpTimestamp(0),
        Instant::now(),
        common::pcm_frame(0),
    );
    let write = sink.write(&pk);
    let cleanup = sink.cleanup();
    assert!(
        matches!(write, Err(Error::Ffmpeg(_)))
            || matches!(cleanup, Err(Error::Ffmpeg(voxwire_ffmpeg::Error::Exited { .. }))),
        "write {write:?}, cleanup {cleanup:?}"
    );

    let tools = voxwire_ffmpeg::ToolsConfig::new().ffmpeg("/nonexistent/voxwire/ffmpeg");
    let err = FfmpegSink::create(dir.join("y.mp3"), &FfmpegSinkConfig::default().tools(tools))
        .unwrap_err();
    assert!(matches!(err, Error::Ffmpeg(voxwire_ffmpeg::Error::NotFound { .. })), "{err:?}");
}
