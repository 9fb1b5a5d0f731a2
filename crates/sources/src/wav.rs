//! WAV (RIFF/WAVE) headers: a parser for reading and a writer for the canonical 44-byte header.
//!
//! The parser walks RIFF chunks (skipping `LIST`, `fact` and any other chunk, honouring the
//! pad byte of odd-sized chunks) until it finds `fmt ` and then `data`. It never panics and
//! never allocates. A data size of 0 or `0xFFFF_FFFF` (what streaming writers leave) means "until
//! the end of the stream".

use std::io::Read;

use crate::pcm::{PcmSource, read_full};
use crate::{AudioFrame, AudioKind, AudioRead, CHANNELS, Error, MediaSource, SAMPLE_RATE};

/// Size of the header [`write_header`] produces.
pub const HEADER_LEN: usize = 44;

/// Why a WAV header was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The input ended inside the header.
    #[error("header truncated: need {expected} bytes, have {actual}")]
    Truncated {
        /// Bytes needed to go on.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
    /// Not a RIFF/WAVE stream.
    #[error("not a RIFF/WAVE stream")]
    NotWave,
    /// A `data` chunk came before the `fmt ` chunk.
    #[error("data chunk before fmt chunk")]
    DataBeforeFormat,
    /// The `fmt ` chunk is shorter than 16 bytes.
    #[error("fmt chunk of {len} bytes is too short")]
    FormatTooShort {
        /// Its declared size.
        len: u32,
    },
    /// The format is valid WAV but not 48 kHz stereo 16-bit PCM.
    #[error(
        "unsupported format: tag {format_tag}, {channels} ch, {sample_rate} Hz, {bits_per_sample} bit (need PCM 48000 Hz 2 ch 16 bit; convert with FFmpeg)"
    )]
    Unsupported {
        /// `wFormatTag` (1 = PCM, 0xFFFE = extensible).
        format_tag: u16,
        /// Channel count.
        channels: u16,
        /// Sample rate.
        sample_rate: u32,
        /// Bits per sample.
        bits_per_sample: u16,
    },
}

/// A parsed WAV header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavHeader {
    /// `wFormatTag`: 1 for integer PCM, 3 for float, 0xFFFE for extensible.
    pub format_tag: u16,
    /// Channel count.
    pub channels: u16,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// Offset of the first sample byte.
    pub data_offset: usize,
    /// Declared length of the sample data, `None` when left open by a streaming writer.
    pub data_len: Option<u32>,
}

impl WavHeader {
    /// Parses the header at the start of `bytes` (which may go on into the sample data).
    pub fn parse(bytes: &[u8]) -> Result<Self, WavError> {
        let riff = take(bytes, 0, 12)?;
        if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
            return Err(WavError::NotWave);
        }
        let mut pos = 12usize;
        let mut fmt: Option<(u16, u16, u32, u16)> = None;
        loop {
            let head = take(bytes, pos, 8)?;
            let id = &head[0..4];
            let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let body = pos + 8;
            if id == b"data" {
                let (format_tag, channels, sample_rate, bits_per_sample) =
                    fmt.ok_or(WavError::DataBeforeFormat)?;
                let data_len = if len == 0 || len == u32::MAX { None } else { Some(len) };
                return Ok(Self {
                    format_tag,
                    channels,
                    sample_rate,
                    bits_per_sample,
                    data_offset: body,
                    data_len,
                });
            }
            if id == b"fmt " {
                if len < 16 {
                    return Err(WavError::FormatTooShort { len });
                }
                let f = take(bytes, body, 16)?;
                fmt = Some((
                    u16::from_le_bytes([f[0], f[1]]),
                    u16::from_le_bytes([f[2], f[3]]),
                    u32::from_le_bytes([f[4], f[5], f[6], f[7]]),
                    u16::from_le_bytes([f[14], f[15]]),
                ));
            }
            let padded = (len as usize).saturating_add(len as usize & 1);
            pos = body.saturating_add(padded);
        }
    }

    /// Whether the samples are 48 kHz stereo 16-bit integer PCM (plain or extensible).
    pub fn is_voice_pcm(&self) -> bool {
        matches!(self.format_tag, 1 | 0xFFFE)
            && self.channels as usize == CHANNELS
            && self.sample_rate == SAMPLE_RATE
            && self.bits_per_sample == 16
    }
}

fn take(bytes: &[u8], at: usize, n: usize) -> Result<&[u8], WavError> {
    let end = at
        .checked_add(n)
        .ok_or(WavError::Truncated { expected: usize::MAX, actual: bytes.len() })?;
    bytes.get(at..end).ok_or(WavError::Truncated { expected: end, actual: bytes.len() })
}

/// Writes the canonical 44-byte header for 48 kHz stereo 16-bit PCM holding `data_len` bytes.
pub fn write_header(out: &mut [u8; HEADER_LEN], data_len: u32) {
    let byte_rate = SAMPLE_RATE * CHANNELS as u32 * 2;
    out[0..4].copy_from_slice(b"RIFF");
    out[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out[8..12].copy_from_slice(b"WAVE");
    out[12..16].copy_from_slice(b"fmt ");
    out[16..20].copy_from_slice(&16u32.to_le_bytes());
    out[20..22].copy_from_slice(&1u16.to_le_bytes());
    out[22..24].copy_from_slice(&(CHANNELS as u16).to_le_bytes());
    out[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    out[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    out[32..34].copy_from_slice(&(CHANNELS as u16 * 2).to_le_bytes());
    out[34..36].copy_from_slice(&16u16.to_le_bytes());
    out[36..40].copy_from_slice(b"data");
    out[40..44].copy_from_slice(&data_len.to_le_bytes());
}

/// Largest header prefix [`WavSource`] reads looking for the `data` chunk.
const MAX_HEADER: usize = 1 << 20;

/// Plays a WAV stream of 48 kHz stereo 16-bit PCM without FFmpeg. Other formats are rejected
/// with [`WavError::Unsupported`]; play them through FFmpeg instead.
///
/// After the header it is a [`PcmSource`] over the bytes read past the header, then the reader
/// limited to the `data` chunk's length (unlimited when the header leaves it open, as streamed
/// WAV does).
#[derive(Debug)]
pub struct WavSource<R> {
    pcm: PcmSource<std::io::Chain<std::io::Cursor<Vec<u8>>, std::io::Take<R>>>,
}

impl<R: Read + Send> WavSource<R> {
    /// Reads and checks the header.
    pub fn new(mut reader: R) -> Result<Self, Error> {
        let mut head = Vec::with_capacity(4096);
        let header = loop {
            let want = (head.len() * 2).clamp(64, MAX_HEADER);
            let start = head.len();
            head.resize(want, 0);
            let n = read_full(&mut reader, &mut head[start..])?;
            head.truncate(start + n);
            match WavHeader::parse(&head) {
                Ok(h) => break h,
                Err(WavError::Truncated { .. }) if n > 0 && head.len() < MAX_HEADER => {}
                Err(e) => return Err(e.into()),
            }
        };
        if !header.is_voice_pcm() {
            return Err(WavError::Unsupported {
                format_tag: header.format_tag,
                channels: header.channels,
                sample_rate: header.sample_rate,
                bits_per_sample: header.bits_per_sample,
            }
            .into());
        }
        let data_len = header.data_len.map_or(u64::MAX, u64::from);
        let mut pending = head.get(header.data_offset..).unwrap_or_default().to_vec();
        pending.truncate(usize::try_from(data_len).unwrap_or(usize::MAX));
        let rest = data_len - pending.len() as u64;
        Ok(Self { pcm: PcmSource::new(std::io::Cursor::new(pending).chain(reader.take(rest))) })
    }
}

impl<R: Read + Send> MediaSource for WavSource<R> {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Pcm)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        self.pcm.read_audio(frame)
    }

    fn is_finished(&self) -> bool {
        self.pcm.is_finished()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.pcm.cleanup()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_header_parses_back() {
        let mut h = [0u8; HEADER_LEN];
        write_header(&mut h, 3840);
        let p = WavHeader::parse(&h).unwrap();
        assert!(p.is_voice_pcm());
        assert_eq!(p.data_offset, 44);
        assert_eq!(p.data_len, Some(3840));
    }

    #[test]
    fn skips_unknown_and_odd_chunks() {
        let mut h = [0u8; HEADER_LEN];
        write_header(&mut h, 4);
        let mut v = h[..36].to_vec();
        v.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
        v.extend_from_slice(&h[36..]);
        v.extend_from_slice(&[1, 0, 2, 0]);
        let p = WavHeader::parse(&v).unwrap();
        assert_eq!(p.data_offset, 56);
        let mut src = WavSource::new(&v[..]).unwrap();
        let mut f = AudioFrame::new();
        assert_eq!(src.read_audio(&mut f).unwrap(), AudioRead::Frame);
        assert_eq!(&f.pcm()[..3], &[1, 2, 0]);
        assert_eq!(src.read_audio(&mut f).unwrap(), AudioRead::End);
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        assert_eq!(WavHeader::parse(b"RIFX0000WAVE"), Err(WavError::NotWave));
        assert!(matches!(WavHeader::parse(b"RIFF"), Err(WavError::Truncated { .. })));
        let mut h = [0u8; HEADER_LEN];
        write_header(&mut h, 0);
        h[16] = 4;
        assert_eq!(WavHeader::parse(&h), Err(WavError::FormatTooShort { len: 4 }));
        assert!(matches!(
            WavSource::new(&b"RIFF\x00\x00"[..]),
            Err(Error::Wav(WavError::Truncated { .. }))
        ));
    }
}
