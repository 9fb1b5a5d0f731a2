//! RTP packetizers and depacketizers for H264 (RFC 6184), H265 (RFC 7798), VP8 (RFC 7741), VP9 (RFC 9628) and AV1; IVF and Annex B readers and writers; the per-codec unencrypted-range rules of DAVE.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
