//! A sans-IO per-SSRC audio jitter buffer with adaptive playout delay, a video frame assembler with NACK and keyframe requests, and a sender-side RTX history.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
