//! Mixing any number of sources into one.

use crate::dsp::mix_into;
use crate::{
    AudioFrame, AudioKind, AudioRead, Error, FRAME_LEN, MediaSource, VideoConfig, VideoRead,
};

struct Input {
    source: Box<dyn MediaSource>,
    frame: AudioFrame,
    audio_done: bool,
}

/// Mixes the PCM audio of any number of sources into one lane; video comes from the first input
/// that yields a frame.
///
/// Inputs that end are cleaned up and leave the mix; the mix ends when every input has. An Opus
/// input is allowed only as the sole audio input (it is then passed through), since Opus cannot be
/// mixed without decoding.
///
/// ```
/// use voxwire_sources::{AudioFrame, MediaSource, MixSource, PcmFrames, FRAME_LEN};
/// let a = PcmFrames::new(vec![vec![100i16; FRAME_LEN]; 2]);
/// let b = PcmFrames::new(vec![vec![20i16; FRAME_LEN]]);
/// let mut mix = MixSource::new(vec![Box::new(a) as Box<dyn MediaSource>, Box::new(b)])?;
/// let mut frame = AudioFrame::new();
/// mix.read_audio(&mut frame)?;
/// assert_eq!(frame.pcm()[0], 120);
/// mix.read_audio(&mut frame)?;
/// assert_eq!(frame.pcm()[0], 100);
/// # Ok::<(), voxwire_sources::Error>(())
/// ```
pub struct MixSource {
    inputs: Vec<Input>,
    kind: Option<AudioKind>,
    audio_ended: bool,
    errors: Vec<Error>,
}

impl std::fmt::Debug for MixSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MixSource")
            .field("inputs", &self.inputs.len())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl MixSource {
    /// Mixes `sources`. Fails if an Opus source is combined with any other audio source.
    pub fn new(sources: Vec<Box<dyn MediaSource>>) -> Result<Self, Error> {
        let mut mix = Self {
            inputs: Vec::with_capacity(sources.len()),
            kind: None,
            audio_ended: false,
            errors: Vec::new(),
        };
        for s in sources {
            mix.push(s)?;
        }
        Ok(mix)
    }

    /// Adds one more input; it joins on the next tick. Fails (leaving the mix unchanged) if this
    /// would put Opus together with other audio.
    pub fn push(&mut self, source: Box<dyn MediaSource>) -> Result<(), Error> {
        let audio_inputs =
            self.inputs.iter().filter(|i| !i.audio_done && i.source.audio_kind().is_some()).count();
        match (self.kind, source.audio_kind()) {
            (Some(AudioKind::Opus), Some(_)) => {
                return Err(Error::OpusInMix { others: audio_inputs });
            }
            (Some(_), Some(AudioKind::Opus)) if audio_inputs > 0 => {
                return Err(Error::OpusInMix { others: audio_inputs });
            }
            (_, Some(kind)) => {
                self.kind = Some(kind);
                self.audio_ended = false;
            }
            (_, None) => {}
        }
        let audio_done = source.audio_kind().is_none();
        self.inputs.push(Input { source, frame: AudioFrame::new(), audio_done });
        Ok(())
    }

    /// Number of inputs still playing.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether no input is left.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    fn retire_finished(&mut self) {
        let mut i = 0;
        while i < self.inputs.len() {
            if self.inputs[i].source.is_finished() {
                let mut input = self.inputs.swap_remove(i);
                if let Err(e) = input.source.cleanup() {
                    self.errors.push(e);
                }
            } else {
                i += 1;
            }
        }
    }
}

impl MediaSource for MixSource {
    fn audio_kind(&self) -> Option<AudioKind> {
        self.kind
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        if let Some(e) = self.errors.pop() {
            return Err(e);
        }
        let mut produced = 0usize;
        let mut first_error = None;
        for input in self.inputs.iter_mut().filter(|i| !i.audio_done) {
            match input.source.read_audio(&mut input.frame) {
                Ok(AudioRead::Frame) => produced += 1,
                Ok(_) => input.audio_done = true,
                Err(e) => {
                    input.audio_done = true;
                    first_error.get_or_insert(e);
                }
            }
        }
        if self.kind == Some(AudioKind::Opus) {
            if let Some(input) =
                self.inputs.iter().find(|i| !i.audio_done && i.frame.kind() == AudioKind::Opus)
            {
                frame.set_opus(input.frame.opus())?;
            }
        } else if produced > 0 {
            let mut refs: [&[i16; FRAME_LEN]; 16] = [&SILENCE; 16];
            let live =
                self.inputs.iter().filter(|i| !i.audio_done && i.frame.kind() == AudioKind::Pcm);
            if produced <= refs.len() {
                for (slot, input) in refs.iter_mut().zip(live) {
                    *slot = input.frame.pcm();
                }
                mix_into(frame.pcm_mut(), &refs[..produced]);
            } else {
                let all: Vec<&[i16; FRAME_LEN]> = live.map(|i| i.frame.pcm()).collect();
                mix_into(frame.pcm_mut(), &all);
            }
        }
        self.retire_finished();
        if let Some(e) = first_error {
            return Err(e);
        }
        if produced == 0 {
            self.audio_ended = true;
            return Ok(AudioRead::End);
        }
        Ok(AudioRead::Frame)
    }

    fn has_video(&self) -> bool {
        self.inputs.iter().any(|i| i.source.has_video())
    }

    fn video_config(&self) -> Option<VideoConfig> {
        self.inputs.iter().find(|i| i.source.has_video()).and_then(|i| i.source.video_config())
    }

    fn read_video(&mut self) -> Result<VideoRead, Error> {
        let mut any = false;
        for input in self.inputs.iter_mut().filter(|i| i.source.has_video()) {
            any = true;
            if let VideoRead::Frame(f) = input.source.read_video()? {
                return Ok(VideoRead::Frame(f));
            }
        }
        Ok(if any { VideoRead::NotReady } else { VideoRead::End })
    }

    fn is_finished(&self) -> bool {
        self.inputs.iter().all(|i| i.source.is_finished())
            && (self.audio_ended || self.kind.is_none())
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        let mut first = self.errors.drain(..).next();
        for mut input in self.inputs.drain(..) {
            if let Err(e) = input.source.cleanup() {
                first.get_or_insert(e);
            }
        }
        self.audio_ended = true;
        first.map_or(Ok(()), Err)
    }
}

static SILENCE: [i16; FRAME_LEN] = [0; FRAME_LEN];
