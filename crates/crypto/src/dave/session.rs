//! The client-side DAVE session: MLS through `davey`, frames and the receive path here.

use super::codes;
use super::decryptor::{KEY_RETENTION, OpenFailure, Passthrough, UserDecryptor};
use super::frame::{FrameEncryptor, OPUS_SILENCE, ProtocolFrame, max_encrypted_len};
use super::ratchet::KeyRatchet;
use crate::Error;
use core::ops::Range;
use davey::SigningKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use std::collections::{HashMap, HashSet, VecDeque};
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

/// The MLS exporter label for sender base secrets.
const EXPORTER_LABEL: &str = "Discord Secure Frames v0";
/// The only DAVE protocol version defined.
pub const DAVE_PROTOCOL_VERSION: u16 = 1;

/// Whether a frame is audio or video (only audio has the silence exception).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Opus audio.
    Audio,
    /// Any video codec.
    Video,
}

/// Settings of a [`DaveSession`].
#[derive(Clone)]
pub struct DaveSessionConfig {
    /// The local user id (the MLS credential identity).
    pub user_id: u64,
    /// The MLS group id: the channel id, or `rtc_server_id - 1` for a Go Live stream.
    pub group_id: u64,
    /// The P-256 signature key pair; reuse the same one on every connection of the client.
    /// `None` generates one.
    pub signing_key: Option<SigningKeyPair>,
    /// Most frames held while their SSRC is unmapped or their key is not yet installed.
    pub max_held_frames: usize,
    /// How long a held frame waits before it is dropped.
    pub hold_duration: Duration,
}

impl core::fmt::Debug for DaveSessionConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DaveSessionConfig")
            .field("user_id", &self.user_id)
            .field("group_id", &self.group_id)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<key pair>"))
            .field("max_held_frames", &self.max_held_frames)
            .field("hold_duration", &self.hold_duration)
            .finish()
    }
}

impl DaveSessionConfig {
    /// Defaults: a new key pair, 256 held frames (about 1.5 s of one audio and two video
    /// streams), held up to 2 s.
    pub fn new(user_id: u64, group_id: u64) -> Self {
        Self {
            user_id,
            group_id,
            signing_key: None,
            max_held_frames: 256,
            hold_duration: Duration::from_secs(2),
        }
    }
}

/// A message for the voice gateway. Binary ones carry the payload after the opcode byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaveTransmit {
    /// Op 23 (JSON) `{transition_id}`.
    TransitionReady {
        /// The transition acknowledged.
        transition_id: u16,
    },
    /// Op 26 (binary): a TLS-encoded `KeyPackage`.
    KeyPackage(Vec<u8>),
    /// Op 28 (binary): commit `MLSMessage`, then the `Welcome` if the commit adds members.
    CommitWelcome(Vec<u8>),
    /// Op 31 (JSON) `{transition_id}`: the commit or welcome could not be processed.
    InvalidCommitWelcome {
        /// The failed transition.
        transition_id: u16,
    },
}

impl DaveTransmit {
    /// The voice gateway opcode.
    pub fn opcode(&self) -> u8 {
        match self {
            Self::TransitionReady { .. } => 23,
            Self::KeyPackage(_) => 26,
            Self::CommitWelcome(_) => 28,
            Self::InvalidCommitWelcome { .. } => 31,
        }
    }
}

/// Something the application may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaveEvent {
    /// The session can encrypt (first executed transition with a group).
    Ready,
    /// A commit or welcome was processed: new receive keys, new privacy code.
    EpochChanged {
        /// The MLS epoch.
        epoch: u64,
        /// The 30-digit voice privacy code of this epoch.
        privacy_code: String,
    },
    /// A transition was executed: the send key (or plain sending) changed.
    TransitionExecuted {
        /// Its id (0 for a (re)initialisation).
        transition_id: u16,
        /// The protocol version now in force (0 = transport encryption only).
        protocol_version: u16,
    },
    /// An MLS message was rejected. For commits and welcomes the session has already queued op 31
    /// and a new key package.
    MlsError {
        /// The opcode of the message.
        opcode: u8,
        /// The error.
        error: String,
    },
}

/// Why a received frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A plain frame while passthrough is not allowed.
    Unencrypted,
    /// A protocol frame whose nonce was already used.
    Replay,
    /// Held for the hold duration and still not decryptable.
    HoldExpired,
    /// The hold queue was full; the oldest held frame made room.
    HoldFull,
}

/// Receive counters; every frame given to [`DaveSession::decrypt`] ends in exactly one of
/// `decrypted`, `passed_through`, `silence`, a `dropped_*` counter, or (for now) `held_now`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DaveReceiveStats {
    /// Frames decrypted (directly or after being held).
    pub decrypted: u64,
    /// Plain frames accepted under passthrough.
    pub passed_through: u64,
    /// Opus silence frames (`F8 FF FE`) passed through.
    pub silence: u64,
    /// Frames ever put on hold.
    pub held: u64,
    /// Held frames later delivered (they also count as decrypted or passed through).
    pub released: u64,
    /// Frames currently held.
    pub held_now: u64,
    /// Dropped: plain frame, passthrough not allowed.
    pub dropped_unencrypted: u64,
    /// Dropped: replayed nonce.
    pub dropped_replay: u64,
    /// Dropped: held too long without a key or SSRC mapping.
    pub dropped_hold_expired: u64,
    /// Dropped: hold queue full.
    pub dropped_hold_full: u64,
}

impl DaveReceiveStats {
    fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Unencrypted => self.dropped_unencrypted += 1,
            DropReason::Replay => self.dropped_replay += 1,
            DropReason::HoldExpired => self.dropped_hold_expired += 1,
            DropReason::HoldFull => self.dropped_hold_full += 1,
        }
    }

    /// All dropped frames.
    pub fn dropped(&self) -> u64 {
        self.dropped_unencrypted
            + self.dropped_replay
            + self.dropped_hold_expired
            + self.dropped_hold_full
    }
}

/// Outcome of [`DaveSession::decrypt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decrypted {
    /// `out[..len]` holds the decrypted media frame of `user_id`.
    Frame {
        /// Plaintext length.
        len: usize,
        /// The sender.
        user_id: u64,
    },
    /// `out[..len]` holds the frame as received (plain frame allowed by passthrough, or silence).
    Passthrough {
        /// Length.
        len: usize,
    },
    /// Kept for later: it comes out of [`DaveSession::poll_frame`] once its SSRC is mapped or
    /// its key installed, or is dropped after the hold duration.
    Held,
    /// Dropped and counted.
    Dropped(DropReason),
}

/// A frame released from hold by [`DaveSession::poll_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleasedFrame {
    /// The SSRC it arrived on.
    pub ssrc: u32,
    /// Audio or video.
    pub media: MediaKind,
    /// What was written to the caller's buffer (`Frame` or `Passthrough`).
    pub outcome: Decrypted,
}

struct Held {
    ssrc: u32,
    media: MediaKind,
    at: Instant,
    data: Vec<u8>,
}

/// A sans-IO DAVE session for one voice (or Go Live) connection.
///
/// Feed it the DAVE gateway messages (`handle_*`), the SSRC map (`map_ssrc`) and media frames
/// (`encrypt_*`, `decrypt`); after each call drain [`Self::poll_transmit`] (send to the gateway)
/// and [`Self::poll_event`], then [`Self::poll_frame`] (held frames now decryptable). Call
/// [`Self::handle_timeout`] at [`Self::poll_timeout`]. Time must not go backwards.
pub struct DaveSession {
    cfg: DaveSessionConfig,
    key_pair: SigningKeyPair,
    mls: Option<davey::DaveSession>,
    provider: OpenMlsRustCrypto,
    /// Protocol version in force for sending (changes on execute).
    protocol_version: u16,
    /// Version of the MLS session (from op 4 / op 24).
    mls_version: u16,
    pending_transitions: HashMap<u16, u16>,
    pending_send_ratchet: Option<KeyRatchet>,
    connected: HashSet<u64>,
    ssrcs: HashMap<u32, u64>,
    decryptors: HashMap<u64, UserDecryptor>,
    /// Passthrough state given to decryptors created from now on.
    passthrough: Passthrough,
    encryptor: FrameEncryptor,
    ready: bool,
    privacy_code: Option<String>,
    epoch: u64,
    transmits: VecDeque<DaveTransmit>,
    events: VecDeque<DaveEvent>,
    held: VecDeque<Held>,
    spare: Vec<Vec<u8>>,
    retry_held: bool,
    stats: DaveReceiveStats,
    /// Reused for the clear ranges of video frames.
    ranges: Vec<Range<usize>>,
}

impl core::fmt::Debug for DaveSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DaveSession")
            .field("user_id", &self.cfg.user_id)
            .field("group_id", &self.cfg.group_id)
            .field("protocol_version", &self.protocol_version)
            .field("epoch", &self.epoch)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

fn mls_err(operation: &'static str, e: impl core::fmt::Display) -> Error {
    Error::DaveMls { operation, reason: e.to_string() }
}

fn user_of(credential: &openmls::prelude::Credential) -> Option<u64> {
    <[u8; 8]>::try_from(credential.serialized_content()).ok().map(u64::from_be_bytes)
}

impl DaveSession {
    /// A session before op 4: transport encryption only until told otherwise.
    pub fn new(cfg: DaveSessionConfig) -> Self {
        let key_pair = cfg.signing_key.clone().unwrap_or_else(SigningKeyPair::generate);
        Self {
            cfg,
            key_pair,
            mls: None,
            provider: OpenMlsRustCrypto::default(),
            protocol_version: 0,
            mls_version: 0,
            pending_transitions: HashMap::new(),
            pending_send_ratchet: None,
            connected: HashSet::new(),
            ssrcs: HashMap::new(),
            decryptors: HashMap::new(),
            passthrough: Passthrough::Always,
            encryptor: FrameEncryptor::new(),
            ready: false,
            privacy_code: None,
            epoch: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            held: VecDeque::new(),
            spare: Vec::new(),
            retry_held: false,
            stats: DaveReceiveStats::default(),
            ranges: Vec::new(),
        }
    }

    /// The local user id.
    pub fn user_id(&self) -> u64 {
        self.cfg.user_id
    }

    /// The public half of the signature key (65-byte uncompressed P-256 point).
    pub fn signature_public_key(&self) -> &[u8] {
        &self.key_pair.public
    }

    /// The protocol version in force for sending (0 = no E2EE).
    pub fn protocol_version(&self) -> u16 {
        self.protocol_version
    }

    /// Whether frames are being end-to-end encrypted now.
    pub fn is_ready(&self) -> bool {
        self.ready && self.encryptor.has_ratchet()
    }

    /// The current MLS epoch (0 before the first commit or welcome).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The voice privacy code of the current epoch.
    pub fn privacy_code(&self) -> Option<&str> {
        self.privacy_code.as_deref()
    }

    /// Receive counters.
    pub fn stats(&self) -> &DaveReceiveStats {
        &self.stats
    }

    /// The user ids of the current group, self included.
    pub fn members(&self) -> Vec<u64> {
        self.mls.as_ref().and_then(davey::DaveSession::get_user_ids).unwrap_or_default()
    }

    /// The 45-digit verification code shared with `user_id` in the current group.
    pub fn verification_code(&self, user_id: u64) -> Result<String, Error> {
        let group = self.mls.as_ref().and_then(davey::DaveSession::group);
        let member = group
            .and_then(|g| g.members().find(|m| user_of(&m.credential) == Some(user_id)))
            .ok_or(Error::DaveUnknownUser { user_id })?;
        codes::verification_code(
            &self.key_pair.public,
            self.cfg.user_id,
            &member.signature_key,
            user_id,
        )
    }

    /// Next message for the gateway.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<DaveTransmit> {
        self.transmits.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<DaveEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] must run next: the oldest held frame's deadline or the next
    /// key expiry.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let held = self.held.front().map(|h| h.at + self.cfg.hold_duration);
        let keys = self.decryptors.values().filter_map(UserDecryptor::next_expiry).min();
        held.into_iter().chain(keys).min()
    }

    /// Drops held frames past their deadline and keys past their retention.
    pub fn handle_timeout(&mut self, now: Instant) {
        for d in self.decryptors.values_mut() {
            d.handle_timeout(now);
        }
        while self.held.front().is_some_and(|h| h.at + self.cfg.hold_duration <= now) {
            if let Some(h) = self.held.pop_front() {
                self.recycle(h);
                self.stats.held_now -= 1;
                self.stats.count_drop(DropReason::HoldExpired);
            }
        }
    }

    // ----- gateway input ---------------------------------------------------------------------

    /// Op 4 Session Description: its `dave_protocol_version`.
    pub fn handle_session_description(
        &mut self,
        protocol_version: u16,
        now: Instant,
    ) -> Result<(), Error> {
        self.protocol_version = protocol_version;
        if protocol_version == 0 {
            self.passthrough = Passthrough::Always;
            return Ok(());
        }
        self.passthrough = Passthrough::Never;
        self.start_mls(protocol_version, now)
    }

    /// Ops 11 and 13: the users connected to the call (besides self).
    pub fn handle_clients_connect(&mut self, user_ids: &[u64]) {
        self.connected.extend(user_ids.iter().copied());
    }

    /// Op 13 Client Disconnect.
    pub fn handle_client_disconnect(&mut self, user_id: u64) {
        self.connected.remove(&user_id);
    }

    /// Maps an SSRC to its user (op 5 Speaking, op 12 Video). Held frames of that SSRC become
    /// decryptable.
    pub fn map_ssrc(&mut self, ssrc: u32, user_id: u64) {
        self.ssrcs.insert(ssrc, user_id);
        self.retry_held = true;
    }

    /// Forgets an SSRC.
    pub fn unmap_ssrc(&mut self, ssrc: u32) {
        self.ssrcs.remove(&ssrc);
    }

    /// Op 21 Prepare Transition.
    pub fn handle_prepare_transition(
        &mut self,
        protocol_version: u16,
        transition_id: u16,
        now: Instant,
    ) -> Result<(), Error> {
        if protocol_version == 0 {
            // Downgrade announced: accept plain frames from everyone, without expiry.
            self.passthrough = Passthrough::Always;
            for d in self.decryptors.values_mut() {
                d.passthrough = Passthrough::Always;
            }
            self.retry_held = true;
        }
        if let Some(mls) = &mut self.mls {
            mls.prepare_transition(transition_id, protocol_version)
                .map_err(|e| mls_err("prepare transition", e))?;
        }
        self.pending_transitions.insert(transition_id, protocol_version);
        if transition_id == 0 {
            self.execute(0, now);
        } else {
            self.transmits.push_back(DaveTransmit::TransitionReady { transition_id });
        }
        Ok(())
    }

    /// Op 22 Execute Transition.
    pub fn handle_execute_transition(
        &mut self,
        transition_id: u16,
        now: Instant,
    ) -> Result<(), Error> {
        if let Some(mls) = &mut self.mls {
            mls.execute_transition(transition_id).map_err(|e| mls_err("execute transition", e))?;
        }
        self.execute(transition_id, now);
        Ok(())
    }

    /// Op 24 Prepare Epoch.
    pub fn handle_prepare_epoch(
        &mut self,
        protocol_version: u16,
        epoch: u64,
        now: Instant,
    ) -> Result<(), Error> {
        if epoch == 1 && protocol_version > 0 {
            self.start_mls(protocol_version, now)?;
        }
        Ok(())
    }

    /// Op 25 External Sender Package (binary payload after the opcode byte).
    pub fn handle_external_sender(&mut self, payload: &[u8], _now: Instant) -> Result<(), Error> {
        // Check the TLS structure first: tls_codec debug-asserts on some truncated vectors.
        let mut r = super::external_sender::Reader(payload);
        let well_formed =
            r.vec().is_some() && r.u16().is_some() && r.vec().is_some() && r.0.is_empty();
        if !well_formed {
            return Err(Error::DaveMalformed { opcode: 25, reason: "not a TLS ExternalSender" });
        }
        let mls = self.mls.as_mut().ok_or(Error::DaveNotReady)?;
        super::untrusted(|| mls.set_external_sender(payload))
            .map_err(|()| Error::DaveMalformed { opcode: 25, reason: "malformed ExternalSender" })?
            .map_err(|e| mls_err("external sender", e))
    }

    /// Op 27 Proposals (binary payload after the opcode byte).
    pub fn handle_proposals(&mut self, payload: &[u8], _now: Instant) -> Result<(), Error> {
        let (&op, rest) =
            payload.split_first().ok_or(Error::DaveMalformed { opcode: 27, reason: "empty" })?;
        let op = match op {
            0 => davey::ProposalsOperationType::APPEND,
            1 => davey::ProposalsOperationType::REVOKE,
            _ => return Err(Error::DaveMalformed { opcode: 27, reason: "unknown operation type" }),
        };
        let mut r = super::external_sender::Reader(rest);
        if r.vec().is_none() || !r.0.is_empty() {
            return Err(Error::DaveMalformed { opcode: 27, reason: "vector length mismatch" });
        }
        let Some(mls) = &mut self.mls else { return Ok(()) };
        let mut recognized: Vec<u64> = self.connected.iter().copied().collect();
        recognized.push(self.cfg.user_id);
        let processed = super::untrusted(|| mls.process_proposals(op, rest, Some(&recognized)))
            .map_err(|()| Error::DaveMalformed { opcode: 27, reason: "malformed proposals" })?;
        match processed {
            Ok(Some(cw)) => {
                let mut out = cw.commit;
                if let Some(w) = cw.welcome {
                    out.extend_from_slice(&w);
                }
                self.transmits.push_back(DaveTransmit::CommitWelcome(out));
                Ok(())
            }
            Ok(None) | Err(davey::errors::ProcessProposalsError::NoGroup) => Ok(()),
            Err(e) => {
                let e = mls_err("proposals", e);
                self.events.push_back(DaveEvent::MlsError { opcode: 27, error: e.to_string() });
                Err(e)
            }
        }
    }

    /// Op 29 Announce Commit Transition (binary payload after the opcode byte).
    pub fn handle_announce_commit(&mut self, payload: &[u8], now: Instant) -> Result<(), Error> {
        let (tid, commit) = split_tid(payload, 29)?;
        let Some(mls) = &mut self.mls else { return Ok(()) };
        match super::untrusted(|| mls.process_commit(commit)) {
            Ok(Ok(false)) => Ok(()),
            Ok(Ok(true)) => self.new_epoch(tid, now),
            Ok(Err(e)) => self.recover(29, tid, mls_err("commit", e), now),
            Err(()) => {
                let e = Error::DaveMalformed { opcode: 29, reason: "malformed commit" };
                self.recover(29, tid, e, now)
            }
        }
    }

    /// Op 30 Welcome (binary payload after the opcode byte).
    pub fn handle_welcome(&mut self, payload: &[u8], now: Instant) -> Result<(), Error> {
        let (tid, welcome) = split_tid(payload, 30)?;
        let mut recognized: Vec<u64> = self.connected.iter().copied().collect();
        recognized.push(self.cfg.user_id);
        let Some(mls) = &mut self.mls else { return Ok(()) };
        match super::untrusted(|| mls.process_welcome(welcome, Some(&recognized))) {
            Ok(Ok(())) => self.new_epoch(tid, now),
            Ok(Err(e)) => self.recover(30, tid, mls_err("welcome", e), now),
            Err(()) => {
                let e = Error::DaveMalformed { opcode: 30, reason: "malformed welcome" };
                self.recover(30, tid, e, now)
            }
        }
    }

    /// Dispatches a binary DAVE message (ops 25, 27, 29, 30) by opcode.
    pub fn handle_binary(&mut self, opcode: u8, payload: &[u8], now: Instant) -> Result<(), Error> {
        match opcode {
            25 => self.handle_external_sender(payload, now),
            27 => self.handle_proposals(payload, now),
            29 => self.handle_announce_commit(payload, now),
            30 => self.handle_welcome(payload, now),
            _ => Err(Error::DaveMalformed {
                opcode,
                reason: "not a server-to-client binary DAVE opcode",
            }),
        }
    }

    // ----- internals -------------------------------------------------------------------------

    fn start_mls(&mut self, protocol_version: u16, _now: Instant) -> Result<(), Error> {
        let pv = NonZeroU16::new(protocol_version)
            .ok_or(Error::DaveUnsupportedVersion { version: 0 })?;
        if protocol_version > DAVE_PROTOCOL_VERSION {
            return Err(Error::DaveUnsupportedVersion { version: protocol_version });
        }
        let (uid, gid) = (self.cfg.user_id, self.cfg.group_id);
        match &mut self.mls {
            Some(mls) => {
                mls.reinit(pv, uid, gid, Some(&self.key_pair)).map_err(|e| mls_err("reinit", e))?;
            }
            None => {
                self.mls = Some(
                    davey::DaveSession::new(pv, uid, gid, Some(&self.key_pair))
                        .map_err(|e| mls_err("init", e))?,
                );
            }
        }
        self.mls_version = protocol_version;
        self.send_key_package()
    }

    fn send_key_package(&mut self) -> Result<(), Error> {
        let mls = self.mls.as_mut().ok_or(Error::DaveNotReady)?;
        let kp = mls.create_key_package().map_err(|e| mls_err("key package", e))?;
        self.transmits.push_back(DaveTransmit::KeyPackage(kp));
        Ok(())
    }

    fn recover(
        &mut self,
        opcode: u8,
        transition_id: u16,
        e: Error,
        now: Instant,
    ) -> Result<(), Error> {
        self.events.push_back(DaveEvent::MlsError { opcode, error: e.to_string() });
        self.transmits.push_back(DaveTransmit::InvalidCommitWelcome { transition_id });
        // Reset the group and ask to be added again; keys of the current epoch stay for frames
        // in flight.
        let version = self.mls_version.max(1);
        self.start_mls(version, now)?;
        Err(e)
    }

    fn new_epoch(&mut self, transition_id: u16, now: Instant) -> Result<(), Error> {
        let Some(mls) = &self.mls else { return Ok(()) };
        let Some(group) = mls.group() else { return Ok(()) };
        let crypto = self.provider.crypto();
        let mut members = Vec::new();
        for m in group.members() {
            let Some(uid) = user_of(&m.credential) else { continue };
            let secret = group
                .export_secret(crypto, EXPORTER_LABEL, &uid.to_le_bytes(), 16)
                .map_err(|e| mls_err("export secret", e))?;
            let secret: [u8; 16] =
                secret.try_into().map_err(|_| mls_err("export secret", "length"))?;
            members.push((uid, secret));
        }
        self.epoch = group.epoch().as_u64();
        let code = codes::privacy_code(group.epoch_authenticator().as_slice())?;
        for &(uid, secret) in &members {
            if uid == self.cfg.user_id {
                self.pending_send_ratchet = Some(KeyRatchet::new(&secret));
                continue;
            }
            let pt = self.passthrough;
            self.decryptors
                .entry(uid)
                .or_insert_with(|| UserDecryptor::new(pt))
                .install(secret, now);
        }
        // Users who left keep their keys for KEY_RETENTION, for frames still in flight.
        for (uid, d) in &mut self.decryptors {
            if !members.iter().any(|(u, _)| u == uid) {
                d.expire_all(now);
            }
        }
        self.retry_held = true;
        self.privacy_code = Some(code.clone());
        self.events.push_back(DaveEvent::EpochChanged { epoch: self.epoch, privacy_code: code });
        let version = self.mls_version;
        if let Some(mls) = &mut self.mls {
            // keeps davey's own bookkeeping (its pending transitions and encryptor) in step
            mls.prepare_transition(transition_id, version)
                .map_err(|e| mls_err("prepare transition", e))?;
        }
        self.pending_transitions.insert(transition_id, version);
        if transition_id == 0 {
            self.execute(0, now);
        } else {
            self.transmits.push_back(DaveTransmit::TransitionReady { transition_id });
        }
        Ok(())
    }

    fn execute(&mut self, transition_id: u16, now: Instant) {
        let Some(version) = self.pending_transitions.remove(&transition_id) else { return };
        let was = self.protocol_version;
        if version == 0 {
            self.encryptor.clear_ratchet();
            self.pending_send_ratchet = None;
            self.ready = false;
            self.privacy_code = None;
            for d in self.decryptors.values_mut() {
                d.expire_all(now);
            }
        } else {
            if let Some(r) = self.pending_send_ratchet.take() {
                self.encryptor.set_ratchet(r);
                if !self.ready {
                    self.ready = true;
                    self.events.push_back(DaveEvent::Ready);
                }
            }
            if was == 0 || self.passthrough == Passthrough::Always {
                // upgrade: plain frames are accepted only for a grace period
                let until = now + KEY_RETENTION;
                self.passthrough = Passthrough::Until(until);
                for d in self.decryptors.values_mut() {
                    d.limit_passthrough(until);
                }
            }
        }
        self.protocol_version = version;
        self.events
            .push_back(DaveEvent::TransitionExecuted { transition_id, protocol_version: version });
    }

    // ----- media -----------------------------------------------------------------------------

    /// Buffer size that [`Self::encrypt`] needs for a `frame_len`-byte frame with `clear` ranges.
    pub fn encrypted_len_bound(frame_len: usize, clear: &[Range<usize>]) -> usize {
        max_encrypted_len(frame_len, clear)
    }

    /// Encrypts an Opus frame into `out` and returns the length to send. Without E2EE (version
    /// 0), and for the Opus silence frame, the frame is copied unchanged.
    pub fn encrypt_opus(&mut self, frame: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        if frame == OPUS_SILENCE {
            return copy_plain(frame, out);
        }
        self.encrypt(frame, &[], false, out)
    }

    /// Encrypts a media frame whose `clear` ranges stay readable (the codec's rules, already
    /// applied to `frame`); `h26x` enables the start-code check for H.264/H.265.
    pub fn encrypt(
        &mut self,
        frame: &[u8],
        clear: &[Range<usize>],
        h26x: bool,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if self.protocol_version == 0 {
            return copy_plain(frame, out);
        }
        self.encryptor.encrypt(frame, clear, h26x, out)
    }

    /// Encrypts an encoded video frame: applies the codec's DAVE rules
    /// ([`voxwire_video::dave::split_frame`]: clear ranges, 4-byte start codes, AV1 OBU
    /// rewriting) into `scratch` (reuse it for every frame), then encrypts into `out`, which
    /// needs [`max_encrypted_len`]`(scratch.bytes().len(), …)` bytes: `frame.len() + 64` plus
    /// 3 bytes per H.264/H.265 NAL unit is always enough. Without E2EE the rewritten frame is
    /// copied unchanged.
    pub fn encrypt_video(
        &mut self,
        codec: voxwire_video::Codec,
        frame: &[u8],
        scratch: &mut voxwire_video::dave::DaveFrame,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        voxwire_video::dave::split_frame(codec, frame, scratch).map_err(Error::DaveVideo)?;
        if self.protocol_version == 0 {
            return copy_plain(scratch.bytes(), out);
        }
        self.ranges.clear();
        self.ranges.extend(scratch.clear_ranges().iter().map(|r| r.offset..r.end()));
        let h26x = matches!(codec, voxwire_video::Codec::H264 | voxwire_video::Codec::H265);
        self.encryptor.encrypt(scratch.bytes(), &self.ranges, h26x, out)
    }

    /// Decrypts a received media frame of `ssrc` into `out` (at least `frame.len()` bytes).
    pub fn decrypt(
        &mut self,
        ssrc: u32,
        media: MediaKind,
        frame: &[u8],
        out: &mut [u8],
        now: Instant,
    ) -> Result<Decrypted, Error> {
        if out.len() < frame.len() {
            return Err(Error::DaveBufferTooSmall { needed: frame.len(), capacity: out.len() });
        }
        self.handle_timeout(now);
        match self.try_decrypt(ssrc, media, frame, out, now) {
            Some(Decrypted::Dropped(r)) => {
                self.stats.count_drop(r);
                Ok(Decrypted::Dropped(r))
            }
            Some(d) => Ok(d),
            None => {
                self.hold(ssrc, media, frame, now);
                Ok(Decrypted::Held)
            }
        }
    }

    /// `None`: not decidable now (hold).
    fn try_decrypt(
        &mut self,
        ssrc: u32,
        media: MediaKind,
        frame: &[u8],
        out: &mut [u8],
        now: Instant,
    ) -> Option<Decrypted> {
        if media == MediaKind::Audio && frame == OPUS_SILENCE {
            out[..frame.len()].copy_from_slice(frame);
            self.stats.silence += 1;
            return Some(Decrypted::Passthrough { len: frame.len() });
        }
        let user = self.ssrcs.get(&ssrc).copied();
        let Some(pf) = ProtocolFrame::parse(frame) else {
            let allowed = match user.and_then(|u| self.decryptors.get(&u)) {
                Some(d) => d.can_passthrough(now),
                None => match self.passthrough {
                    Passthrough::Always => true,
                    Passthrough::Until(t) => now < t,
                    Passthrough::Never => false,
                },
            };
            if allowed {
                out[..frame.len()].copy_from_slice(frame);
                self.stats.passed_through += 1;
                return Some(Decrypted::Passthrough { len: frame.len() });
            }
            // A plain frame before the group exists may still become acceptable (a downgrade is
            // announced); after that, it is an error.
            return if self.ready {
                Some(Decrypted::Dropped(DropReason::Unencrypted))
            } else {
                None
            };
        };
        let user_id = user?;
        let d = self.decryptors.get_mut(&user_id)?;
        match d.open(&pf, out, now) {
            Ok(len) => {
                self.stats.decrypted += 1;
                Some(Decrypted::Frame { len, user_id })
            }
            Err(OpenFailure::Replay) => Some(Decrypted::Dropped(DropReason::Replay)),
            // The sender may already use a key we do not have yet (its commit not processed here
            // yet, or a newer generation): hold.
            Err(OpenFailure::NoKey) => None,
        }
    }

    fn hold(&mut self, ssrc: u32, media: MediaKind, frame: &[u8], now: Instant) {
        if self.cfg.max_held_frames == 0 {
            self.stats.count_drop(DropReason::HoldFull);
            return;
        }
        if self.held.len() >= self.cfg.max_held_frames
            && let Some(old) = self.held.pop_front()
        {
            self.recycle(old);
            self.stats.held_now -= 1;
            self.stats.count_drop(DropReason::HoldFull);
        }
        let mut data = self.spare.pop().unwrap_or_default();
        data.clear();
        data.extend_from_slice(frame);
        self.held.push_back(Held { ssrc, media, at: now, data });
        self.stats.held += 1;
        self.stats.held_now += 1;
    }

    fn recycle(&mut self, h: Held) {
        if self.spare.len() < self.cfg.max_held_frames.min(64) {
            self.spare.push(h.data);
        }
    }

    /// The underlying `davey` session, for differential tests against davey's own frame layer.
    /// Not part of the supported API.
    #[doc(hidden)]
    pub fn davey_session_mut(&mut self) -> Option<&mut davey::DaveSession> {
        self.mls.as_mut()
    }

    /// Delivers the next held frame that became decryptable into `out`, oldest first.
    #[must_use]
    pub fn poll_frame(&mut self, out: &mut [u8], now: Instant) -> Option<ReleasedFrame> {
        self.handle_timeout(now);
        if !self.retry_held {
            return None;
        }
        let mut i = 0;
        while let Some(h) = self.held.get_mut(i) {
            if out.len() < h.data.len() {
                i += 1;
                continue;
            }
            let (ssrc, media) = (h.ssrc, h.media);
            let data = core::mem::take(&mut h.data);
            let r = self.try_decrypt(ssrc, media, &data, out, now);
            if let Some(h) = self.held.get_mut(i) {
                h.data = data;
            }
            let Some(outcome) = r else {
                i += 1;
                continue;
            };
            if let Some(h) = self.held.remove(i) {
                self.recycle(h);
            }
            self.stats.held_now -= 1;
            if let Decrypted::Dropped(reason) = outcome {
                self.stats.count_drop(reason);
                continue;
            }
            self.stats.released += 1;
            return Some(ReleasedFrame { ssrc, media, outcome });
        }
        self.retry_held = false;
        None
    }
}

fn copy_plain(frame: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let capacity = out.len();
    let dst = out
        .get_mut(..frame.len())
        .ok_or(Error::DaveBufferTooSmall { needed: frame.len(), capacity })?;
    dst.copy_from_slice(frame);
    Ok(frame.len())
}

fn split_tid(payload: &[u8], opcode: u8) -> Result<(u16, &[u8]), Error> {
    match payload {
        [a, b, rest @ ..] => Ok((u16::from_be_bytes([*a, *b]), rest)),
        _ => Err(Error::DaveMalformed { opcode, reason: "shorter than the transition id" }),
    }
}
