//! Discord transport encryption and DAVE end-to-end encryption.
//!
//! - [`transport`]: per-packet encryption of RTP and RTCP (the rtpsize AEAD modes, and the
//!   deprecated xsalsa20 modes for old captures and the local server).
//! - [`dave`]: DAVE end-to-end encryption of media frames, the key ratchet and the MLS session.
//!
//! Both are sans-IO: they work in caller buffers, never read a clock, and allocate nothing per
//! packet.
//!
//! # Cargo features
//!
//! - `ring` (default): the fast transport backend (ring's AES-256-GCM and ChaCha20-Poly1305,
//!   with this crate's HChaCha20 for XChaCha20-Poly1305).
//! - `rustcrypto`: the pure-Rust transport backend (`aes-gcm`, `chacha20poly1305`). Build with
//!   `--no-default-features --features rustcrypto` for a crate without ring; with both enabled,
//!   [`transport::TransportConfig::backend`] picks one per cipher. At least one must be on.
//!
//! The reasons for the default, and the measured figures, are in the [`transport`] docs and the
//! crate README.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dave;
mod error;
pub mod transport;

pub use error::Error;
