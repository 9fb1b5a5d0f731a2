//! RTCP packet views and builders: SR, RR, SDES, BYE, APP (RFC 3550), generic NACK and PLI
//! (RFC 4585), FIR (RFC 5104), REMB (draft-alvestrand-rmcat-remb), transport-wide congestion
//! control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), compound packets
//! (RFC 3550 §6.1) and reduced-size RTCP (RFC 5506).
//!
//! # Call order
//!
//! Receiving: [`Compound::parse`] on the decrypted datagram validates every packet once, then
//! [`Compound::packets`] yields typed [`RtcpPacket`] views whose accessors cannot fail. Single
//! packets: [`RawPacket::split`] frames one, and each type's `parse(&raw)` decodes it.
//!
//! Sending: fill a builder ([`SenderReportBuilder`], [`ReceiverReportBuilder`],
//! [`SdesBuilder`], [`ByeBuilder`], [`AppBuilder`], [`NackBuilder`], [`Pli`], [`FirBuilder`],
//! [`RembBuilder`], [`TransportCcBuilder`]); every one implements [`WriteRtcp`], whose
//! `calculate_size()` tells the size in advance and `write_into()` writes into a caller buffer.
//! [`write_compound`] writes several back to back.
//!
//! # Invariants
//!
//! Nothing here allocates, panics on any input, reads a clock or does I/O. Views borrow the
//! input. There is one error type, [`Error`].
//!
//! # Example
//!
//! ```
//! use voxwire_rtcp::{Compound, NackBuilder, RtcpPacket, WriteRtcp};
//! use voxwire_rtp::{SeqNo, Ssrc};
//!
//! let lost = [SeqNo(100), SeqNo(101), SeqNo(116), SeqNo(117)];
//! let nack = NackBuilder { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2), lost: &lost };
//! let mut buf = [0u8; 32];
//! let n = nack.write_into(&mut buf)?;
//! assert_eq!(n, 20); // header + SSRCs + two PID/BLP entries
//! let c = Compound::parse(&buf[..n])?;
//! let Some(RtcpPacket::Nack(parsed)) = c.packets().next() else { panic!() };
//! assert!(parsed.lost().eq(lost));
//! # Ok::<(), voxwire_rtcp::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod compound;
mod error;
pub mod feedback;
pub mod header;
mod reader;
pub mod report;
pub mod sdes;
pub mod twcc;

pub use compound::{Compound, RtcpPacket, compound_size, write_compound};
pub use error::Error;
pub use feedback::{
    Fir, FirBuilder, FirEntry, Nack, NackBuilder, NackLost, NackPair, Pli, Remb, RembBuilder,
    nack_pairs,
};
pub use header::{RawPacket, WriteRtcp};
pub use report::{
    ReceiverReport, ReceiverReportBuilder, ReportBlock, SenderInfo, SenderReport,
    SenderReportBuilder,
};
pub use sdes::{App, AppBuilder, Bye, ByeBuilder, Sdes, SdesBuilder, SdesChunk, SdesItem};
pub use twcc::{TransportCc, TransportCcBuilder, TwccPacket, TwccStatus};
