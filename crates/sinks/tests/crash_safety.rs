//! A recording is readable even if the process dies mid-way (the header is patched every second),
//! and complete after cleanup.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::time::Instant;

use common::{TempDir, pcm_frame};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::{MediaPacket, MixedWavConfig, MixedWavSink, Sink, WavConfig, WavSink};

fn frame(i: u32) -> MediaPacket {
    MediaPacket::pcm(
        Ssrc(1),
        SeqNo(i as u16),
        RtpTimestamp(960 * i),
        Instant::now(),
        pcm_frame(1000),
    )
}

#[test]
fn a_wav_abandoned_mid_recording_is_readable_up_to_the_last_patch() {
    let dir = TempDir::new("crash");
    let path = dir.join("crash.wav");
    let mut sink = WavSink::create(&path, WavConfig::default()).unwrap();
    for i in 0..125 {
        sink.write(&frame(i)).unwrap(); // 2.5 s
    }
    // Simulate a crash: no cleanup, no destructor.
    std::mem::forget(sink);
    let bytes = std::fs::read(&path).unwrap();
    let header = voxwire_sources::wav::WavHeader::parse(&bytes).unwrap();
    assert!(header.is_voice_pcm());
    assert_eq!(header.data_len, Some(2 * 48_000 * 4), "patched at 2 s");
    assert!(bytes.len() >= 44 + 2 * 48_000 * 4);
    if common::ffmpeg_available() {
        let (secs, rate, channels, _) = common::probe(&path);
        assert_eq!((rate, channels), (48_000, 2));
        assert!(secs >= 2.0, "{secs}");
    }
}

#[test]
fn cleanup_finalizes_exact_lengths() {
    let dir = TempDir::new("final");
    let wav = dir.join("one.wav");
    let mixed = dir.join("mixed.wav");
    let mut a = WavSink::create(&wav, WavConfig::default()).unwrap();
    let mut m = MixedWavSink::create(&mixed, MixedWavConfig::default()).unwrap();
    for i in 0..77 {
        a.write(&frame(i)).unwrap();
        m.write(&frame(i)).unwrap();
    }
    a.cleanup().unwrap();
    m.cleanup().unwrap();
    for path in [&wav, &mixed] {
        let bytes = std::fs::read(path).unwrap();
        let h = voxwire_sources::wav::WavHeader::parse(&bytes).unwrap();
        assert_eq!(h.data_len, Some(77 * 3840), "{}", path.display());
        assert_eq!(bytes.len(), 44 + 77 * 3840);
    }
}
