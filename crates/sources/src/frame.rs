//! Frame types: one 20 ms audio frame (PCM or Opus) and one encoded video frame.

use std::time::Duration;

use bytes::Bytes;

use crate::{Error, FRAME_LEN, MAX_OPUS_PACKET};

/// How a source encodes its audio frames. Fixed for the life of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioKind {
    /// 20 ms of 48 kHz stereo signed 16-bit PCM, [`FRAME_LEN`] interleaved samples.
    Pcm,
    /// One Opus packet holding 20 ms of audio, sent as is.
    Opus,
}

/// A borrowed view of the content of an [`AudioFrame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioData<'a> {
    /// Interleaved stereo PCM, left then right.
    Pcm(&'a [i16; FRAME_LEN]),
    /// One Opus packet.
    Opus(&'a [u8]),
}

/// A reusable buffer for one 20 ms audio frame, owned by the caller of
/// [`MediaSource::read_audio`](crate::MediaSource::read_audio).
///
/// [`AudioFrame::new`] holds room for both a PCM frame and the largest Opus packet, so filling
/// it never allocates: allocate one per playback loop and reuse it every tick.
/// [`AudioFrame::for_opus`] is the small variant for Opus pass-through, where thousands of
/// playbacks may each hold one.
#[derive(Clone)]
pub struct AudioFrame {
    kind: AudioKind,
    /// `None` until the frame first holds PCM (an [`AudioFrame::for_opus`] frame).
    pcm: Option<Box<[i16; FRAME_LEN]>>,
    opus: Vec<u8>,
}

/// What [`AudioFrame::pcm`] shows before a frame ever held PCM.
static SILENCE: [i16; FRAME_LEN] = [0; FRAME_LEN];

impl Default for AudioFrame {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AudioFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            AudioKind::Pcm => {
                f.debug_struct("AudioFrame").field("kind", &self.kind).finish_non_exhaustive()
            }
            AudioKind::Opus => f
                .debug_struct("AudioFrame")
                .field("kind", &self.kind)
                .field("opus_len", &self.opus.len())
                .finish(),
        }
    }
}

impl AudioFrame {
    /// A frame of PCM silence.
    #[must_use]
    pub fn new() -> Self {
        Self {
            kind: AudioKind::Pcm,
            pcm: Some(Box::new([0; FRAME_LEN])),
            opus: Vec::with_capacity(MAX_OPUS_PACKET),
        }
    }

    /// A frame for Opus pass-through: its Opus buffer grows to the largest packet seen (a few
    /// hundred bytes for 20 ms of music) and then never allocates again; room for PCM is only
    /// allocated if the frame is ever filled with PCM. It starts as PCM silence, like
    /// [`AudioFrame::new`].
    #[must_use]
    pub fn for_opus() -> Self {
        Self { kind: AudioKind::Pcm, pcm: None, opus: Vec::new() }
    }

    /// What the frame currently holds.
    pub fn kind(&self) -> AudioKind {
        self.kind
    }

    /// The frame's content.
    pub fn data(&self) -> AudioData<'_> {
        match self.kind {
            AudioKind::Pcm => AudioData::Pcm(self.pcm()),
            AudioKind::Opus => AudioData::Opus(&self.opus),
        }
    }

    /// The PCM samples (meaningful when [`kind`](Self::kind) is [`AudioKind::Pcm`]).
    pub fn pcm(&self) -> &[i16; FRAME_LEN] {
        self.pcm.as_deref().unwrap_or(&SILENCE)
    }

    /// Marks the frame as PCM and gives write access to its samples. The previous content is
    /// left in place: writers overwrite every sample or call [`fill_silence`](Self::fill_silence).
    pub fn pcm_mut(&mut self) -> &mut [i16; FRAME_LEN] {
        self.kind = AudioKind::Pcm;
        self.pcm.get_or_insert_with(|| Box::new([0; FRAME_LEN]))
    }

    /// Marks the frame as PCM silence.
    pub fn fill_silence(&mut self) {
        self.pcm_mut().fill(0);
    }

    /// Copies interleaved PCM samples in. Fewer than [`FRAME_LEN`] samples (the tail of a stream)
    /// are padded with silence.
    pub fn set_pcm(&mut self, samples: &[i16]) -> Result<(), Error> {
        if samples.len() > FRAME_LEN {
            return Err(Error::PcmFrameSize { expected: FRAME_LEN, actual: samples.len() });
        }
        let pcm = self.pcm_mut();
        let (head, tail) = pcm.split_at_mut(samples.len());
        head.copy_from_slice(samples);
        tail.fill(0);
        Ok(())
    }

    /// The Opus packet (meaningful when [`kind`](Self::kind) is [`AudioKind::Opus`]).
    pub fn opus(&self) -> &[u8] {
        &self.opus
    }

    /// Stores one Opus packet; fails if it is larger than [`MAX_OPUS_PACKET`].
    pub fn set_opus(&mut self, packet: &[u8]) -> Result<(), Error> {
        if packet.len() > MAX_OPUS_PACKET {
            return Err(Error::OpusTooLarge { len: packet.len(), max: MAX_OPUS_PACKET });
        }
        self.kind = AudioKind::Opus;
        self.opus.clear();
        self.opus.extend_from_slice(packet);
        Ok(())
    }
}

/// Outcome of [`MediaSource::read_audio`](crate::MediaSource::read_audio).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioRead {
    /// The frame was filled with the next 20 ms.
    Frame,
    /// The audio lane has ended; the frame is untouched. Every later call returns `End` too.
    End,
}

/// Video codecs Discord negotiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    H265,
    /// VP8.
    Vp8,
    /// VP9.
    Vp9,
    /// AV1.
    Av1,
}

/// Video parameters a source knows about its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoConfig {
    /// The codec of every frame.
    pub codec: VideoCodec,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Nominal frame rate.
    pub fps: u32,
    /// Target bitrate in bits per second, 0 when unknown.
    pub bitrate: u32,
}

/// One encoded video frame (an access unit / temporal unit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoFrame {
    /// The encoded frame (Annex B for H.264/H.265, one frame for VP8/VP9, a temporal unit for AV1).
    pub data: Bytes,
    /// How long the frame is shown; advances the RTP timestamp.
    pub duration: Duration,
    /// Whether the frame can be decoded on its own.
    pub keyframe: bool,
}

/// Outcome of [`MediaSource::read_video`](crate::MediaSource::read_video).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoRead {
    /// The next frame.
    Frame(VideoFrame),
    /// No frame is ready on this tick; ask again later.
    NotReady,
    /// The video lane has ended.
    End,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opus_frame_starts_silent_and_takes_pcm_on_demand() {
        let mut f = AudioFrame::for_opus();
        assert_eq!(f.kind(), AudioKind::Pcm);
        assert!(f.pcm().iter().all(|&s| s == 0));
        f.set_opus(&[1, 2, 3]).expect("fits");
        assert_eq!((f.kind(), f.opus()), (AudioKind::Opus, &[1u8, 2, 3][..]));
        assert!(f.set_opus(&[0; MAX_OPUS_PACKET + 1]).is_err());
        f.set_pcm(&[7; 4]).expect("fits");
        assert_eq!(f.kind(), AudioKind::Pcm);
        assert_eq!(f.pcm()[..5], [7, 7, 7, 7, 0]);
        let copy = f.clone();
        assert_eq!(copy.pcm()[..5], [7, 7, 7, 7, 0]);
    }
}
