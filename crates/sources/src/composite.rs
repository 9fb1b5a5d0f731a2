//! Separate audio and video sources combined into one.

use crate::{AudioFrame, AudioKind, AudioRead, Error, MediaSource, VideoConfig, VideoRead};

/// Audio from one source, video from another. Either may be absent.
///
/// Finished when both lanes have ended; cleanup cleans both.
#[derive(Default)]
pub struct CompositeSource {
    audio: Option<Box<dyn MediaSource>>,
    video: Option<Box<dyn MediaSource>>,
}

impl std::fmt::Debug for CompositeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeSource")
            .field("audio", &self.audio.is_some())
            .field("video", &self.video.is_some())
            .finish()
    }
}

impl CompositeSource {
    /// Combines an audio source and a video source.
    pub fn new(audio: Option<Box<dyn MediaSource>>, video: Option<Box<dyn MediaSource>>) -> Self {
        Self { audio, video }
    }

    /// The audio source.
    pub fn audio(&self) -> Option<&dyn MediaSource> {
        self.audio.as_deref()
    }

    /// The video source.
    pub fn video(&self) -> Option<&dyn MediaSource> {
        self.video.as_deref()
    }
}

impl MediaSource for CompositeSource {
    fn audio_kind(&self) -> Option<AudioKind> {
        self.audio.as_ref().and_then(MediaSource::audio_kind)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        match self.audio.as_mut() {
            Some(a) => a.read_audio(frame),
            None => Ok(AudioRead::End),
        }
    }

    fn has_video(&self) -> bool {
        self.video.as_ref().is_some_and(MediaSource::has_video)
    }

    fn video_config(&self) -> Option<VideoConfig> {
        self.video.as_ref().and_then(MediaSource::video_config)
    }

    fn read_video(&mut self) -> Result<VideoRead, Error> {
        match self.video.as_mut() {
            Some(v) => v.read_video(),
            None => Ok(VideoRead::End),
        }
    }

    fn is_finished(&self) -> bool {
        let audio_done =
            self.audio.as_ref().is_none_or(|a| a.audio_kind().is_none() || a.is_finished());
        let video_done = self.video.as_ref().is_none_or(|v| !v.has_video() || v.is_finished());
        audio_done && video_done
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        let a = self.audio.as_mut().map_or(Ok(()), MediaSource::cleanup);
        let v = self.video.as_mut().map_or(Ok(()), MediaSource::cleanup);
        a.and(v)
    }
}
