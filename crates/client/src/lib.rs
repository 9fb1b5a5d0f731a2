//! The voxwire voice client: connect, play, listen, video, Go Live streams and statistics. A thin tokio driver around the sans-IO layers.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
