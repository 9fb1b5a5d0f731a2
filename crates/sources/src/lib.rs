//! Media sources: PCM and Opus readers, FFmpeg-backed sources with Opus pass-through, mixing, volume, encoded video, desktop capture and simulcast.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
