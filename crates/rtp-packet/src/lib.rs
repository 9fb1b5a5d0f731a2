//! Zero-copy RTP (RFC 3550) packet views and writers, RFC 8285 header extensions,
//! sequence-number and timestamp arithmetic with wrap-around, and Discord's UDP control
//! packets (IP discovery, keepalives, ping).
//!
//! # What is here
//!
//! - [`RtpPacket`]: a view over `&[u8]`. [`RtpPacket::parse`] validates every length once
//!   (version, CSRC list, extension block and its RFC 8285 elements, padding); accessors cannot
//!   fail. Padding is stripped from the payload.
//! - [`ext`]: RFC 8285 one-byte (`0xBEDE`) and two-byte (`0x100X`) header-extension elements:
//!   iterate, look up by id, write.
//! - [`RtpPacketBuilder`]: describes a packet; [`RtpPacketBuilder::calculate_size`] gives its
//!   size, [`RtpPacketBuilder::write_into`] writes it into a caller buffer. No allocation.
//! - [`seq`]: [`SeqNo`], [`RtpTimestamp`] with RFC 1982 serial arithmetic, and
//!   [`SeqUnwrapper`] / [`TimestampUnwrapper`] producing 64-bit [`ExtendedSeq`] /
//!   [`ExtendedTimestamp`]. Also [`Ssrc`] and [`PayloadType`].
//! - [`RtpsizeLayout`] and [`RtpPacket::rtpsize_header_len`]: the clear-header (AAD) length of
//!   Discord's `*_rtpsize` transport modes, readable from a still-encrypted datagram.
//! - [`discord`]: IP discovery (74 bytes), the native UDP ping and the keepalive forms.
//! - [`demux`]: classifies each datagram on the shared socket (RFC 5761 RTP/RTCP muxing).
//!
//! # Invariants
//!
//! Nothing here panics on any input, allocates, reads a clock or does I/O. There is one error
//! type, [`Error`]; each variant says what was being read and by how much it failed.
//!
//! # Example
//!
//! ```
//! use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, SeqUnwrapper, Ssrc};
//!
//! // Build an Opus packet into a stack buffer...
//! let opus = [0xF8, 0xFF, 0xFE];
//! let b = RtpPacketBuilder::new(PayloadType::DISCORD_OPUS, SeqNo(65_535), RtpTimestamp(0), Ssrc(1))
//!     .payload(&opus);
//! let mut buf = [0u8; 64];
//! let n = b.write_into(&mut buf)?;
//!
//! // ...parse it back, and unwrap its sequence number across the wrap.
//! let p = RtpPacket::parse(&buf[..n])?;
//! let mut unwrap = SeqUnwrapper::new();
//! let first = unwrap.unwrap(p.sequence_number());
//! let next = unwrap.unwrap(p.sequence_number().next());
//! assert_eq!(next.get() - first.get(), 1);
//! assert_eq!(p.payload(), &opus);
//! # Ok::<(), voxwire_rtp::Error>(())
//! ```
//!
//! # Why not an existing crate
//!
//! `rtp` (webrtc-rs) allocates per packet (CSRC and extension `Vec`s, a `Bytes` copy of the
//! payload); `rtp-types` is close in spirit but has neither the serial-number unwrappers, the
//! rtpsize layout nor Discord's control packets. The code here is small enough to own.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod demux;
pub mod discord;
mod error;
pub mod ext;
mod packet;
pub mod seq;
mod types;
mod writer;

pub use error::Error;
pub use ext::{ExtensionElement, ExtensionElements, ExtensionForm, HeaderExtension};
pub use packet::{EXTENSION_PREAMBLE_LEN, FIXED_HEADER_LEN, RTP_VERSION, RtpPacket, RtpsizeLayout};
pub use seq::{
    ExtendedSeq, ExtendedTimestamp, RtpTimestamp, SeqNo, SeqUnwrapper, TimestampUnwrapper,
};
pub use types::{PayloadType, Ssrc};
pub use writer::RtpPacketBuilder;
