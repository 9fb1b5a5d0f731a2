//! A simulated call for DAVE tests: an `ExternalSender` and several `DaveSession`s joined by
//! message queues that a test can pause, with Opus frames flowing between members.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};
use voxwire_crypto::dave::{
    DaveEvent, DaveSession, DaveSessionConfig, DaveTransmit, Decrypted, ExternalSender,
    ExternalSenderConfig, MediaKind, ServerTransmit,
};

pub const GROUP: u64 = 1_234_567_890_123;

/// Sees (and may change) each op 28 payload; returns whether to forward it.
pub type CommitHook = Box<dyn FnMut(u64, &mut Vec<u8>) -> bool>;

pub struct Client {
    pub session: DaveSession,
    pub inbox: VecDeque<ServerTransmit>,
    pub paused: bool,
    pub ssrc: u32,
    /// Epoch whose key the client sends with (set on execute).
    pub send_epoch: Option<u64>,
    pub events: Vec<DaveEvent>,
    /// Frames delivered to this client: (sender ssrc, payload).
    pub received: Vec<(u32, Vec<u8>)>,
    pub op31_sent: usize,
}

pub struct Call {
    pub now: Instant,
    pub server: ExternalSender,
    pub clients: BTreeMap<u64, Client>,
    pub to_server: VecDeque<(u64, DaveTransmit)>,
    /// Rosters per epoch, from the server's view when each commit was announced.
    pub rosters: HashMap<u64, BTreeSet<u64>>,
    /// Frames each receiver must eventually get: receiver -> list of (ssrc, payload).
    pub expected: BTreeMap<u64, Vec<(u32, Vec<u8>)>>,
    /// Optional tamper hook for op 28 payloads.
    pub tamper_commit: Option<CommitHook>,
    pub frame_counter: u64,
    pub server_events: Vec<voxwire_crypto::dave::ServerEvent>,
    /// Whether `run` sends media between steps.
    pub media: bool,
}

impl Call {
    pub fn new() -> Self {
        let server = ExternalSender::new(ExternalSenderConfig::new(GROUP)).unwrap();
        #[expect(
            clippy::disallowed_methods,
            reason = "tests need one base instant; time then advances virtually"
        )]
        let now = Instant::now();
        Self {
            now,
            server,
            clients: BTreeMap::new(),
            to_server: VecDeque::new(),
            rosters: HashMap::new(),
            expected: BTreeMap::new(),
            tamper_commit: None,
            frame_counter: 0,
            server_events: Vec::new(),
            media: true,
        }
    }

    pub fn join(&mut self, user: u64) {
        let mut session = DaveSession::new(DaveSessionConfig::new(user, GROUP));
        let others: Vec<u64> = self.clients.keys().copied().collect();
        session.handle_clients_connect(&others);
        for c in self.clients.values_mut() {
            c.session.handle_clients_connect(&[user]);
        }
        session.handle_session_description(1, self.now).unwrap();
        // A joining client learns the SSRCs of those present at once (op 5 on connect); the
        // others learn the joiner's SSRC when it first speaks (`map_all_ssrcs`).
        for (&u, c) in &self.clients {
            session.map_ssrc(c.ssrc, u);
        }
        let ssrc = 1000 + user as u32;
        self.clients.insert(
            user,
            Client {
                session,
                inbox: VecDeque::new(),
                paused: false,
                ssrc,
                send_epoch: None,
                events: Vec::new(),
                received: Vec::new(),
                op31_sent: 0,
            },
        );
        self.server.handle_join(user, self.now);
        self.collect();
    }

    /// Maps every client's SSRC at every other client.
    pub fn map_all_ssrcs(&mut self) {
        let map: Vec<(u32, u64)> = self.clients.iter().map(|(u, c)| (c.ssrc, *u)).collect();
        for (u, c) in &mut self.clients {
            for &(ssrc, owner) in &map {
                if owner != *u {
                    c.session.map_ssrc(ssrc, owner);
                }
            }
        }
    }

    pub fn leave(&mut self, user: u64) {
        self.clients.remove(&user);
        self.expected.remove(&user);
        for c in self.clients.values_mut() {
            c.session.handle_client_disconnect(user);
        }
        self.server.handle_leave(user, self.now).unwrap();
        self.collect();
    }

    fn collect(&mut self) {
        for (u, c) in &mut self.clients {
            while let Some(t) = c.session.poll_transmit() {
                if matches!(t, DaveTransmit::InvalidCommitWelcome { .. }) {
                    c.op31_sent += 1;
                }
                self.to_server.push_back((*u, t));
            }
            while let Some(e) = c.session.poll_event() {
                if let DaveEvent::TransitionExecuted { protocol_version, .. } = e {
                    c.send_epoch =
                        (protocol_version > 0 && c.session.is_ready()).then(|| c.session.epoch());
                }
                c.events.push(e);
            }
        }
        while let Some(t) = self.server.poll_transmit() {
            if let Some(c) = self.clients.get_mut(&t.to()) {
                c.inbox.push_back(t);
            }
        }
        while let Some(e) = self.server.poll_event() {
            if let voxwire_crypto::dave::ServerEvent::CommitAnnounced { epoch, .. } = e {
                self.rosters.insert(epoch, self.server.group_members().into_iter().collect());
            }
            self.server_events.push(e);
        }
    }

    /// Delivers one queued message; false when nothing is deliverable.
    pub fn step(&mut self) -> bool {
        if let Some((from, t)) = self.to_server.pop_front() {
            let now = self.now;
            match t {
                DaveTransmit::TransitionReady { transition_id } => {
                    self.server.handle_transition_ready(from, transition_id, now);
                }
                DaveTransmit::KeyPackage(kp) => {
                    self.server.handle_key_package(from, &kp, now).unwrap();
                }
                DaveTransmit::CommitWelcome(mut b) => {
                    let forward = match &mut self.tamper_commit {
                        Some(f) => f(from, &mut b),
                        None => true,
                    };
                    if forward {
                        let _ = self.server.handle_commit_welcome(from, &b, now);
                    }
                }
                DaveTransmit::InvalidCommitWelcome { transition_id } => {
                    self.server.handle_invalid_commit_welcome(from, transition_id, now).unwrap();
                }
            }
            self.collect();
            return true;
        }
        let now = self.now;
        for c in self.clients.values_mut() {
            if c.paused {
                continue;
            }
            if let Some(t) = c.inbox.pop_front() {
                let _ = match t {
                    ServerTransmit::PrepareTransition {
                        protocol_version, transition_id, ..
                    } => c.session.handle_prepare_transition(protocol_version, transition_id, now),
                    ServerTransmit::ExecuteTransition { transition_id, .. } => {
                        c.session.handle_execute_transition(transition_id, now)
                    }
                    ServerTransmit::PrepareEpoch { protocol_version, epoch, .. } => {
                        c.session.handle_prepare_epoch(protocol_version, epoch, now)
                    }
                    ServerTransmit::Binary { opcode, payload, .. } => {
                        c.session.handle_binary(opcode, &payload, now)
                    }
                };
                self.collect();
                return true;
            }
        }
        false
    }

    /// Every ready member sends one 160-byte Opus frame to every other member; receivers that
    /// will hold the sender's key epoch must eventually get it.
    pub fn send_media(&mut self) {
        let senders: Vec<u64> = self.clients.keys().copied().collect();
        for s in senders {
            let (ssrc, epoch) = {
                let c = &self.clients[&s];
                if !c.session.is_ready() {
                    continue;
                }
                (c.ssrc, c.send_epoch)
            };
            self.frame_counter += 1;
            let mut frame = vec![0u8; 160];
            frame[..8].copy_from_slice(&self.frame_counter.to_be_bytes());
            frame[8] = 0x78;
            let mut out = vec![0u8; 200];
            let n =
                self.clients.get_mut(&s).unwrap().session.encrypt_opus(&frame, &mut out).unwrap();
            let wire = out[..n].to_vec();
            let roster = epoch.and_then(|e| self.rosters.get(&e).cloned()).unwrap_or_default();
            let receivers: Vec<u64> = self.clients.keys().copied().filter(|&r| r != s).collect();
            for r in receivers {
                if !roster.contains(&r) {
                    continue; // the receiver never gets this epoch's keys: unrecoverable by design
                }
                self.expected.entry(r).or_default().push((ssrc, frame.clone()));
                let now = self.now;
                let c = self.clients.get_mut(&r).unwrap();
                let mut buf = vec![0u8; 256];
                match c.session.decrypt(ssrc, MediaKind::Audio, &wire, &mut buf, now).unwrap() {
                    Decrypted::Frame { len, .. } => c.received.push((ssrc, buf[..len].to_vec())),
                    Decrypted::Held => {}
                    other => panic!(
                        "frame from {s} (send epoch {epoch:?}, nonce {:?}) to {r} (epoch {}): {other:?}; events of {r}: {:?}",
                        voxwire_crypto::dave::ProtocolFrame::parse(&wire).map(|p| p.nonce()),
                        c.session.epoch(),
                        c.events
                    ),
                }
            }
        }
        self.drain_held();
    }

    pub fn drain_held(&mut self) {
        let now = self.now;
        for c in self.clients.values_mut() {
            let mut buf = vec![0u8; 256];
            while let Some(f) = c.session.poll_frame(&mut buf, now) {
                if let Decrypted::Frame { len, .. } = f.outcome {
                    c.received.push((f.ssrc, buf[..len].to_vec()));
                }
            }
        }
    }

    /// Runs messages to quiescence, sending media between every step and advancing time by
    /// 20 ms per step.
    pub fn run(&mut self, max_steps: usize) {
        for _ in 0..max_steps {
            if self.media {
                self.send_media();
            }
            self.now += Duration::from_millis(20);
            let timeout = self.server.poll_timeout();
            if timeout.is_some_and(|t| t <= self.now) {
                self.server.handle_timeout(self.now);
                self.collect();
            }
            if !self.step() && self.server.poll_timeout().is_none() {
                return;
            }
        }
        panic!("call did not settle in {max_steps} steps");
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    /// Every expected frame arrived exactly once and nothing was dropped.
    pub fn assert_no_loss(&self) {
        for (u, c) in &self.clients {
            let stats = c.session.stats();
            assert_eq!(stats.dropped(), 0, "user {u} dropped frames: {stats:?}");
            let mut want = self.expected.get(u).cloned().unwrap_or_default();
            let mut got = c.received.clone();
            want.sort();
            got.sort();
            assert_eq!(got.len(), want.len(), "user {u}: {stats:?}");
            assert_eq!(got, want, "user {u}");
        }
    }

    pub fn settled_group(&self) -> Vec<u64> {
        self.server.group_members()
    }
}
