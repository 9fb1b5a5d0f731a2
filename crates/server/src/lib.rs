//! A local Discord-compatible voice server for tests and demos: voice gateway over ws/wss, a UDP relay that re-encrypts per receiver, the DAVE external sender, simulated participants and network impairment.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
