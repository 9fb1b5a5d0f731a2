//! Transport encryption of RTP and RTCP packets (Discord voice "encryption modes").
//!
//! Discord encrypts every UDP media packet hop-by-hop with the 32-byte `secret_key` of the
//! voice gateway's Session Description, in the mode chosen by Select Protocol. This module
//! implements all seven modes Discord has used:
//!
//! | mode | cipher | clear header (RTP / RTCP) | packet after the clear header |
//! | --- | --- | --- | --- |
//! | `aead_aes256_gcm_rtpsize` | AES-256-GCM (NIST SP 800-38D) | 12+4·CC(+4 if X) / 8, authenticated | `ct ‖ tag16 ‖ n4` |
//! | `aead_xchacha20_poly1305_rtpsize` | XChaCha20-Poly1305 (RFC 8439 + draft-irtf-cfrg-xchacha) | same | `ct ‖ tag16 ‖ n4` |
//! | `xsalsa20_poly1305_lite_rtpsize` (deprecated) | NaCl secretbox | same, not authenticated | `mac16 ‖ ct ‖ n4` |
//! | `aead_aes256_gcm` (deprecated) | AES-256-GCM | 12 / 8, authenticated | `ct ‖ tag16 ‖ n4` |
//! | `xsalsa20_poly1305_lite` (deprecated) | secretbox | 12 / 8 | `mac16 ‖ ct ‖ n4` |
//! | `xsalsa20_poly1305_suffix` (deprecated) | secretbox | 12 / 8 | `mac16 ‖ ct ‖ nonce24` |
//! | `xsalsa20_poly1305` (deprecated) | secretbox, nonce = clear header ‖ 0s | 12 / 8 | `mac16 ‖ ct` |
//!
//! In the rtpsize modes the clear, authenticated RTP header is the fixed header (RFC 3550), the
//! CSRCs and the 4-byte RFC 8285 extension preamble (`BE DE LL LL`); the extension *elements*
//! are encrypted with the payload. The 4-byte nonce suffix `n4` is a big-endian per-key counter;
//! the cipher's nonce is `n4 ‖ 0^8` (AES-GCM, 12 bytes) or `n4 ‖ 0^20` (XChaCha, 24 bytes).
//! RTCP keeps its first 8 bytes (V/P/RC, PT, length, sender SSRC) in the clear; the rest of the
//! compound packet is encrypted. See `docs/protocol.md`, sections 4.5 and 5.
//!
//! # Use
//!
//! 1. Pick the mode from Ready's `modes` with [`TransportMode::negotiate`] and send its
//!    [`name`](TransportMode::name) in Select Protocol.
//! 2. On Session Description, build one [`TransportCipher`] from the mode and `secret_key`.
//! 3. Per outgoing packet, write the plain RTP (or RTCP) packet into a buffer with
//!    [`overhead`](TransportCipher::overhead) spare bytes and call
//!    [`encrypt_rtp`](TransportCipher::encrypt_rtp) (or
//!    [`encrypt_rtcp`](TransportCipher::encrypt_rtcp)); send the returned length.
//! 4. Per incoming datagram, classify RTP/RTCP (protocol.md 4.1) and call
//!    [`decrypt_rtp`](TransportCipher::decrypt_rtp) or
//!    [`decrypt_rtcp`](TransportCipher::decrypt_rtcp) on exactly the datagram's bytes. Drop the
//!    packet on any error.
//!
//! ```
//! use voxwire_crypto::transport::{TransportCipher, TransportMode};
//!
//! let mode = TransportMode::negotiate(["aead_xchacha20_poly1305_rtpsize", "aead_aes256_gcm_rtpsize"])?;
//! let key = [7u8; 32]; // Session Description `secret_key`
//! let mut tx = TransportCipher::new(mode, &key)?;
//! let rx = TransportCipher::new(mode, &key)?;
//!
//! // An RTP packet with a one-byte header extension (audio level, id 1) and an Opus payload.
//! let mut buf = [0u8; 1500];
//! let plain = [
//!     0x90, 0x78, 0x00, 0x01, 0x00, 0x00, 0x03, 0xC0, 0x11, 0x22, 0x33, 0x44, // header, X=1
//!     0xBE, 0xDE, 0x00, 0x01, // extension preamble: one 32-bit word of elements
//!     0x10, 0x7F, 0x00, 0x00, // element id 1, len 1, value 0x7F; padding
//!     0xF8, 0xFF, 0xFE, // payload: Opus silence
//! ];
//! buf[..plain.len()].copy_from_slice(&plain);
//! let n = tx.encrypt_rtp(&mut buf, plain.len())?;
//! assert_eq!(n, plain.len() + tx.overhead());
//!
//! let d = rx.decrypt_rtp(&mut buf[..n])?;
//! assert_eq!(&buf[..d.len], &plain[..]); // the buffer now holds the plain packet
//! assert_eq!(&buf[d.extension.unwrap().elements], &[0x10, 0x7F, 0x00, 0x00]);
//! assert_eq!(&buf[d.payload], &[0xF8, 0xFF, 0xFE]);
//! # Ok::<(), voxwire_crypto::Error>(())
//! ```
//!
//! # Invariants
//!
//! - **No allocation per packet.** Encryption and decryption work in place in the caller's
//!   buffer. After [`decrypt_rtp`](TransportCipher::decrypt_rtp) the buffer's first
//!   [`Decrypted::len`] bytes are the plain RTP packet, laid out exactly as before encryption
//!   (for the secretbox modes the plaintext is moved over the MAC), so any RTP parser can read
//!   it.
//! - **A nonce never repeats under one key.** The counter starts at a random value (or
//!   [`TransportConfig::first_nonce`]), wraps from `u32::MAX` to 0, and counts what it used:
//!   after 2^32 packets (or [`TransportConfig::nonce_budget`]) encryption fails with
//!   [`Error::NonceExhausted`], telling the caller to re-key (reconnect), never reusing a
//!   nonce. RTP and RTCP share the counter, as Discord's clients do. At 1,000 packets/s a key
//!   lasts about 50 days. Exception: `xsalsa20_poly1305` takes its nonce from the clear header
//!   by definition, which is one reason it was retired.
//! - **Nothing is written for the caller to use unless authentication succeeds**, and a packet
//!   that authenticates but is malformed (bad padding count, extension past the end) is an
//!   error too. No input panics.
//! - **Keys are zeroized on drop.** The raw key copies this module holds are wrapped in
//!   `zeroize::Zeroizing`; RustCrypto ciphers zeroize their key schedules on drop. ring keeps
//!   its expanded AES key schedule privately and does not zeroize it (ring's design); choose
//!   [`Backend::RustCrypto`] where that matters more than speed.
//! - Decryption takes `&self`: one receiving cipher may be shared between threads.
//!
//! # Backend choice
//!
//! The targets on the reference 2-core machine were at most 150 ns for AES-256-GCM and 400 ns
//! for XChaCha20-Poly1305 per 160-byte packet, encrypt or decrypt of the whole RTP packet.
//! RustCrypto's `aes-gcm` needs about 210 ns and `chacha20poly1305` about 1,900 ns there (its
//! Poly1305 alone takes 1.5 µs for 160 bytes), so the default backend is **ring** (assembly
//! AES-GCM and ChaCha20-Poly1305, about 120 ns and 215 ns for the bare AEAD). ring has no
//! XChaCha20, so this module derives the per-packet subkey with its own HChaCha20 and runs
//! ring's IETF ChaCha20-Poly1305 with nonce `0^4 ‖ nonce[16..24]` (draft-irtf-cfrg-xchacha,
//! section 2.3); the differential tests check it against RustCrypto's `XChaCha20Poly1305`. ring
//! was chosen over aws-lc-rs, which is as fast, because it builds quickly with no cmake and is
//! already in the workspace through rustls. The cargo feature `rustcrypto` adds the pure-Rust
//! backend (for targets without ring, or to get zeroized key schedules); with both compiled in,
//! [`TransportConfig::backend`] selects one per cipher. The deprecated secretbox modes always
//! use RustCrypto's `crypto_secretbox`.
//!
//! What a packet costs above ring's bare AEAD is kept small on purpose (the bench group
//! `transport/parts/160B` measures each piece):
//!
//! - the RTP header is read once per packet, in one pass, with errors built off the hot path;
//! - the nonce goes to the cipher as its 4 wire bytes and is zero-padded in registers (a nonce
//!   buffer assembled from parts and read back whole stalls store-to-load forwarding);
//! - ring's AES-GCM key is expanded once per cipher; for XChaCha20 the subkey changes with
//!   every nonce, so ring's ChaCha20 key is built per packet, in the frame that uses it (it is a
//!   544-byte object: each move is a `memcpy`), and only our 32-byte subkey copy is zeroized;
//! - HChaCha20 is this crate's (`hchacha.rs`): the rounds unrolled over a row-form state, the
//!   key read into state words once per cipher, the counter nonce built in a register. In this
//!   path it saves 20–25 ns per packet over the `chacha20` crate's `hchacha` (measured by
//!   swapping it in). It costs about 90–105 ns, a quarter of an XChaCha20 packet, and is bound
//!   by scalar ALU throughput (960 add/xor/rotate operations); a 4-lane SSE2 form of one block
//!   has a longer dependency chain per round, and `std::arch` intrinsics would need `unsafe`.
//!
//! Measured figures are in the crate README.
//!
//! # Deliberate differences
//!
//! - The legacy non-rtpsize modes keep only the 12-byte fixed header clear and encrypt the
//!   CSRCs with the payload (protocol.md 5.4); songbird keeps CSRCs clear. Discord never sent
//!   CSRCs, so both agree on every real packet.
//! - `xsalsa20_poly1305_suffix` traditionally draws 24 random nonce bytes per packet. Here the
//!   nonce is a random 20-byte prefix drawn once per key followed by the 4-byte counter: as
//!   unique, with no RNG call per packet, and indistinguishable to a receiver.

mod backend;
#[cfg(feature = "ring")]
mod hchacha;
mod layout;
mod mode;
mod nonce;

use std::fmt;
use std::ops::Range;

use zeroize::Zeroizing;

pub use backend::Backend;
use backend::{PacketNonce, Primitive};
pub use layout::Extension;
use layout::RtpHeader;
pub use mode::{KEY_LEN, NONCE_SUFFIX_LEN, RTCP_CLEAR_LEN, TAG_LEN, TransportMode};
use mode::{NonceSource, RTP_FIXED_LEN};
pub use nonce::NONCE_SPACE;
use nonce::NonceCounter;

use crate::Error;

/// Options for a [`TransportCipher`]. The defaults suit production; tests and the local server
/// pin the backend or the first nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportConfig {
    backend: Backend,
    first_nonce: Option<u32>,
    nonce_budget: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self { backend: Backend::fastest(), first_nonce: None, nonce_budget: NONCE_SPACE }
    }
}

impl TransportConfig {
    /// The defaults: the fastest compiled-in backend, a random first nonce, 2^32 packets per key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects the implementation of the AEAD modes.
    #[must_use]
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Starts the nonce counter at `first` instead of a random value.
    #[must_use]
    pub fn first_nonce(mut self, first: u32) -> Self {
        self.first_nonce = Some(first);
        self
    }

    /// Limits how many packets this key may encrypt before [`Error::NonceExhausted`] (to re-key
    /// early). Values above 2^32 are clamped to 2^32, the size of the nonce space.
    #[must_use]
    pub fn nonce_budget(mut self, packets: u64) -> Self {
        self.nonce_budget = packets.min(NONCE_SPACE);
        self
    }
}

/// Where the parts of a decrypted RTP packet lie in the caller's buffer.
///
/// `buf[..len]` is the plain RTP packet: the header as received, then the decrypted extension
/// elements, payload and padding. All ranges index that same buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decrypted {
    /// Length of the plain RTP packet at the start of the buffer.
    pub len: usize,
    /// End of the fixed header and CSRC list (`12 + 4·CC`); CSRCs are `buf[12..csrc_end]`.
    pub csrc_end: usize,
    /// The header extension, if X was set: its profile and the decrypted elements.
    pub extension: Option<Extension>,
    /// The media payload (Opus, DAVE or video payload), padding excluded.
    pub payload: Range<usize>,
    /// Bytes of RTP padding after the payload (0 unless P was set).
    pub padding: usize,
}

/// Encrypts and decrypts the packets of one voice connection under one key and mode.
///
/// Create one per Session Description. Sending needs `&mut self` (the nonce counter);
/// receiving needs only `&self`.
pub struct TransportCipher {
    mode: TransportMode,
    backend: Backend,
    primitive: Primitive,
    counter: NonceCounter,
    /// First 20 nonce bytes of `xsalsa20_poly1305_suffix`, drawn once per key.
    suffix_prefix: [u8; 20],
}

impl fmt::Debug for TransportCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportCipher")
            .field("mode", &self.mode)
            .field("backend", &self.backend)
            .field("nonces_remaining", &self.counter.remaining())
            .finish_non_exhaustive()
    }
}

impl TransportCipher {
    /// A cipher for `mode` under the 32-byte `key`, with the default [`TransportConfig`].
    pub fn new(mode: TransportMode, key: &[u8]) -> Result<Self, Error> {
        Self::with_config(mode, key, &TransportConfig::default())
    }

    /// A cipher for `mode` under the 32-byte `key`.
    pub fn with_config(
        mode: TransportMode,
        key: &[u8],
        config: &TransportConfig,
    ) -> Result<Self, Error> {
        let key: Zeroizing<[u8; KEY_LEN]> =
            Zeroizing::new(key.try_into().map_err(|_| Error::KeyLength { actual: key.len() })?);
        let primitive = Primitive::new(mode.algorithm(), config.backend, &key)?;
        let first = config.first_nonce.unwrap_or_else(rand::random);
        let suffix_prefix =
            if mode.nonce_source() == NonceSource::Suffix24 { rand::random() } else { [0; 20] };
        Ok(Self {
            mode,
            backend: config.backend,
            primitive,
            counter: NonceCounter::new(first, config.nonce_budget),
            suffix_prefix,
        })
    }

    /// The mode.
    pub fn mode(&self) -> TransportMode {
        self.mode
    }

    /// The backend running the AEAD modes.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Bytes that encryption adds to each packet (RTP and RTCP): the buffer passed to
    /// [`encrypt_rtp`](Self::encrypt_rtp) needs this much room after the plain packet.
    pub fn overhead(&self) -> usize {
        self.mode.overhead()
    }

    /// Packets this cipher may still encrypt before [`Error::NonceExhausted`].
    pub fn nonces_remaining(&self) -> u64 {
        self.counter.remaining()
    }

    /// Encrypts the plain RTP packet `buf[..len]` in place and returns the length to send,
    /// `len + overhead()`. `buf` must be at least that long.
    ///
    /// The packet is checked first (version 2, CSRCs, extension and padding within `len`); on
    /// any error nothing is consumed and `buf` is unchanged.
    pub fn encrypt_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let Some(plain) = buf.get(..len) else {
            return Err(buffer_too_small(len, buf.len()));
        };
        let header = RtpHeader::read(plain)?;
        header.check_plain(plain)?;
        let clear = if self.mode.is_rtpsize() { header.rtpsize_len } else { RTP_FIXED_LEN };
        self.seal(buf, len, clear)
    }

    /// Decrypts the received RTP datagram `buf` (exactly its bytes) in place and tells where its
    /// parts are. On error, drop the packet: `buf` holds nothing usable.
    pub fn decrypt_rtp(&self, buf: &mut [u8]) -> Result<Decrypted, Error> {
        let (header, len) = if self.mode.is_rtpsize() {
            // The header is clear and authenticated: read it once, before opening.
            let header = RtpHeader::read(buf)?;
            (header, self.open(buf, header.rtpsize_len)?)
        } else {
            layout::check_version(buf)?;
            if buf.len() < RTP_FIXED_LEN {
                return Err(truncated(RTP_FIXED_LEN, buf.len()));
            }
            let len = self.open(buf, RTP_FIXED_LEN)?;
            // CSRCs and the extension preamble were encrypted: read the header after opening.
            (RtpHeader::read(buf.get(..len).unwrap_or_default())?, len)
        };
        // `open` returns a length within `buf`.
        let plain = buf.get(..len).unwrap_or_default();
        let (body, padding) = header.check_plain(plain)?;
        Ok(Decrypted {
            len,
            csrc_end: header.csrc_end,
            extension: header.extension(plain, body),
            payload: body..len - padding,
            padding,
        })
    }

    /// Encrypts the plain (compound) RTCP packet `buf[..len]` in place, keeping its first 8
    /// bytes clear, and returns the length to send, `len + overhead()`.
    pub fn encrypt_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let Some(plain) = buf.get(..len) else {
            return Err(buffer_too_small(len, buf.len()));
        };
        layout::check_version(plain)?;
        if len < RTCP_CLEAR_LEN {
            return Err(truncated(RTCP_CLEAR_LEN, len));
        }
        self.seal(buf, len, RTCP_CLEAR_LEN)
    }

    /// Decrypts the received RTCP datagram `buf` in place and returns the length of the plain
    /// compound packet now at `buf[..n]`. Parse it with the usual RTCP length walk.
    pub fn decrypt_rtcp(&self, buf: &mut [u8]) -> Result<usize, Error> {
        layout::check_version(buf)?;
        self.open(buf, RTCP_CLEAR_LEN)
    }

    /// Encrypts `buf[clear..len]` with `buf[..clear]` as the clear header. `len >= clear` and
    /// `clear <= 24` hold for every caller.
    #[inline]
    fn seal(&mut self, buf: &mut [u8], len: usize, clear: usize) -> Result<usize, Error> {
        let total = len + self.mode.overhead();
        let Some(buf) = buf.get_mut(..total) else {
            return Err(buffer_too_small(total, buf.len()));
        };
        let nonce = match self.mode.nonce_source() {
            NonceSource::Suffix4 => PacketNonce::Suffix(self.counter.take()?.to_be_bytes()),
            NonceSource::Suffix24 => {
                let mut full = [0u8; 24];
                full[..20].copy_from_slice(&self.suffix_prefix);
                full[20..].copy_from_slice(&self.counter.take()?.to_be_bytes());
                PacketNonce::Full(full)
            }
            NonceSource::Header => {
                let mut full = [0u8; 24];
                full[..clear].copy_from_slice(&buf[..clear]);
                PacketNonce::Full(full)
            }
        };
        let body = len - clear;
        if self.mode.authenticates_header() {
            // clear ‖ ct ‖ tag ‖ suffix
            let (aad, rest) = buf.split_at_mut(clear);
            let (ct, rest) = rest.split_at_mut(body);
            self.primitive.seal(nonce, aad, ct, &mut rest[..TAG_LEN])?;
        } else {
            // clear ‖ mac ‖ ct ‖ suffix: move the plaintext up to make room for the MAC.
            buf.copy_within(clear..len, clear + TAG_LEN);
            let (mac, ct) = buf[clear..].split_at_mut(TAG_LEN);
            self.primitive.seal(nonce, &[], &mut ct[..body], mac)?;
        }
        match nonce {
            PacketNonce::Suffix(n) => buf[total - NONCE_SUFFIX_LEN..].copy_from_slice(&n),
            PacketNonce::Full(n) if self.mode.nonce_source() == NonceSource::Suffix24 => {
                buf[total - n.len()..].copy_from_slice(&n);
            }
            PacketNonce::Full(_) => {}
        }
        Ok(total)
    }

    /// Authenticates and decrypts the datagram `buf` whose first `clear` bytes are clear.
    /// Returns the plain packet's length; the plain packet is at `buf[..len]`.
    #[inline]
    fn open(&self, buf: &mut [u8], clear: usize) -> Result<usize, Error> {
        let expected = clear + self.mode.overhead();
        if buf.len() < expected {
            return Err(truncated(expected, buf.len()));
        }
        let (end, nonce) = match self.mode.nonce_source() {
            NonceSource::Suffix4 => {
                let (rest, n) = buf.split_at(buf.len() - NONCE_SUFFIX_LEN);
                let Ok(n) = <[u8; NONCE_SUFFIX_LEN]>::try_from(n) else {
                    return Err(Error::Authentication);
                };
                (rest.len(), PacketNonce::Suffix(n))
            }
            NonceSource::Suffix24 => {
                let (rest, n) = buf.split_at(buf.len() - 24);
                let Ok(n) = <[u8; 24]>::try_from(n) else { return Err(Error::Authentication) };
                (rest.len(), PacketNonce::Full(n))
            }
            NonceSource::Header => {
                let mut full = [0u8; 24];
                full[..clear].copy_from_slice(&buf[..clear]);
                (buf.len(), PacketNonce::Full(full))
            }
        };
        let plain_len = end - TAG_LEN;
        let (aad, rest) = buf[..end].split_at_mut(clear);
        if self.mode.authenticates_header() {
            let (ct, tag) = rest.split_at_mut(plain_len - clear);
            let Ok(tag) = <&[u8; TAG_LEN]>::try_from(&*tag) else {
                return Err(Error::Authentication);
            };
            self.primitive.open(nonce, aad, ct, tag)?;
        } else {
            let (mac, ct) = rest.split_at_mut(TAG_LEN);
            let Ok(mac) = <&[u8; TAG_LEN]>::try_from(&*mac) else {
                return Err(Error::Authentication);
            };
            self.primitive.open(nonce, &[], ct, mac)?;
            buf.copy_within(clear + TAG_LEN..end, clear);
        }
        Ok(plain_len)
    }
}

#[cold]
#[inline(never)]
fn truncated(expected: usize, actual: usize) -> Error {
    Error::Truncated { expected, actual }
}

#[cold]
#[inline(never)]
fn buffer_too_small(needed: usize, capacity: usize) -> Error {
    Error::BufferTooSmall { needed, capacity }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x42; 32];

    fn rtp(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 0x78, 0x12, 0x34, 0, 0, 0x03, 0xC0, 0xDE, 0xAD, 0xBE, 0xEF];
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn rejects_bad_keys_and_small_buffers() {
        let mode = TransportMode::AeadAes256GcmRtpsize;
        assert!(matches!(
            TransportCipher::new(mode, &[0; 31]),
            Err(Error::KeyLength { actual: 31 })
        ));
        let mut c = TransportCipher::new(mode, &KEY).unwrap();
        let p = rtp(b"abc");
        let mut buf = p.clone();
        buf.resize(p.len() + 19, 0);
        assert!(matches!(
            c.encrypt_rtp(&mut buf, p.len()),
            Err(Error::BufferTooSmall { needed: 35, capacity: 34 })
        ));
        assert_eq!(&buf[..p.len()], &p[..], "buffer untouched on error");
        assert_eq!(c.nonces_remaining(), NONCE_SPACE, "no nonce consumed on error");
        assert!(matches!(c.encrypt_rtp(&mut buf, 99), Err(Error::BufferTooSmall { .. })));
    }

    #[test]
    fn nonce_suffix_is_big_endian_counter() {
        let cfg = TransportConfig::new().first_nonce(0x0102_0304);
        let mut c =
            TransportCipher::with_config(TransportMode::AeadXChaCha20Poly1305Rtpsize, &KEY, &cfg)
                .unwrap();
        let p = rtp(b"hello");
        let mut buf = vec![0; 100];
        buf[..p.len()].copy_from_slice(&p);
        let n = c.encrypt_rtp(&mut buf, p.len()).unwrap();
        assert_eq!(&buf[n - 4..n], &[1, 2, 3, 4]);
        buf[..p.len()].copy_from_slice(&p);
        let n = c.encrypt_rtp(&mut buf, p.len()).unwrap();
        assert_eq!(&buf[n - 4..n], &[1, 2, 3, 5]);
    }

    #[test]
    fn rtcp_header_only_is_28_bytes() {
        let mut c = TransportCipher::new(TransportMode::AeadAes256GcmRtpsize, &KEY).unwrap();
        let rr = [0x80, 201, 0, 1, 1, 2, 3, 4];
        let mut buf = [0u8; 64];
        buf[..8].copy_from_slice(&rr);
        let n = c.encrypt_rtcp(&mut buf, 8).unwrap();
        assert_eq!(n, 8 + 16 + 4);
        assert_eq!(c.decrypt_rtcp(&mut buf[..n]).unwrap(), 8);
        assert_eq!(&buf[..8], &rr);
    }

    #[test]
    fn cipher_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<TransportCipher>();
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let c = TransportCipher::new(TransportMode::AeadAes256GcmRtpsize, &KEY).unwrap();
        let s = format!("{c:?}");
        assert!(s.contains("AeadAes256GcmRtpsize") && !s.contains("66"), "{s}");
    }
}
