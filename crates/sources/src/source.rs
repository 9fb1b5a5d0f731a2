//! The [`MediaSource`] trait.

use crate::{AudioFrame, AudioKind, AudioRead, Error, VideoConfig, VideoRead};

/// Something that can be played: a lane of 20 ms audio frames, optionally a lane of encoded video
/// frames.
///
/// # Call order
///
/// The player calls [`read_audio`](Self::read_audio) once per 20 ms tick with a frame buffer it
/// owns, and [`read_video`](Self::read_video) whenever it can send video, until
/// [`is_finished`](Self::is_finished) is true; then it calls [`cleanup`](Self::cleanup) once.
/// Dropping a source without `cleanup` must still release everything it holds (child
/// processes are killed, files closed): `cleanup` exists to surface errors, such as an FFmpeg
/// that exited with a failure, and to release resources early.
///
/// A source's [`audio_kind`](Self::audio_kind) never changes over its life, so a player can set
/// up its Opus encoder (or pass-through) once.
pub trait MediaSource: Send {
    /// The encoding of the audio lane, or `None` when the source has no audio at all.
    fn audio_kind(&self) -> Option<AudioKind>;

    /// Fills `frame` with the next 20 ms of audio.
    ///
    /// Blocks at most as long as the underlying reader does (an FFmpeg pipe, a file). Returns
    /// [`AudioRead::End`] once the lane is over, and on every later call.
    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error>;

    /// Whether [`read_audio`](Self::read_audio) returns at once: the frames are already in
    /// memory, and reading does no I/O, no waiting and no heavy work.
    ///
    /// A player may then read the source on its shared send clock instead of giving it a thread
    /// of its own. Answering `true` for a source that can block stalls every call paced by that
    /// clock, so the default is `false`.
    fn is_nonblocking(&self) -> bool {
        false
    }

    /// Whether the source has a video lane that has not ended.
    fn has_video(&self) -> bool {
        false
    }

    /// The video parameters, when the source knows them.
    fn video_config(&self) -> Option<VideoConfig> {
        None
    }

    /// The next encoded video frame, if one is ready.
    fn read_video(&mut self) -> Result<VideoRead, Error> {
        Ok(VideoRead::End)
    }

    /// Whether every lane has ended.
    fn is_finished(&self) -> bool;

    /// Releases resources now (waits for or kills child processes, closes files) and reports
    /// whether everything ended well. Idempotent.
    fn cleanup(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

impl<S: MediaSource + ?Sized> MediaSource for Box<S> {
    fn audio_kind(&self) -> Option<AudioKind> {
        (**self).audio_kind()
    }
    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        (**self).read_audio(frame)
    }
    fn is_nonblocking(&self) -> bool {
        (**self).is_nonblocking()
    }
    fn has_video(&self) -> bool {
        (**self).has_video()
    }
    fn video_config(&self) -> Option<VideoConfig> {
        (**self).video_config()
    }
    fn read_video(&mut self) -> Result<VideoRead, Error> {
        (**self).read_video()
    }
    fn is_finished(&self) -> bool {
        (**self).is_finished()
    }
    fn cleanup(&mut self) -> Result<(), Error> {
        (**self).cleanup()
    }
}
