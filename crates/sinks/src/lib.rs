//! The receive sink tree: callbacks, queues, fan-out, per-user sinks, WAV and mixed WAV, FFmpeg, mux, encoded video, Opus decode, silence fill, volume and filters.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
