//! RTP packetizers and depacketizers for H264 (RFC 6184), H265 (RFC 7798), VP8 (RFC 7741),
//! VP9 (RFC 9628) and AV1 (AOM "RTP Payload Format for AV1"); IVF and Annex B readers and
//! writers; and DAVE's per-codec frame rules ([`dave`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codec;
pub mod dave;
mod error;
pub mod nal;

pub use codec::{Codec, UnknownCodec};
pub use error::Error;
