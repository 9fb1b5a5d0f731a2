//! Zero-copy RTP (RFC 3550) packet views and writers, RFC 8285 header extensions,
//! sequence-number and timestamp arithmetic with wrap-around, and Discord's IP-discovery packets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod seq;
mod types;

pub use error::Error;
pub use seq::{
    ExtendedSeq, ExtendedTimestamp, RtpTimestamp, SeqNo, SeqUnwrapper, TimestampUnwrapper,
};
pub use types::{PayloadType, Ssrc};
