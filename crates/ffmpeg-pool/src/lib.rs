//! A global pool of supervised FFmpeg workers with a transcode-once Opus cache, streaming read-ahead, probing, and encoder, decoder and hardware-acceleration capability detection.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![deny(unsafe_code)]
#![deny(missing_docs)]
