//! FFmpeg Opus source: probing copies Opus input and encodes the rest; packets decode to the tone.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use audiopus::coder::Decoder;
use audiopus::{Channels, MutSignals, SampleRate, packet::Packet};
use common::{TempDir, tone_hz};
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegSourceConfig, OpusMode};
use voxwire_sources::{AudioFrame, AudioKind, AudioRead, MediaSource};

/// Reads every packet and decodes it; returns (packets, pcm).
fn decode_all(src: &mut FfmpegOpusSource) -> (Vec<Vec<u8>>, Vec<i16>) {
    let mut dec = Decoder::new(SampleRate::Hz48000, Channels::Stereo).unwrap();
    let mut frame = AudioFrame::new();
    let mut packets = Vec::new();
    let mut pcm = Vec::new();
    let mut out = vec![0i16; 5760 * 2];
    while src.read_audio(&mut frame).unwrap() == AudioRead::Frame {
        assert_eq!(frame.kind(), AudioKind::Opus);
        packets.push(frame.opus().to_vec());
        let p = Packet::try_from(frame.opus()).unwrap();
        let n = dec.decode(Some(p), MutSignals::try_from(&mut out[..]).unwrap(), false).unwrap();
        assert_eq!(n, 960, "every packet is 20 ms");
        pcm.extend_from_slice(&out[..n * 2]);
    }
    (packets, pcm)
}

#[test]
fn from_probe_copies_opus_input_without_reencoding() {
    require_ffmpeg!();
    let dir = TempDir::new("copy");
    let path = dir.join("tone.opus");
    common::sine(
        &path,
        440,
        1.0,
        48_000,
        &["-c:a", "libopus", "-b:a", "96k", "-frame_duration", "20"],
    );
    let mut src =
        FfmpegOpusSource::from_probe(path.as_path(), &FfmpegSourceConfig::default()).unwrap();
    assert_eq!(src.mode(), OpusMode::Copy);
    let (packets, pcm) = decode_all(&mut src);
    src.cleanup().unwrap();
    assert!((49..=52).contains(&packets.len()), "{} packets", packets.len());
    let hz = tone_hz(&pcm[9600..pcm.len() - 4800]);
    assert!((hz - 440.0).abs() < 3.0, "tone {hz} Hz");

    // The copied packets are byte-identical to what an independent demux of the file yields.
    let mut demux = voxwire_ffmpeg::OggOpusDemuxer::new();
    demux.push(&std::fs::read(&path).unwrap());
    let mut original = Vec::new();
    while let Some(p) = demux.poll_packet().unwrap() {
        original.push(p.data.to_vec());
    }
    assert_eq!(packets, original);
}

#[test]
fn from_probe_encodes_other_codecs() {
    require_ffmpeg!();
    let dir = TempDir::new("encode");
    let path = dir.join("tone.flac");
    common::sine(&path, 880, 1.0, 44_100, &[]);
    let mut src =
        FfmpegOpusSource::from_probe(path.as_path(), &FfmpegSourceConfig::default()).unwrap();
    assert_eq!(src.mode(), OpusMode::Encode);
    let (packets, pcm) = decode_all(&mut src);
    assert!((50..=53).contains(&packets.len()), "{} packets", packets.len());
    let hz = tone_hz(&pcm[9600..pcm.len() - 4800]);
    assert!((hz - 880.0).abs() < 4.0, "tone {hz} Hz");
}

#[test]
fn copy_of_60ms_frames_falls_back_to_encoding() {
    require_ffmpeg!();
    let dir = TempDir::new("fallback");
    let path = dir.join("tone60.opus");
    common::sine(&path, 440, 1.0, 48_000, &["-c:a", "libopus", "-frame_duration", "60"]);
    let mut src =
        FfmpegOpusSource::from_probe(path.as_path(), &FfmpegSourceConfig::default()).unwrap();
    let (packets, _) = decode_all(&mut src);
    assert_eq!(src.mode(), OpusMode::Encode);
    assert!(packets.len() >= 50);
}
