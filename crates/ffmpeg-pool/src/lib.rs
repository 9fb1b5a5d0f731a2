//! A global pool of supervised FFmpeg workers with a transcode-once Opus cache, streaming
//! read-ahead, probing, and encoder, decoder and hardware-acceleration capability detection.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod input;
pub mod ogg;
pub mod probe;
pub mod process;

pub use error::{Error, Result};
pub use input::Input;
pub use probe::{CodecType, FormatInfo, ProbeInfo, StreamInfo, probe};
pub use process::{StderrTail, Supervised, ToolsConfig};
