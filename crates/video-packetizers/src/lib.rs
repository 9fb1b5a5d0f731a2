//! RTP packetizers and depacketizers for H264 (RFC 6184), H265 (RFC 7798), VP8 (RFC 7741),
//! VP9 (RFC 9628) and AV1 (AOM "RTP Payload Format for AV1"); IVF and Annex B readers and
//! writers; and DAVE's per-codec frame rules ([`dave`], protocol.md 7.6–7.7).
//!
//! The crate is sans-IO and allocation-free per packet: packetizers write each payload into a
//! buffer the caller owns, and depacketizers reassemble into one buffer they reuse.
//!
//! # Sending a frame
//!
//! 1. (H264/H265) optionally repeat parameter sets on key frames with [`ParameterSetCache`].
//! 2. With DAVE: [`dave::split_frame`], encrypt, and for H26x retry while
//!    [`dave::has_start_code_in_encrypted`] says so. (VP9: take [`Vp9FrameInfo`] from the
//!    plaintext first.)
//! 3. `packetize(frame)` on the codec's packetizer, then call [`Packets::next_into`] until it
//!    returns `None`; each [`Payload`] says how many bytes were written and whether to set the
//!    RTP marker bit. Every packet of the frame gets the same RTP timestamp.
//!
//! # Receiving
//!
//! Feed each RTP payload of a frame, in sequence order, to [`Depacketize::push`] with the
//! marker bit; the marker packet returns the [`Frame`]. On a sequence gap call
//! [`Depacketize::reset`] (the jitter buffer knows about gaps; this crate does not see sequence
//! numbers). Malformed payloads are errors, never panics. The frame bytes are exactly what the
//! sender's DAVE step authenticated: H26x with a 4-byte start code before every NAL unit, AV1
//! with `obu_size` on every OBU but the last.
//!
//! ```
//! use voxwire_video::{
//!     Depacketize, DepacketizerConfig, H26xDepacketizer, H26xPacketizer, Packets,
//!     PacketizerConfig,
//! };
//!
//! // An access unit: SPS, PPS (3-byte start code) and a 3,000-byte IDR slice.
//! let mut frame = vec![0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80];
//! frame.extend_from_slice(&[0, 0, 0, 1, 0x65]);
//! frame.extend((0..3000u32).map(|i| (i % 200) as u8 + 1));
//!
//! let mut packetizer = H26xPacketizer::h264(PacketizerConfig::with_mtu(1200))?;
//! let mut depacketizer = H26xDepacketizer::h264(DepacketizerConfig::default());
//! let mut packets = packetizer.packetize(&frame)?;
//! let mut buf = [0u8; 1200];
//! let mut received = None;
//! while let Some(payload) = packets.next_into(&mut buf) {
//!     let payload = payload?;
//!     // (an RTP header, extensions and transport encryption go around buf[..payload.len])
//!     if let Some(f) = depacketizer.push(&buf[..payload.len], payload.marker)? {
//!         assert!(f.keyframe);
//!         received = Some(f.data.to_vec());
//!     }
//! }
//! // The PPS now has a 4-byte start code too.
//! let mut expected = frame.clone();
//! expected.insert(8, 0);
//! assert_eq!(received.unwrap(), expected);
//! # Ok::<(), voxwire_video::Error>(())
//! ```
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

/// `true` when `frame` (plaintext, or DAVE-encrypted for every codec but VP9, whose key-frame
/// flag is then in [`Vp9FrameInfo`]) starts a decodable sequence.
pub fn is_keyframe(codec: Codec, frame: &[u8]) -> bool {
    match codec {
        Codec::H264 | Codec::H265 => h26x::is_keyframe(codec, frame),
        Codec::Vp8 => vp8::is_keyframe(frame),
        Codec::Vp9 => vp9::is_keyframe(frame),
        Codec::Av1 => av1::is_keyframe(frame),
    }
}
