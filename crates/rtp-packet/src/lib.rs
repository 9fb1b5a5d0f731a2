//! Zero-copy RTP (RFC 3550) packet views and writers, RFC 8285 header extensions, sequence-number and timestamp arithmetic with wrap-around, and Discord's IP-discovery packets.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
