//! The crate's one error type.

/// Everything that can go wrong while producing media.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the underlying stream failed.
    #[error("reading media input failed: {0}")]
    Io(#[from] std::io::Error),
    /// An Opus packet handed to a frame was larger than any valid Opus packet.
    #[error("Opus packet of {len} bytes exceeds the {max}-byte limit")]
    OpusTooLarge {
        /// Size of the rejected packet.
        len: usize,
        /// The limit, [`MAX_OPUS_PACKET`](crate::MAX_OPUS_PACKET).
        max: usize,
    },
    /// A PCM frame had the wrong number of samples.
    #[error("PCM frame has {actual} samples, expected {expected} (20 ms of 48 kHz stereo)")]
    PcmFrameSize {
        /// Samples a frame must hold.
        expected: usize,
        /// Samples it held.
        actual: usize,
    },
    /// Opus can only be played unmixed; a mix was asked to combine it with other audio.
    #[error(
        "an Opus source cannot be mixed with {others} other audio source(s); decode it to PCM first"
    )]
    OpusInMix {
        /// Number of other audio inputs.
        others: usize,
    },
    /// Volume needs PCM; the wrapped source produces Opus.
    #[error("volume needs a PCM source; this source produces Opus")]
    VolumeOnOpus,
    /// A WAV stream's header was malformed or not a format this crate reads.
    #[error("WAV input: {0}")]
    Wav(#[from] crate::wav::WavError),
    /// FFmpeg is missing, failed to start, crashed or exited with a failure (with the tail of its
    /// stderr), or its output could not be demuxed.
    #[error(transparent)]
    Ffmpeg(#[from] voxwire_ffmpeg::Error),
}
