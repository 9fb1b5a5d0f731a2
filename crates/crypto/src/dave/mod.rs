//! DAVE end-to-end encryption of media frames (Discord's DAVE protocol v1, on MLS, RFC 9420;
//! protocol.md section 7).
//!
//! # Parts
//!
//! - [`DaveSession`]: a call member (client side), sans-IO. MLS group state (key packages,
//!   proposals, commits, welcomes) is `davey`'s; the sender key derivation (MLS exporter, hash
//!   ratchet), the frame layer and the whole receive path are this module's own.
//! - [`ExternalSender`]: the voice server's role, sans-IO, on `openmls` (the version davey uses).
//! - Frame layer: [`FrameEncryptor`], [`ProtocolFrame`], [`FrameCipher`], [`KeyRatchet`].
//! - [`codes`]: the voice privacy code and pairwise verification codes.
//!
//! # Call order (client)
//!
//! 1. [`DaveSession::new`]; then feed the gateway: op 4's `dave_protocol_version` to
//!    [`DaveSession::handle_session_description`], op 11/13 to `handle_clients_connect` /
//!    `handle_client_disconnect`, ops 21/22/24 to the `handle_*_transition`/`handle_prepare_epoch`
//!    methods, binary ops 25/27/29/30 to [`DaveSession::handle_binary`], and every SSRC→user
//!    mapping (op 5, op 12) to [`DaveSession::map_ssrc`].
//! 2. After each call, drain [`DaveSession::poll_transmit`] (ops 23, 26, 28, 31 to send) and
//!    [`DaveSession::poll_event`], then [`DaveSession::poll_frame`] (held frames released).
//! 3. Media: [`DaveSession::encrypt_opus`] / [`DaveSession::encrypt`] before packetizing;
//!    [`DaveSession::decrypt`] after reassembly. Call [`DaveSession::handle_timeout`] at
//!    [`DaveSession::poll_timeout`]. `now` must be monotonic.
//!
//! # Invariants of the receive path
//!
//! - A frame is never lost when it could still be decrypted: frames whose SSRC is not mapped yet,
//!   or whose key (new epoch, or a member whose commit is not processed yet) is not installed,
//!   are held (bounded by [`DaveSessionConfig::max_held_frames`] and
//!   [`DaveSessionConfig::hold_duration`]) and released by `poll_frame`.
//! - Keys of older epochs and generations stay usable for [`KEY_RETENTION`] (10 s), also for
//!   members who left, so frames in flight across a transition decrypt.
//! - Replays are refused (one decryption per nonce); the opus silence frame always passes; plain
//!   frames pass only while passthrough is allowed (7.8).
//! - Every dropped frame is counted by reason in [`DaveReceiveStats`].
//!
//! # Why an own frame layer
//!
//! davey copies every frame's clear and encrypted parts into scratch buffers before the AEAD,
//! writes into `Vec` outputs, and reads the system clock in its decryptor. This frame layer
//! streams GHASH and CTR over the interleaved layout directly in the caller's buffers (no
//! allocation and no extra copy per frame) and takes time as an argument. It is differential-tested against davey in the same MLS group: davey's
//! encryptor for all six codecs against our decryptor, and byte-identical Opus output
//! (`tests/dave_davey_differential.rs`).
//!
//! # Deliberate differences from libdave and davey
//!
//! - The send key switches on execute (op 22, or at once for transition 0), as the whitepaper
//!   says; davey switches when it processes the commit. Receivers hold frames encrypted under a key
//!   they do not have yet, so both behaviours interoperate.
//! - A frame that fails to decrypt under every installed key is held rather than dropped, because
//!   it may belong to an epoch not processed yet; it is counted as dropped when its hold expires.
//!
//! # Example: the frame layer
//!
//! ```
//! use voxwire_crypto::dave::{FrameCipher, FrameEncryptor, KeyRatchet, ProtocolFrame, max_encrypted_len};
//!
//! let base_secret = [7u8; 16]; // from the MLS exporter, per sender
//! let mut enc = FrameEncryptor::new();
//! enc.set_ratchet(KeyRatchet::new(&base_secret));
//! let frame = [0x78u8; 160]; // an Opus frame: no clear ranges
//! let mut wire = vec![0u8; max_encrypted_len(frame.len(), &[])];
//! let n = enc.encrypt(&frame, &[], false, &mut wire)?;
//!
//! let pf = ProtocolFrame::parse(&wire[..n]).expect("a DAVE frame");
//! let key = KeyRatchet::new(&base_secret).key(pf.nonce() >> 24).expect("generation 0");
//! let mut plain = [0u8; 160];
//! assert!(FrameCipher::new(&key).open(pf.nonce(), pf.body(), pf.clear_ranges(), pf.tag(), &mut plain));
//! assert_eq!(plain, frame);
//! # Ok::<(), voxwire_crypto::Error>(())
//! ```

mod aead;
pub mod codes;
mod decryptor;
mod external_sender;
mod frame;
mod leb128;
mod ratchet;
mod session;

/// Runs an MLS library call on bytes from the network, turning a panic into `Err(())`.
///
/// The TLS decoder under `openmls` (`tls_codec`) checks some vector lengths with
/// `debug_assert!`: in a build with debug assertions a truncated vector panics instead of
/// returning the decode error a release build returns. A voice server or a client must not be
/// able to crash us that way, so the calls that decode untrusted MLS messages go through here;
/// their callers treat the error as a malformed message (members take the recovery path, which
/// resets the MLS state, so nothing half-updated survives). With `panic = "abort"` there is
/// nothing to catch, and such a build aborts: use a release build (no debug assertions) there.
fn untrusted<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| ())
}

pub use aead::{FrameCipher, TAG_LEN};
pub use davey::SigningKeyPair;
pub use decryptor::{KEY_RETENTION, MAX_FRAMES_PER_SECOND, MAX_GENERATION_GAP, MAX_MISSING_NONCES};
pub use external_sender::{
    ExternalSender, ExternalSenderConfig, RECOVERY_BACKOFF_MAX, RECOVERY_BACKOFF_RESET,
    ServerEvent, ServerTransmit,
};
pub use frame::{
    ClearRanges, FIXED_SUPPLEMENTAL_LEN, FrameEncryptor, MAGIC_MARKER, MAX_ENCRYPT_ATTEMPTS,
    OPUS_SILENCE, ProtocolFrame, max_encrypted_len,
};
pub use ratchet::{KEY_LEN, KeyRatchet, wrapped_generation};
pub use session::{
    DAVE_PROTOCOL_VERSION, DaveEvent, DaveReceiveStats, DaveSession, DaveSessionConfig,
    DaveTransmit, Decrypted, DropReason, MediaKind, ReleasedFrame,
};
