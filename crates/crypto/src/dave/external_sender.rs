//! The voice server's DAVE role (protocol.md 7.3): the MLS external sender and the gateway's
//! bookkeeping of the group (roster, leaf indices, epoch, proposals, transitions).
//!
//! The server is not a group member: it cannot verify commit signatures or confirmation tags
//! (that needs the group's secrets), so it checks what it can see (epoch, committer, the exact
//! set of proposal references, no inline proposals, no change of the committer's identity or
//! signature key) and relies on members to reject a cryptographically bad commit with op 31,
//! which starts the recovery: the flagging member is removed and re-added with its new key
//! package.

use crate::Error;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialType, ExternalProposal, GroupEpoch, GroupId,
    KeyPackage, KeyPackageIn, LeafNodeIndex, MlsMessageIn, ProtocolMessage, ProtocolVersion,
    Sender, SenderExtensionIndex,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;

/// Settings of an [`ExternalSender`].
#[derive(Debug, Clone)]
pub struct ExternalSenderConfig {
    /// The MLS group id (channel id, or `rtc_server_id - 1` for a stream).
    pub group_id: u64,
    /// Identity in the external sender's basic credential.
    pub identity: Vec<u8>,
    /// How long to wait for op 23 from every member before executing a transition anyway.
    pub transition_timeout: Duration,
}

impl ExternalSenderConfig {
    /// Defaults: identity `voxwire`, 2 s transition timeout.
    pub fn new(group_id: u64) -> Self {
        Self { group_id, identity: b"voxwire".to_vec(), transition_timeout: Duration::from_secs(2) }
    }
}

/// A message from the server to one client's voice gateway connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTransmit {
    /// Op 21 (JSON).
    PrepareTransition {
        /// Recipient.
        to: u64,
        /// Version after the transition.
        protocol_version: u16,
        /// Transition id.
        transition_id: u16,
    },
    /// Op 22 (JSON).
    ExecuteTransition {
        /// Recipient.
        to: u64,
        /// Transition id.
        transition_id: u16,
    },
    /// Op 24 (JSON).
    PrepareEpoch {
        /// Recipient.
        to: u64,
        /// Protocol version.
        protocol_version: u16,
        /// Epoch (1 = a new group is created).
        epoch: u64,
    },
    /// A binary message: `opcode` (25, 27, 29 or 30) and the payload after the opcode byte.
    Binary {
        /// Recipient.
        to: u64,
        /// Opcode.
        opcode: u8,
        /// Payload.
        payload: Vec<u8>,
    },
}

impl ServerTransmit {
    /// The recipient's user id.
    pub fn to(&self) -> u64 {
        match self {
            Self::PrepareTransition { to, .. }
            | Self::ExecuteTransition { to, .. }
            | Self::PrepareEpoch { to, .. }
            | Self::Binary { to, .. } => *to,
        }
    }
}

/// What happened, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A commit was announced: the group moved to `epoch`.
    CommitAnnounced {
        /// Its transition id.
        transition_id: u16,
        /// The committer.
        committer: u64,
        /// The new epoch.
        epoch: u64,
    },
    /// A transition was executed (everyone acknowledged, or the timeout passed).
    TransitionExecuted {
        /// Its transition id.
        transition_id: u16,
    },
    /// A commit was refused and not announced.
    CommitRejected {
        /// Its author.
        from: u64,
        /// Why.
        reason: &'static str,
    },
    /// A member reported an invalid commit or welcome; it is removed and waits to be re-added.
    RecoveryStarted {
        /// The member.
        user_id: u64,
    },
    /// A member that keeps reporting invalid commits sent its next key package before its
    /// backoff ended: it is added at `at` ([`RECOVERY_BACKOFF_MAX`] at the most).
    RecoveryDeferred {
        /// The member.
        user_id: u64,
        /// When its Add is proposed.
        at: Instant,
    },
}

/// The longest a member that keeps reporting invalid commits waits before it is re-added.
pub const RECOVERY_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A member that stayed in the group this long since its last recovery starts its backoff anew.
pub const RECOVERY_BACKOFF_RESET: Duration = Duration::from_mins(1);

/// How long the `count`-th recovery in a row waits before the re-add: none for the first (one
/// bad commit is recovered at once), then 1, 2, 4 ... seconds up to [`RECOVERY_BACKOFF_MAX`].
fn recovery_backoff(count: u32) -> Duration {
    match count {
        0 | 1 => Duration::ZERO,
        n => Duration::from_secs(1u64 << (n - 2).min(5)).min(RECOVERY_BACKOFF_MAX),
    }
}

/// Recoveries of one member, for its backoff.
#[derive(Debug, Clone, Copy)]
struct Recovery {
    /// Recoveries in a row (reset after [`RECOVERY_BACKOFF_RESET`] without one).
    count: u32,
    /// The last one.
    last: Instant,
}

#[derive(Debug, Clone)]
enum ProposalKind {
    Add { user: u64 },
    Remove { user: u64, leaf: u32 },
}

#[derive(Debug, Clone)]
struct PendingProposal {
    reference: Vec<u8>,
    kind: ProposalKind,
    message: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Member {
    signature_key: Vec<u8>,
    leaf: Option<u32>,
    key_package: Option<KeyPackage>,
}

#[derive(Debug)]
struct Transition {
    id: u16,
    awaiting: BTreeSet<u64>,
    deadline: Instant,
}

/// The server's DAVE state for one call (sans-IO).
///
/// Inputs: [`Self::handle_join`] (a DAVE client connected), [`Self::handle_key_package`] (op 26),
/// [`Self::handle_commit_welcome`] (op 28), [`Self::handle_transition_ready`] (op 23),
/// [`Self::handle_invalid_commit_welcome`] (op 31), [`Self::handle_leave`], and
/// [`Self::handle_timeout`] at [`Self::poll_timeout`]. Outputs: [`Self::poll_transmit`] (route
/// each to `to()`), [`Self::poll_event`].
pub struct ExternalSender {
    cfg: ExternalSenderConfig,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    package: Vec<u8>,
    /// 0: no group yet (members hold one-member pending groups at epoch 0).
    epoch: u64,
    members: BTreeMap<u64, Member>,
    /// Leaf index → user, for the established group.
    leaves: Vec<Option<u64>>,
    proposals: Vec<PendingProposal>,
    transition: Option<Transition>,
    next_transition_id: u16,
    transmits: VecDeque<ServerTransmit>,
    events: VecDeque<ServerEvent>,
    /// Members' recent recoveries (op 31), for the re-add backoff.
    recoveries: BTreeMap<u64, Recovery>,
    /// Members whose Add waits for the end of their backoff, and until when.
    deferred: BTreeMap<u64, Instant>,
}

impl core::fmt::Debug for ExternalSender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExternalSender")
            .field("group_id", &self.cfg.group_id)
            .field("epoch", &self.epoch)
            .field("members", &self.members.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn mls_err(operation: &'static str, e: impl core::fmt::Display) -> Error {
    Error::DaveMls { operation, reason: e.to_string() }
}

/// MLS variable-length vector prefix (RFC 9420 §2.1.2).
fn put_varint(out: &mut Vec<u8>, len: usize) {
    if len < 0x40 {
        out.push(len as u8);
    } else if len < 0x4000 {
        out.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&(0x8000_0000 | len as u32).to_be_bytes());
    }
}

fn proposal_ref(message: &[u8]) -> Vec<u8> {
    // RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent); for an external sender's
    // PublicMessage the AuthenticatedContent is the MLSMessage without its 2-byte version.
    let label = b"MLS 1.0 Proposal Reference";
    let value = message.get(2..).unwrap_or_default();
    let mut input = Vec::with_capacity(label.len() + value.len() + 8);
    put_varint(&mut input, label.len());
    input.extend_from_slice(label);
    put_varint(&mut input, value.len());
    input.extend_from_slice(value);
    Sha256::digest(&input).to_vec()
}

/// Minimal TLS reader for the parts of a commit the gateway checks.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn vec(&mut self) -> Option<&'a [u8]> {
        let first = *self.0.first()?;
        let len = match first >> 6 {
            0 => usize::from(self.u8()? & 0x3F),
            1 => usize::from(self.u16()? & 0x3FFF),
            2 => (self.u32()? & 0x3FFF_FFFF) as usize,
            _ => return None,
        };
        self.take(len)
    }
}

/// What the gateway reads from a commit: proposal references, whether any proposal is inline,
/// and the committer's new leaf (signature key, identity) if the commit has a path.
struct CommitView<'a> {
    refs: Vec<&'a [u8]>,
    inline: bool,
    path_leaf: Option<(&'a [u8], &'a [u8])>,
}

fn parse_commit(message: &[u8]) -> Option<CommitView<'_>> {
    let mut r = Reader(message);
    let _version = r.u16()?;
    if r.u16()? != 1 {
        return None; // not a PublicMessage
    }
    r.vec()?; // group_id
    r.take(8)?; // epoch
    match r.u8()? {
        1 => {
            r.u32()?;
        }
        _ => return None, // commits come from members
    }
    r.vec()?; // authenticated_data
    if r.u8()? != 3 {
        return None; // not a commit
    }
    let mut proposals = Reader(r.vec()?);
    let mut refs = Vec::new();
    let mut inline = false;
    while !proposals.0.is_empty() {
        match proposals.u8()? {
            2 => refs.push(proposals.vec()?),
            1 => {
                inline = true;
                break;
            }
            _ => return None,
        }
    }
    let path_leaf = match r.u8()? {
        0 => None,
        1 => {
            r.vec()?; // encryption_key
            let sig = r.vec()?;
            if r.u16()? != 1 {
                return None; // not a basic credential
            }
            Some((sig, r.vec()?))
        }
        _ => return None,
    };
    Some(CommitView { refs, inline, path_leaf })
}

impl ExternalSender {
    /// A new external sender with a fresh P-256 signature key.
    pub fn new(cfg: ExternalSenderConfig) -> Result<Self, Error> {
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|e| mls_err("external sender key", format!("{e:?}")))?;
        let credential = BasicCredential::new(cfg.identity.clone());
        let sender =
            openmls::prelude::ExternalSender::new(signer.public().into(), credential.into());
        let package = sender.tls_serialize_detached().map_err(|e| mls_err("external sender", e))?;
        Ok(Self {
            cfg,
            provider: OpenMlsRustCrypto::default(),
            signer,
            package,
            epoch: 0,
            members: BTreeMap::new(),
            leaves: Vec::new(),
            proposals: Vec::new(),
            transition: None,
            next_transition_id: 1,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            recoveries: BTreeMap::new(),
            deferred: BTreeMap::new(),
        })
    }

    /// The op 25 payload.
    pub fn package(&self) -> &[u8] {
        &self.package
    }

    /// The current epoch (0: no group yet).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Users in the established group (not those being removed).
    pub fn group_members(&self) -> Vec<u64> {
        self.leaves
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                let u = (*u)?;
                (self.members.get(&u)?.leaf == Some(i as u32)).then_some(u)
            })
            .collect()
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ServerTransmit> {
        self.transmits.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The next deadline: a transition waiting for acknowledgements, or a deferred re-add.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deferred = self.deferred.values().min().copied();
        self.transition.as_ref().map(|t| t.deadline).into_iter().chain(deferred).min()
    }

    /// Executes a transition whose acknowledgements did not all arrive in time, and proposes the
    /// Adds whose backoff ended.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.transition.as_ref().is_some_and(|t| t.deadline <= now) {
            self.execute();
        }
        let due: Vec<u64> =
            self.deferred.iter().filter(|&(_, &at)| at <= now).map(|(&u, _)| u).collect();
        for user in due {
            self.deferred.remove(&user);
            let waiting = self
                .members
                .get(&user)
                .is_some_and(|m| m.leaf.is_none() && m.key_package.is_some());
            if waiting {
                // A failure here is the same as for a key package proposed at once: the member
                // is reported and stays out until its next key package.
                let _ = self.propose(ProposalKind::Add { user });
            }
        }
    }

    /// A DAVE-capable client connected: it gets op 25.
    pub fn handle_join(&mut self, user_id: u64, _now: Instant) {
        self.transmits.push_back(ServerTransmit::Binary {
            to: user_id,
            opcode: 25,
            payload: self.package.clone(),
        });
    }

    fn in_group(&self, user: u64) -> bool {
        self.members.get(&user).is_some_and(|m| m.leaf.is_some())
    }

    /// Who receives proposals: the group members, or all pending members while there is none.
    fn proposal_recipients(&self) -> Vec<u64> {
        if self.epoch == 0 {
            self.members.iter().filter(|(_, m)| m.key_package.is_some()).map(|(u, _)| *u).collect()
        } else {
            self.group_members()
        }
    }

    fn send_proposals(&mut self, proposal: &PendingProposal) {
        let subject = match proposal.kind {
            ProposalKind::Add { user } | ProposalKind::Remove { user, .. } => user,
        };
        for to in self.proposal_recipients() {
            if to == subject {
                continue;
            }
            self.transmits.push_back(ServerTransmit::Binary {
                to,
                opcode: 27,
                payload: append_payload(&[&proposal.message]),
            });
        }
    }

    fn propose(&mut self, kind: ProposalKind) -> Result<(), Error> {
        let group_id = GroupId::from_slice(&self.cfg.group_id.to_be_bytes());
        let epoch = GroupEpoch::from(self.epoch);
        let sender = SenderExtensionIndex::new(0);
        let out = match &kind {
            ProposalKind::Add { user } => {
                let kp = self
                    .members
                    .get(user)
                    .and_then(|m| m.key_package.clone())
                    .ok_or(Error::DaveUnknownUser { user_id: *user })?;
                ExternalProposal::new_add::<OpenMlsRustCrypto>(
                    kp,
                    group_id,
                    epoch,
                    &self.signer,
                    sender,
                )
                .map_err(|e| mls_err("add proposal", e))?
            }
            ProposalKind::Remove { leaf, .. } => ExternalProposal::new_remove::<OpenMlsRustCrypto>(
                LeafNodeIndex::new(*leaf),
                group_id,
                epoch,
                &self.signer,
                sender,
            )
            .map_err(|e| mls_err("remove proposal", e))?,
        };
        let message = out.tls_serialize_detached().map_err(|e| mls_err("proposal", e))?;
        let p = PendingProposal { reference: proposal_ref(&message), kind, message };
        self.send_proposals(&p);
        self.proposals.push(p);
        Ok(())
    }

    /// Op 26 Key Package from `user_id`. Validates it; adds the user (Add proposal).
    pub fn handle_key_package(
        &mut self,
        user_id: u64,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), Error> {
        let kp = super::untrusted(|| KeyPackageIn::tls_deserialize_exact(payload))
            .map_err(|()| Error::DaveKeyPackage { reason: "malformed KeyPackage".into() })?
            .map_err(|e| Error::DaveKeyPackage { reason: e.to_string() })?
            .validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| Error::DaveKeyPackage { reason: e.to_string() })?;
        if kp.ciphersuite() != CIPHERSUITE {
            return Err(Error::DaveKeyPackage { reason: "wrong ciphersuite".into() });
        }
        let leaf = kp.leaf_node();
        if leaf.credential().credential_type() != CredentialType::Basic
            || leaf.credential().serialized_content() != user_id.to_be_bytes()
        {
            return Err(Error::DaveKeyPackage {
                reason: "credential is not the user's basic credential".into(),
            });
        }
        let lifetime = kp.life_time();
        if lifetime.not_before() != 0 || lifetime.not_after() != u64::MAX {
            return Err(Error::DaveKeyPackage { reason: "lifetime is not 0..2^64-1".into() });
        }
        let signature_key = leaf.signature_key().as_slice().to_vec();
        // A new key package replaces the old one and its pending Add.
        self.revoke_adds_of(user_id);
        let was_pending_without_group = self.epoch == 0;
        let m = self.members.entry(user_id).or_insert(Member {
            signature_key: Vec::new(),
            leaf: None,
            key_package: None,
        });
        m.signature_key = signature_key;
        m.key_package = Some(kp);
        // A member that keeps reporting invalid commits is re-added after a growing backoff, so
        // that one broken client cannot make the whole group re-key in a tight loop.
        if let Some(r) = self.recoveries.get(&user_id) {
            let at = r.last + recovery_backoff(r.count);
            if at > now {
                self.deferred.insert(user_id, at);
                self.events.push_back(ServerEvent::RecoveryDeferred { user_id, at });
                return Ok(());
            }
        }
        self.deferred.remove(&user_id);
        if was_pending_without_group {
            // a late pending joiner receives the proposals already in flight
            let inflight: Vec<Vec<u8>> = self.proposals.iter().map(|p| p.message.clone()).collect();
            if !inflight.is_empty() {
                let refs: Vec<&[u8]> = inflight.iter().map(Vec::as_slice).collect();
                self.transmits.push_back(ServerTransmit::Binary {
                    to: user_id,
                    opcode: 27,
                    payload: append_payload(&refs),
                });
            }
        }
        self.propose(ProposalKind::Add { user: user_id })
    }

    fn revoke_adds_of(&mut self, user: u64) {
        let (gone, keep): (Vec<_>, Vec<_>) = self
            .proposals
            .drain(..)
            .partition(|p| matches!(p.kind, ProposalKind::Add { user: u } if u == user));
        self.proposals = keep;
        if gone.is_empty() {
            return;
        }
        let mut payload = vec![1u8];
        let mut refs = Vec::new();
        for p in &gone {
            put_varint(&mut refs, p.reference.len());
            refs.extend_from_slice(&p.reference);
        }
        put_varint(&mut payload, refs.len());
        payload.extend_from_slice(&refs);
        for to in self.proposal_recipients() {
            if to != user {
                self.transmits.push_back(ServerTransmit::Binary {
                    to,
                    opcode: 27,
                    payload: payload.clone(),
                });
            }
        }
    }

    /// The client disconnected.
    pub fn handle_leave(&mut self, user_id: u64, now: Instant) -> Result<(), Error> {
        self.revoke_adds_of(user_id);
        self.deferred.remove(&user_id);
        self.recoveries.remove(&user_id);
        let Some(m) = self.members.remove(&user_id) else { return Ok(()) };
        if let Some(t) = &mut self.transition {
            t.awaiting.remove(&user_id);
        }
        if let Some(leaf) = m.leaf {
            // the leaf stays occupied in the bookkeeping until a commit removes it
            self.remove_from_group(user_id, leaf, now)?;
        }
        if self.transition.as_ref().is_some_and(|t| t.awaiting.is_empty()) {
            self.execute();
        }
        Ok(())
    }

    fn remove_from_group(&mut self, user: u64, leaf: u32, _now: Instant) -> Result<(), Error> {
        let remaining: Vec<u64> = self.group_members().into_iter().filter(|&u| u != user).collect();
        if remaining.len() <= 1 {
            // Sole-member reset (or nobody left): the group dissolves; the sole member starts a
            // new pending group and a later joiner triggers a fresh creation.
            self.epoch = 0;
            self.leaves.clear();
            self.proposals.clear();
            self.transition = None;
            for u in remaining {
                if let Some(m) = self.members.get_mut(&u) {
                    m.leaf = None;
                    m.key_package = None;
                }
                self.transmits.push_back(ServerTransmit::PrepareEpoch {
                    to: u,
                    protocol_version: 1,
                    epoch: 1,
                });
                self.transmits.push_back(ServerTransmit::PrepareTransition {
                    to: u,
                    protocol_version: 1,
                    transition_id: 0,
                });
            }
            for m in self.members.values_mut() {
                m.leaf = None;
            }
            // members already waiting with a key package are proposed again at epoch 0
            let waiting: Vec<u64> = self
                .members
                .iter()
                .filter(|(_, m)| m.key_package.is_some())
                .map(|(u, _)| *u)
                .collect();
            for u in waiting {
                self.propose(ProposalKind::Add { user: u })?;
            }
            return Ok(());
        }
        self.propose(ProposalKind::Remove { user, leaf })
    }

    /// Op 28 Commit Welcome from `user_id`.
    pub fn handle_commit_welcome(
        &mut self,
        user_id: u64,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), Error> {
        match self.check_commit(user_id, payload) {
            Ok((commit_len, added)) => {
                self.announce(user_id, payload, commit_len, &added, now);
                Ok(())
            }
            Err(reason) => {
                self.events.push_back(ServerEvent::CommitRejected { from: user_id, reason });
                Err(Error::DaveMalformed { opcode: 28, reason })
            }
        }
    }

    fn check_commit(
        &self,
        user_id: u64,
        payload: &[u8],
    ) -> Result<(usize, Vec<u64>), &'static str> {
        let committer = self.members.get(&user_id).ok_or("committer is not a DAVE member")?;
        let mut rest = payload;
        let msg = super::untrusted(|| MlsMessageIn::tls_deserialize(&mut rest))
            .map_err(|()| "malformed MLSMessage")?
            .map_err(|_| "not an MLSMessage")?;
        let commit_len = payload.len() - rest.len();
        let Ok(ProtocolMessage::PublicMessage(pm)) = msg.try_into_protocol_message() else {
            return Err("not a PublicMessage");
        };
        if pm.group_id().as_slice() != self.cfg.group_id.to_be_bytes() {
            return Err("wrong group");
        }
        if pm.epoch().as_u64() != self.epoch {
            return Err("wrong epoch");
        }
        let Sender::Member(leaf) = *pm.sender() else { return Err("sender is not a member") };
        let expected_leaf = if self.epoch == 0 { Some(0) } else { committer.leaf };
        if expected_leaf != Some(leaf.u32()) {
            return Err("sender leaf is not the committer's");
        }
        let view = parse_commit(&payload[..commit_len]).ok_or("malformed commit")?;
        if view.inline {
            return Err("inline proposals");
        }
        if view.refs.is_empty() {
            return Err("no proposals");
        }
        let expected: BTreeSet<&[u8]> = self
            .proposals
            .iter()
            .filter(|p| !matches!(p.kind, ProposalKind::Add { user } if user == user_id))
            .map(|p| p.reference.as_slice())
            .collect();
        let got: BTreeSet<&[u8]> = view.refs.iter().copied().collect();
        if got != expected || got.len() != view.refs.len() {
            return Err("does not reference exactly the epoch's proposals");
        }
        if let Some((sig, identity)) = view.path_leaf
            && (sig != committer.signature_key.as_slice() || identity != user_id.to_be_bytes())
        {
            return Err("changes the committer's identity or key");
        }
        // adds in the commit's order, which decides their leaf indices
        let added: Vec<u64> = view
            .refs
            .iter()
            .filter_map(|r| self.proposals.iter().find(|p| p.reference.as_slice() == *r))
            .filter_map(|p| match p.kind {
                ProposalKind::Add { user } => Some(user),
                ProposalKind::Remove { .. } => None,
            })
            .collect();
        let has_welcome = commit_len < payload.len();
        if has_welcome == added.is_empty() {
            return Err("welcome present exactly when members are added");
        }
        Ok((commit_len, added))
    }

    fn announce(
        &mut self,
        committer: u64,
        payload: &[u8],
        commit_len: usize,
        added: &[u64],
        now: Instant,
    ) {
        let (commit, welcome) = payload.split_at(commit_len);
        // A newer commit supersedes the wait for the previous transition's acknowledgements.
        self.execute();
        let old_members: Vec<u64> =
            if self.epoch == 0 { vec![committer] } else { self.group_members() };
        if self.epoch == 0 {
            self.leaves = vec![Some(committer)];
            if let Some(m) = self.members.get_mut(&committer) {
                m.leaf = Some(0);
            }
        }
        // RFC 9420 §12.3: removes first, then adds into the leftmost blank leaves, in order.
        let proposals = core::mem::take(&mut self.proposals);
        for p in &proposals {
            if let ProposalKind::Remove { leaf, user } = p.kind {
                if let Some(slot) = self.leaves.get_mut(leaf as usize) {
                    *slot = None;
                }
                if let Some(m) = self.members.get_mut(&user)
                    && m.leaf == Some(leaf)
                {
                    m.leaf = None;
                }
            }
        }
        while self.leaves.last().is_some_and(Option::is_none) {
            self.leaves.pop();
        }
        for &user in added {
            let idx = if let Some(i) = self.leaves.iter().position(Option::is_none) {
                i
            } else {
                self.leaves.push(None);
                self.leaves.len() - 1
            };
            self.leaves[idx] = Some(user);
            if let Some(m) = self.members.get_mut(&user) {
                m.leaf = Some(idx as u32);
                m.key_package = None;
            }
        }
        // The committer's own key package is spent too (it is in the group now).
        if let Some(m) = self.members.get_mut(&committer) {
            m.key_package = None;
        }
        // Pending members who were neither added nor the committer lose their stale proposal;
        // they are re-proposed at the new epoch.
        self.epoch += 1;
        let tid = self.next_transition_id;
        self.next_transition_id = self.next_transition_id.checked_add(1).unwrap_or(1);
        let mut awaiting = BTreeSet::new();
        for &u in &old_members {
            if self.in_group(u) {
                let mut p = tid.to_be_bytes().to_vec();
                p.extend_from_slice(commit);
                self.transmits.push_back(ServerTransmit::Binary { to: u, opcode: 29, payload: p });
                awaiting.insert(u);
            }
        }
        for &u in added {
            let mut p = tid.to_be_bytes().to_vec();
            p.extend_from_slice(welcome);
            self.transmits.push_back(ServerTransmit::Binary { to: u, opcode: 30, payload: p });
            awaiting.insert(u);
        }
        self.events.push_back(ServerEvent::CommitAnnounced {
            transition_id: tid,
            committer,
            epoch: self.epoch,
        });
        self.transition =
            Some(Transition { id: tid, awaiting, deadline: now + self.cfg.transition_timeout });
        // re-propose members still waiting with a key package
        let waiting: Vec<u64> = self
            .members
            .iter()
            .filter(|(_, m)| m.leaf.is_none() && m.key_package.is_some())
            .map(|(u, _)| *u)
            .collect();
        for u in waiting {
            let _ = self.propose(ProposalKind::Add { user: u });
        }
    }

    fn execute(&mut self) {
        let Some(t) = self.transition.take() else { return };
        for u in self.group_members() {
            self.transmits
                .push_back(ServerTransmit::ExecuteTransition { to: u, transition_id: t.id });
        }
        self.events.push_back(ServerEvent::TransitionExecuted { transition_id: t.id });
    }

    /// Op 23 Transition Ready.
    pub fn handle_transition_ready(&mut self, user_id: u64, transition_id: u16, _now: Instant) {
        if let Some(t) = &mut self.transition
            && t.id == transition_id
        {
            t.awaiting.remove(&user_id);
            if t.awaiting.is_empty() {
                self.execute();
            }
        }
    }

    /// Op 31 Invalid Commit Welcome: remove the member, re-add it with its next key package.
    pub fn handle_invalid_commit_welcome(
        &mut self,
        user_id: u64,
        _transition_id: u16,
        now: Instant,
    ) -> Result<(), Error> {
        self.events.push_back(ServerEvent::RecoveryStarted { user_id });
        let r = self.recoveries.entry(user_id).or_insert(Recovery { count: 0, last: now });
        if now.saturating_duration_since(r.last) > RECOVERY_BACKOFF_RESET {
            r.count = 0;
        }
        r.count += 1;
        r.last = now;
        if let Some(t) = &mut self.transition {
            t.awaiting.remove(&user_id);
        }
        let leaf = self.members.get(&user_id).and_then(|m| m.leaf);
        if let Some(m) = self.members.get_mut(&user_id) {
            m.leaf = None;
        }
        if let Some(leaf) = leaf {
            self.remove_from_group(user_id, leaf, now)?;
        }
        if self.transition.as_ref().is_some_and(|t| t.awaiting.is_empty()) {
            self.execute();
        }
        Ok(())
    }
}

/// Op 27 append payload: operation 0, then one vector of back-to-back `MLSMessage`s.
fn append_payload(messages: &[&[u8]]) -> Vec<u8> {
    let len: usize = messages.iter().map(|m| m.len()).sum();
    let mut out = Vec::with_capacity(len + 5);
    out.push(0);
    put_varint(&mut out, len);
    for m in messages {
        out.extend_from_slice(m);
    }
    out
}
