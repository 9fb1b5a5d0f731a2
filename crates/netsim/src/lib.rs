//! A seeded, sans-IO network model (delay, jitter, random and Gilbert-Elliott loss, reordering, duplication, rate limit) for deterministic tests, benches and the local server's impairment option.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
