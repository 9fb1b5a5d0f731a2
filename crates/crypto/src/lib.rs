//! Discord transport encryption and DAVE end-to-end encryption.
//!
//! - [`transport`]: per-packet encryption of RTP and RTCP (the rtpsize AEAD modes, and the
//!   deprecated xsalsa20 modes for old captures and the local server).
//! - [`dave`]: DAVE end-to-end encryption of media frames, the key ratchet and the MLS session.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dave;
mod error;
pub mod transport;

pub use error::Error;
