//! RTCP (RFC 3550, 4585, 5104, 8888) packet views and builders: SR, RR, SDES, BYE, APP, generic NACK, PLI, FIR, REMB, transport-wide congestion control feedback, compound and reduced-size packets.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
