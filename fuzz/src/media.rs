//! Fuzz targets for voxwire-sources and voxwire-sinks: the WAV header parser and WAV reader, and
//! the Opus decode sink (with FEC, PLC and silence fill) driven by packets from the network.

use std::time::{Duration, Instant};

use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::{
    CallbackSink, CodecSet, DecodeConfig, DecodeSink, MediaPacket, SilenceFill, SilenceFillConfig,
    Sink,
};
use voxwire_sources::wav::WavHeader;
use voxwire_sources::{AudioFrame, AudioRead, MediaSource, WavSource};

use crate::Target;

/// The media crates' targets.
pub const TARGETS: &[Target] = &[
    Target { name: "media_wav_header", run: wav_header },
    Target { name: "media_decode_sink", run: decode_sink },
];

/// Parses a WAV header and, when it is 48 kHz stereo 16-bit, reads every frame. Asserts that a
/// parsed header's data offset lies past the RIFF header and that the reader ends.
pub fn wav_header(data: &[u8]) {
    if let Ok(h) = WavHeader::parse(data) {
        assert!(h.data_offset >= 20);
    }
    if let Ok(mut src) = WavSource::new(data) {
        let mut frame = AudioFrame::new();
        let mut frames = 0usize;
        while let Ok(AudioRead::Frame) = src.read_audio(&mut frame) {
            frames += 1;
            assert!(frames <= data.len() / 2 + 1, "the reader must end");
        }
    }
}

/// Each record: a control byte (bit 0 lost, bit 1 tick, bits 2..4 SSRC, bits 5..7 sequence
/// step), a length byte, then that many payload bytes. Every record becomes an Opus packet (or a
/// lost marker, or a tick) for a decode sink over a silence filler; nothing may panic, and every
/// PCM packet that comes out has whole stereo frames.
pub fn decode_sink(data: &[u8]) {
    let check = CallbackSink::new(CodecSet::PCM, |p: &MediaPacket| {
        let pcm = p.pcm.as_ref().map_or(0, |s| s.len());
        assert_eq!(pcm % 2, 0);
    });
    let fill = SilenceFill::new(check, SilenceFillConfig::default());
    let mut sink = DecodeSink::new(fill, DecodeConfig::default());
    let t0 = Instant::now();
    let mut seq = [0u16; 8];
    let mut at = t0;
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        let ssrc = usize::from((control >> 2) & 7);
        let step = u16::from(control >> 5);
        seq[ssrc] = seq[ssrc].wrapping_add(step);
        at += Duration::from_millis(20);
        let s = seq[ssrc];
        let ts = RtpTimestamp(u32::from(s).wrapping_mul(960));
        if control & 2 != 0 {
            let _ = sink.tick(at);
        }
        let packet = if control & 1 != 0 {
            MediaPacket::lost(Ssrc(ssrc as u32), SeqNo(s), ts, at)
        } else {
            MediaPacket::opus(Ssrc(ssrc as u32), SeqNo(s), ts, at, payload.to_vec().into())
        };
        let _ = sink.write(&packet);
    }
    let _ = sink.cleanup();
}
