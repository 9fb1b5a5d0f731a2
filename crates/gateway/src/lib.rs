//! Typed voice-gateway (v4, v8, v9) messages, JSON and binary DAVE frames, close codes, and the sans-IO client and server handshake, heartbeat and resume state machines.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
