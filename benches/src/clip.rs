//! The Opus clip every benchmarked client plays: encoded once with libopus, shared by reference,
//! and looped, so that the clients' memory holds no per-client copy of the media and the
//! packets have the size and entropy of real music at the bitrate chosen.

use std::f64::consts::TAU;
use std::sync::Arc;

use audiopus::coder::Encoder;
use audiopus::{Application, Bitrate, Channels, SampleRate};
use bytes::Bytes;
use voxwire_sources::{FRAME_LEN, FRAME_SAMPLES, MediaSource, OpusFrames, SAMPLE_RATE};

/// A non-empty list of 20 ms Opus packets (48 kHz stereo), cheap to clone.
#[derive(Clone, Debug)]
pub struct OpusClip {
    packets: Arc<[Bytes]>,
}

/// Why a clip could not be made.
#[derive(Debug)]
pub struct ClipError(String);

impl std::fmt::Display for ClipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "encoding the benchmark clip: {}", self.0)
    }
}

impl std::error::Error for ClipError {}

/// One 20 ms frame of a music-like stereo signal: a chord of three partials with vibrato and a
/// slow tremolo, different per channel, so the encoder spends its bitrate as on music.
fn music_frame(index: usize, out: &mut [i16; FRAME_LEN]) {
    let rate = f64::from(SAMPLE_RATE);
    for (i, pair) in out.chunks_exact_mut(2).enumerate() {
        let t = (index * FRAME_SAMPLES + i) as f64 / rate;
        let vibrato = 1.0 + 0.004 * (TAU * 5.0 * t).sin();
        let tremolo = 0.75 + 0.25 * (TAU * 0.5 * t).sin();
        let chord = [220.0, 277.18, 329.63]
            .iter()
            .enumerate()
            .map(|(k, f)| (TAU * f * vibrato * t).sin() / (k as f64 + 1.0))
            .sum::<f64>();
        let left = chord * tremolo * 9000.0;
        let right = (chord + 0.3 * (TAU * 440.0 * t).sin()) * (1.5 - tremolo) * 9000.0;
        pair[0] = left as i16;
        pair[1] = right as i16;
    }
}

impl OpusClip {
    /// Encodes `frames` (at least one) 20 ms frames at `bitrate_kbps` with libopus
    /// (`OPUS_APPLICATION_AUDIO`).
    pub fn encode(frames: usize, bitrate_kbps: u32) -> Result<Self, ClipError> {
        let err = |e: audiopus::Error| ClipError(e.to_string());
        let mut enc =
            Encoder::new(SampleRate::Hz48000, Channels::Stereo, Application::Audio).map_err(err)?;
        let bps = i32::try_from(bitrate_kbps.saturating_mul(1000))
            .map_err(|_| ClipError(format!("bitrate {bitrate_kbps} kbit/s")))?;
        enc.set_bitrate(Bitrate::BitsPerSecond(bps)).map_err(err)?;
        let mut pcm = [0i16; FRAME_LEN];
        let mut buf = [0u8; 1275];
        let packets = (0..frames.max(1))
            .map(|i| {
                music_frame(i, &mut pcm);
                let n = enc.encode(&pcm[..], &mut buf).map_err(err)?;
                Ok(Bytes::copy_from_slice(&buf[..n]))
            })
            .collect::<Result<Vec<_>, ClipError>>()?;
        Ok(Self { packets: packets.into() })
    }

    /// The packets.
    pub fn packets(&self) -> &[Bytes] {
        &self.packets
    }

    /// Mean packet size in bytes.
    pub fn mean_len(&self) -> f64 {
        let total: usize = self.packets.iter().map(Bytes::len).sum();
        total as f64 / self.packets.len() as f64
    }

    /// Mean packet size in whole bytes, rounded down.
    pub fn mean_len_bytes(&self) -> usize {
        self.packets.iter().map(Bytes::len).sum::<usize>() / self.packets.len().max(1)
    }

    /// A source playing the clip in a loop for `frames` frames (Opus pass-through: no encoder
    /// runs). It holds a reference to the shared packets, not a copy.
    pub fn looping(&self, frames: usize) -> impl MediaSource + 'static {
        let packets = Arc::clone(&self.packets);
        OpusFrames::new((0..frames).map(move |i| packets[i % packets.len()].clone())).nonblocking()
    }
}

#[cfg(test)]
mod tests {
    use voxwire_sources::{AudioFrame, AudioKind, AudioRead};

    use super::*;

    #[test]
    fn clip_is_real_opus_near_the_bitrate() {
        let clip = OpusClip::encode(50, 64).expect("libopus");
        assert_eq!(clip.packets().len(), 50);
        // 64 kbit/s is 160 bytes per 20 ms; VBR music stays in the neighbourhood.
        let mean = clip.mean_len();
        assert!((100.0..=260.0).contains(&mean), "mean packet {mean} bytes");
        // Every packet's TOC byte (RFC 6716 3.1) says one frame (code 0) of 20 ms: SILK configs
        // 1, 5, 9; hybrid 13, 15; CELT 19, 23, 27, 31.
        for p in clip.packets() {
            let (config, code) = (p[0] >> 3, p[0] & 3);
            let twenty_ms = match config {
                0..=11 => config % 4 == 1,
                12..=15 => config % 2 == 1,
                _ => config % 4 == 3,
            };
            assert!(twenty_ms && code == 0, "TOC config {config} code {code}");
        }
    }

    #[test]
    fn looping_source_wraps_and_ends() {
        let clip = OpusClip::encode(3, 64).expect("libopus");
        let mut src = clip.looping(7);
        assert_eq!(src.audio_kind(), Some(AudioKind::Opus));
        let mut frame = AudioFrame::new();
        let mut seen = Vec::new();
        while src.read_audio(&mut frame).expect("read") == AudioRead::Frame {
            seen.push(frame.opus().to_vec());
        }
        assert_eq!(seen.len(), 7);
        assert_eq!(seen[0], seen[3]);
        assert_eq!(seen[6], clip.packets()[0].as_ref());
        assert!(src.is_finished());
    }
}
