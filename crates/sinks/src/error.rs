//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing or finalizing an output file failed.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing to an output stream failed.
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    /// FFmpeg could not be started, crashed, or exited with a failure.
    #[error(transparent)]
    Ffmpeg(#[from] voxwire_ffmpeg::Error),
    /// libopus rejected a packet or could not create a decoder.
    #[error("opus decoder for SSRC {ssrc}: {source}")]
    Opus {
        /// The stream.
        ssrc: u32,
        /// Why.
        source: audiopus::Error,
    },
    /// The sink was written after [`Sink::cleanup`](crate::Sink::cleanup).
    #[error("sink {0} is closed")]
    Closed(&'static str),
    /// A per-user sink factory failed to create a child.
    #[error("creating the sink for {key}: {source}")]
    Factory {
        /// The user or SSRC the child was for.
        key: crate::StreamKey,
        /// Why.
        source: Box<Self>,
    },
    /// Several children failed during one operation; the first error is kept, the rest counted.
    #[error("{first} (and {more} more sink error(s))")]
    Many {
        /// The first error.
        first: Box<Self>,
        /// How many more there were.
        more: usize,
    },
}

/// Collects errors from several children, keeping the first and counting the rest.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    first: Option<Error>,
    more: usize,
}

impl Errors {
    pub(crate) fn push(&mut self, r: Result<(), Error>) {
        if let Err(e) = r {
            if self.first.is_none() {
                self.first = Some(e);
            } else {
                self.more += 1;
            }
        }
    }

    pub(crate) fn into_result(self) -> Result<(), Error> {
        match self.first {
            None => Ok(()),
            Some(e) if self.more == 0 => Err(e),
            Some(e) => Err(Error::Many { first: Box::new(e), more: self.more }),
        }
    }
}
