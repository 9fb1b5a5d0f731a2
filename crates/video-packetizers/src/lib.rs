//! RTP packetizers and depacketizers for H264 (RFC 6184), H265 (RFC 7798), VP8 (RFC 7741),
//! VP9 (RFC 9628) and AV1 (AOM "RTP Payload Format for AV1"); IVF and Annex B readers and
//! writers; and DAVE's per-codec frame rules ([`dave`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod annexb;
pub mod av1;
mod codec;
pub mod dave;
mod error;
pub mod h26x;
pub mod ivf;
pub mod nal;
mod payload;
pub mod vp8;
pub mod vp9;

pub use av1::{Av1Depacketizer, Av1Packetizer};
pub use codec::{Codec, UnknownCodec};
pub use error::Error;
pub use h26x::{H26xDepacketizer, H26xPacketizer, ParameterSetCache};
pub use payload::{
    Depacketize, DepacketizerConfig, Frame, MIN_MTU, PacketizerConfig, Packets, Payload,
};
pub use vp8::{Vp8Depacketizer, Vp8Packetizer};
pub use vp9::{Vp9Depacketizer, Vp9FrameInfo, Vp9Packetizer};
