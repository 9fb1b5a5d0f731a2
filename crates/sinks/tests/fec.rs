//! Opus decode with one-packet FEC recovery and PLC, on a real tone encoded with in-band FEC.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use audiopus::coder::Encoder;
use audiopus::{Application, Bitrate, Channels, SampleRate};
use bytes::Bytes;
use common::{TempDir, goertzel, packet, tick};
use voxwire_sinks::{
    CallbackSink, Codec, CodecSet, Concealment, DecodeConfig, DecodeSink, MediaPacket, MediaType,
    Sink,
};

/// 20 ms Opus packets of a 440 Hz tone (FFmpeg-generated WAV) encoded with in-band FEC.
fn fec_packets(dir: &TempDir) -> Vec<Bytes> {
    let path = dir.join("tone.wav");
    common::sine(&path, 440, 1.0, 48_000, &[]);
    let pcm = common::read_wav(&path);
    let mut enc = Encoder::new(SampleRate::Hz48000, Channels::Stereo, Application::Voip).unwrap();
    enc.set_bitrate(Bitrate::BitsPerSecond(24_000)).unwrap();
    enc.set_inband_fec(true).unwrap();
    enc.set_encoder_ctl_request(4014, 30).unwrap(); // OPUS_SET_PACKET_LOSS_PERC
    let mut out = vec![0u8; 4000];
    pcm.chunks_exact(1920)
        .map(|f| {
            let n = enc.encode(f, &mut out).unwrap();
            Bytes::copy_from_slice(&out[..n])
        })
        .collect()
}

fn collect(config: DecodeConfig) -> (DecodeSink, Arc<Mutex<Vec<MediaPacket>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let cb =
        CallbackSink::new(CodecSet::PCM, move |p: &MediaPacket| s2.lock().unwrap().push(p.clone()));
    (DecodeSink::new(cb, config), seen)
}

#[test]
fn a_lost_packet_is_recovered_from_the_next_packets_fec() {
    require_ffmpeg!();
    let dir = TempDir::new("fec");
    let packets = fec_packets(&dir);
    let (mut sink, seen) = collect(DecodeConfig::default());
    let t0 = Instant::now();
    for (i, p) in packets.iter().enumerate() {
        let pk = if i == 20 {
            MediaPacket::lost(
                voxwire_rtp::Ssrc(9),
                voxwire_rtp::SeqNo(20),
                voxwire_rtp::RtpTimestamp(960 * 20),
                tick(t0, i),
            )
        } else {
            packet(9, i as u16, 960 * i as u32, tick(t0, i), p.clone())
        };
        sink.write(&pk).unwrap();
    }
    sink.cleanup().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), packets.len(), "every packet, lost or not, yields one PCM frame");
    assert!(seen.windows(2).all(|w| w[1].sequence.0 == w[0].sequence.0 + 1), "in order");
    let recovered = &seen[20];
    assert!(recovered.lost);
    assert_eq!(recovered.concealment, Some(Concealment::Fec));
    assert_eq!(recovered.codec, Codec::Pcm);
    let pcm = recovered.pcm.as_ref().unwrap();
    assert_eq!(pcm.len(), 1920);
    let normal = goertzel(seen[19].pcm.as_ref().unwrap(), 440.0);
    let fec = goertzel(pcm, 440.0);
    assert!(fec > normal * 0.3, "FEC frame carries the tone: {fec} vs {normal}");
}

#[test]
fn without_fec_and_for_runs_of_losses_plc_conceals() {
    require_ffmpeg!();
    let dir = TempDir::new("plc");
    let packets = fec_packets(&dir);
    let (mut sink, seen) = collect(DecodeConfig { fec: false, ..DecodeConfig::default() });
    let t0 = Instant::now();
    // Packets 10..13 never arrive (a sequence gap, no lost markers).
    for (i, p) in packets.iter().enumerate().filter(|(i, _)| !(10..13).contains(i)) {
        sink.write(&packet(5, i as u16, 960 * i as u32, tick(t0, i), p.clone())).unwrap();
    }
    sink.cleanup().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), packets.len());
    for p in &seen[10..13] {
        assert!(p.lost);
        assert_eq!(p.concealment, Some(Concealment::Plc));
    }
    assert_eq!(seen[13].concealment, None);
}

#[test]
fn nothing_is_decoded_when_nobody_wants_pcm() {
    let seen = Arc::new(Mutex::new(0usize));
    let s2 = seen.clone();
    let opus_only = CallbackSink::new(CodecSet::OPUS, move |p: &MediaPacket| {
        assert_eq!(p.codec, Codec::Opus);
        *s2.lock().unwrap() += 1;
    });
    let mut sink = DecodeSink::new(opus_only, DecodeConfig::default());
    assert!(sink.wants(MediaType::Audio, Codec::Opus));
    assert!(!sink.wants(MediaType::Audio, Codec::Pcm));
    // An undecodable payload proves no decode is attempted.
    sink.write(&packet(1, 0, 0, Instant::now(), Bytes::from_static(&[0xff; 3]))).unwrap();
    assert_eq!(*seen.lock().unwrap(), 1);
}
