//! Discord transport encryption (aead_aes256_gcm_rtpsize, aead_xchacha20_poly1305_rtpsize, and the deprecated xsalsa20_poly1305 modes) and DAVE end-to-end encryption: frame encryption, key ratchet and the MLS session.
//!
//! This crate is part of voxwire. It is not built yet: this page says what it will hold.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
