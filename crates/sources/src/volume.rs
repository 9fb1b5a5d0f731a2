//! Volume that can be changed while playing.

use crate::dsp::{GainRamp, VolumeHandle};
use crate::{AudioFrame, AudioKind, AudioRead, Error, MediaSource, VideoConfig, VideoRead};

/// Scales a PCM source's audio by a volume that any thread can change through a
/// [`VolumeHandle`]; video passes through untouched.
///
/// A change is ramped linearly over the next frame (so it is complete within 20 ms and makes no
/// click), and overshoot is soft-clipped rather than wrapped or hard-clipped.
///
/// ```
/// use voxwire_sources::{AudioFrame, MediaSource, PcmFrames, Volume, FRAME_LEN};
/// let src = PcmFrames::new(vec![vec![1000i16; FRAME_LEN]; 3]);
/// let mut vol = Volume::new(src, 1.0)?;
/// let handle = vol.handle();
/// let mut frame = AudioFrame::new();
/// vol.read_audio(&mut frame)?;
/// assert_eq!(frame.pcm()[FRAME_LEN - 1], 1000);
/// handle.set(0.5); // from any thread
/// vol.read_audio(&mut frame)?;
/// assert_eq!(frame.pcm()[FRAME_LEN - 1], 500);
/// # Ok::<(), voxwire_sources::Error>(())
/// ```
#[derive(Debug)]
pub struct Volume<S> {
    inner: S,
    handle: VolumeHandle,
    ramp: GainRamp,
}

impl<S: MediaSource> Volume<S> {
    /// Wraps a PCM (or video-only) source at an initial volume. Fails for an Opus source.
    pub fn new(inner: S, volume: f32) -> Result<Self, Error> {
        if inner.audio_kind() == Some(AudioKind::Opus) {
            return Err(Error::VolumeOnOpus);
        }
        let handle = VolumeHandle::new(volume);
        let ramp = GainRamp::new(handle.get());
        Ok(Self { inner, handle, ramp })
    }

    /// A handle that changes this source's volume; clone it freely.
    pub fn handle(&self) -> VolumeHandle {
        self.handle.clone()
    }

    /// The wrapped source.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the source.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: MediaSource> MediaSource for Volume<S> {
    fn audio_kind(&self) -> Option<AudioKind> {
        self.inner.audio_kind()
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        let read = self.inner.read_audio(frame)?;
        if read == AudioRead::Frame && frame.kind() == AudioKind::Pcm {
            self.ramp.apply(frame.pcm_mut(), self.handle.get());
        }
        Ok(read)
    }

    fn is_nonblocking(&self) -> bool {
        self.inner.is_nonblocking()
    }

    fn has_video(&self) -> bool {
        self.inner.has_video()
    }

    fn video_config(&self) -> Option<VideoConfig> {
        self.inner.video_config()
    }

    fn read_video(&mut self) -> Result<VideoRead, Error> {
        self.inner.read_video()
    }

    fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.inner.cleanup()
    }
}
