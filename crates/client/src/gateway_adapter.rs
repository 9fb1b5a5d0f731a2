//! Joining a voice channel through Discord's main gateway, with any main-gateway library.
//!
//! A voice connection needs three values that only the main gateway hands out (protocol
//! reference, sections 1.1–1.3): after op 4 *Update Voice State* the main gateway dispatches
//! `VOICE_STATE_UPDATE` (the `session_id`) and `VOICE_SERVER_UPDATE` (`token` and `endpoint`),
//! **in either order**, and the client must wait for both. If the channel is full (and the bot
//! lacks `MOVE_MEMBERS`) neither arrives, so a join needs a timeout. A later `VOICE_SERVER_UPDATE`
//! moves the connection to another voice server; one with a `null` endpoint means the server is
//! being reallocated and a new update follows. A `VOICE_STATE_UPDATE` whose `channel_id` is
//! `null` means the bot left, was disconnected or was kicked. These values are never cached
//! across joins.
//!
//! This module keeps that logic in one place, apart from any gateway library:
//!
//! - [`VoiceStateTracker`]: a sans-IO state machine per guild. Feed it the two dispatches
//!   ([`VoiceStateUpdate`], [`VoiceServerUpdate`]) with `handle_*`, tell it about the op 4 you
//!   send with [`VoiceStateTracker::request`], and drain [`VoiceStateTracker::poll_action`]
//!   after every input: it yields [`VoiceAction::Connect`] once both dispatches are in,
//!   [`VoiceAction::Move`] for a server or channel move (→ [`VoiceConnection::update_server`]),
//!   [`VoiceAction::Reallocating`], [`VoiceAction::Left`] and [`VoiceAction::TimedOut`]. Time
//!   comes in as `now`; the join deadline is [`VoiceStateTracker::poll_timeout`].
//! - [`VoiceStateSender`]: the one thing a gateway library must do for voxwire, send op 4
//!   ([`UpdateVoiceState`]).
//! - [`VoiceRouter`]: the main-gateway event loop hands every voice dispatch to
//!   [`VoiceRouter::dispatch`]; joins and calls subscribe per guild.
//! - [`VoiceCall`]: [`VoiceCall::join`] sends op 4, waits for both dispatches (with the timeout)
//!   and connects; [`VoiceCall::next_event`] then follows server moves by itself, and
//!   [`VoiceCall::leave`] sends op 4 with a `null` channel and disconnects.
//!
//! Adapters for [twilight](https://docs.rs/twilight-gateway) (feature `twilight`) and
//! [serenity](https://docs.rs/serenity) (feature `serenity`) convert those libraries' event
//! types and implement [`VoiceStateSender`] on their shard handles; the crate's examples
//! `twilight_bot` and `serenity_bot` show a whole bot. Any other library needs only a
//! [`VoiceStateSender`] and a call to [`VoiceDispatch::from_gateway`] (raw JSON) or the plain
//! structs.
//!
//! # Moves and the order of the dispatches
//!
//! A channel move brings both dispatches with a new token. When `VOICE_STATE_UPDATE` comes first
//! (the usual order), the tracker drops the old token and waits for the new one, so one
//! [`VoiceAction::Move`] results. When `VOICE_SERVER_UPDATE` comes first, nothing tells a server
//! move (which has no `VOICE_STATE_UPDATE`) from the first half of a channel move, so the tracker
//! yields a `Move` at once and a second one with the new channel when `VOICE_STATE_UPDATE`
//! follows; the second supersedes the first. The rule behind it: dispatches pair up in rounds of
//! one state and one server update, in either order, and a token is kept across a channel
//! change only if it is of the same round as the state update. Should an unpaired token in fact
//! stem from an earlier pure server move, the `Move` it yields is followed by the right one as
//! soon as the new token arrives.
//!
//! Private calls (`guild_id` null, user accounts only) are out of scope: dispatches without a
//! guild id are ignored.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxwire::gateway_adapter::{
//!     VoiceAction, VoiceServerUpdate, VoiceStateTracker, VoiceStateUpdate,
//! };
//!
//! let now = Instant::now();
//! let mut tracker = VoiceStateTracker::new(1, 3).with_join_timeout(Duration::from_secs(10));
//! // Send this op 4 with the gateway library (see `VoiceStateSender`).
//! let op4 = tracker.request(Some(2), now);
//! assert_eq!(op4.to_json(), r#"{"op":4,"d":{"guild_id":"1","channel_id":"2","self_mute":false,"self_deaf":false}}"#);
//! assert_eq!(tracker.poll_timeout(), Some(now + Duration::from_secs(10)));
//!
//! // The server half may come first; nothing happens until both are in.
//! tracker.handle_voice_server(&VoiceServerUpdate {
//!     guild_id: Some(1),
//!     token: "t1".into(),
//!     endpoint: Some("wss://c-ams01.discord.media:443".into()),
//! });
//! assert_eq!(tracker.poll_action(), None);
//! // Other users' voice states are not ours.
//! tracker.handle_voice_state(&VoiceStateUpdate {
//!     guild_id: Some(1), channel_id: Some(2), user_id: 99, session_id: "x".into(),
//! });
//! assert_eq!(tracker.poll_action(), None);
//! tracker.handle_voice_state(&VoiceStateUpdate {
//!     guild_id: Some(1), channel_id: Some(2), user_id: 3, session_id: "s1".into(),
//! });
//! let Some(VoiceAction::Connect(info)) = tracker.poll_action() else { panic!() };
//! assert_eq!(info.endpoint, "c-ams01.discord.media:443"); // scheme stripped
//! assert_eq!((info.token.as_str(), info.session_id.as_str()), ("t1", "s1"));
//! assert_eq!((info.guild_id, info.channel_id, info.user_id), (1, 2, 3));
//! assert_eq!(tracker.poll_timeout(), None); // joined: no deadline
//!
//! // The server is reallocated, then moved.
//! tracker.handle_voice_server(&VoiceServerUpdate { guild_id: Some(1), token: "t1".into(), endpoint: None });
//! assert_eq!(tracker.poll_action(), Some(VoiceAction::Reallocating));
//! tracker.handle_voice_server(&VoiceServerUpdate {
//!     guild_id: Some(1), token: "t2".into(), endpoint: Some("c-fra02.discord.media".into()),
//! });
//! let Some(VoiceAction::Move(moved)) = tracker.poll_action() else { panic!() };
//! assert_eq!((moved.endpoint.as_str(), moved.token.as_str()), ("c-fra02.discord.media", "t2"));
//!
//! // Kicked.
//! tracker.handle_voice_state(&VoiceStateUpdate {
//!     guild_id: Some(1), channel_id: None, user_id: 3, session_id: "s1".into(),
//! });
//! assert_eq!(tracker.poll_action(), Some(VoiceAction::Left));
//! assert_eq!(tracker.poll_action(), None);
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::{ConnectionInfo, Error, VoiceConfig, VoiceConnection, VoiceEvent};

/// How long a join waits for both dispatches unless told otherwise.
pub const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A `VOICE_STATE_UPDATE` dispatch, reduced to what a voice connection needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceStateUpdate {
    /// The guild (`None` for private calls, which are ignored).
    pub guild_id: Option<u64>,
    /// The voice channel the user is in; `None` = disconnected, left or kicked.
    pub channel_id: Option<u64>,
    /// Whose voice state this is (only the own user's matter).
    pub user_id: u64,
    /// The session id for the voice gateway's Identify.
    pub session_id: String,
}

/// A `VOICE_SERVER_UPDATE` dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceServerUpdate {
    /// The guild (`None` for private calls, which are ignored).
    pub guild_id: Option<u64>,
    /// The voice token.
    pub token: String,
    /// `host[:port]` of the voice server; `None` while the server is being reallocated.
    pub endpoint: Option<String>,
}

/// A snowflake, which the gateway sends as a decimal string (numbers are accepted too).
fn snowflake(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

impl VoiceStateUpdate {
    /// Reads the dispatch's `d` object; `None` if `user_id` or `session_id` is missing or not a
    /// valid value. A missing or `null` `guild_id`/`channel_id` reads as `None`.
    pub fn from_json(d: &Value) -> Option<Self> {
        Some(Self {
            guild_id: d.get("guild_id").and_then(snowflake),
            channel_id: d.get("channel_id").and_then(snowflake),
            user_id: d.get("user_id").and_then(snowflake)?,
            session_id: d.get("session_id")?.as_str()?.to_owned(),
        })
    }
}

impl VoiceServerUpdate {
    /// Reads the dispatch's `d` object; `None` if `token` is missing or not a string. A missing
    /// or `null` `endpoint` reads as `None` (reallocation).
    pub fn from_json(d: &Value) -> Option<Self> {
        Some(Self {
            guild_id: d.get("guild_id").and_then(snowflake),
            token: d.get("token")?.as_str()?.to_owned(),
            endpoint: d.get("endpoint").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// One of the two dispatches a voice connection depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoiceDispatch {
    /// `VOICE_STATE_UPDATE`.
    State(VoiceStateUpdate),
    /// `VOICE_SERVER_UPDATE`.
    Server(VoiceServerUpdate),
}

impl VoiceDispatch {
    /// From a raw main-gateway dispatch: its event name `t` and payload `d`. `None` for other
    /// events and for malformed payloads.
    pub fn from_gateway(t: &str, d: &Value) -> Option<Self> {
        match t {
            "VOICE_STATE_UPDATE" => VoiceStateUpdate::from_json(d).map(Self::State),
            "VOICE_SERVER_UPDATE" => VoiceServerUpdate::from_json(d).map(Self::Server),
            _ => None,
        }
    }

    /// The guild the dispatch is about.
    pub fn guild_id(&self) -> Option<u64> {
        match self {
            Self::State(s) => s.guild_id,
            Self::Server(s) => s.guild_id,
        }
    }
}

/// Main gateway op 4, *Update Voice State*: join (`channel_id: Some`), move or leave (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateVoiceState {
    /// The guild.
    pub guild_id: u64,
    /// The voice channel to join, or `None` to leave.
    pub channel_id: Option<u64>,
    /// Join muted.
    pub self_mute: bool,
    /// Join deafened.
    pub self_deaf: bool,
}

impl UpdateVoiceState {
    /// The complete gateway message, `{"op":4,"d":{…}}`, with snowflakes as strings.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(112);
        let _ = write!(s, r#"{{"op":4,"d":{{"guild_id":"{}","channel_id":"#, self.guild_id);
        match self.channel_id {
            Some(c) => {
                let _ = write!(s, r#""{c}""#);
            }
            None => s.push_str("null"),
        }
        let _ = write!(s, r#","self_mute":{},"self_deaf":{}}}}}"#, self.self_mute, self.self_deaf);
        s
    }
}

/// Sends main gateway op 4 on the shard that serves the guild: what a gateway library provides.
///
/// Implemented for twilight's `MessageSender` (feature `twilight`) and serenity's
/// `ShardMessenger` and shard senders (feature `serenity`). An implementation only queues the
/// message; the answer arrives as dispatches.
pub trait VoiceStateSender {
    /// Queues `update` for sending. Fails if the shard's connection is gone.
    fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error>;
}

impl<T: VoiceStateSender + ?Sized> VoiceStateSender for &T {
    fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
        (**self).update_voice_state(update)
    }
}

impl<T: VoiceStateSender + ?Sized> VoiceStateSender for Arc<T> {
    fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
        (**self).update_voice_state(update)
    }
}

/// What a [`VoiceStateTracker`] asks its owner to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoiceAction {
    /// Both dispatches are in: connect with [`VoiceConnection::connect`]. If connecting fails,
    /// call [`VoiceStateTracker::reset`].
    Connect(ConnectionInfo),
    /// The connection moves to another voice server or channel: pass this to
    /// [`VoiceConnection::update_server`].
    Move(ConnectionInfo),
    /// The voice server is being reallocated (`endpoint: null`): the connection cannot work
    /// until the [`VoiceAction::Move`] that follows. Keep it.
    Reallocating,
    /// The own `channel_id` became `null`: left, disconnected or kicked. Drop the connection.
    Left,
    /// The join requested with [`VoiceStateTracker::request`] got no answer in time (a full
    /// channel or missing permissions send no dispatch at all).
    TimedOut,
}

/// The `VOICE_STATE_UPDATE` half.
#[derive(Clone, Debug)]
struct State {
    session_id: String,
    channel_id: u64,
}

/// The `VOICE_SERVER_UPDATE` half, with a usable endpoint.
#[derive(Clone, Debug)]
struct Server {
    token: String,
    endpoint: String,
}

/// Follows one guild's voice state and voice server for the own user (sans-IO).
///
/// Call order: [`request`](Self::request) when sending op 4 (optional: the tracker also follows
/// dispatches it did not ask for), `handle_voice_state`/`handle_voice_server`/`handle_dispatch`
/// for every dispatch, [`handle_timeout`](Self::handle_timeout) once
/// [`poll_timeout`](Self::poll_timeout) has passed, and after each input drain
/// [`poll_action`](Self::poll_action) until `None`. `now` must not go backwards.
///
/// Invariant: a [`VoiceAction::Connect`] or [`VoiceAction::Move`] always carries a session id,
/// channel, token and endpoint that all belong to the current join; values from before a
/// [`request`](Self::request) or a [`VoiceAction::Left`] are never reused.
#[derive(Clone, Debug)]
pub struct VoiceStateTracker {
    guild_id: u64,
    user_id: u64,
    join_timeout: Duration,
    state: Option<State>,
    server: Option<Server>,
    /// Which halves the current round has: a round is one state and one server update, in
    /// either order; a half that arrives when the round already has one starts the next round.
    /// A token is kept across a channel change only if it is of the state update's round.
    round_state: bool,
    round_server: bool,
    /// What was last handed out with `Connect` or `Move`; `Some` while a connection exists.
    current: Option<ConnectionInfo>,
    deadline: Option<Instant>,
    actions: VecDeque<VoiceAction>,
}

impl VoiceStateTracker {
    /// A tracker for the own user `user_id` in guild `guild_id`, with
    /// [`DEFAULT_JOIN_TIMEOUT`].
    pub fn new(guild_id: u64, user_id: u64) -> Self {
        Self {
            guild_id,
            user_id,
            join_timeout: DEFAULT_JOIN_TIMEOUT,
            state: None,
            server: None,
            round_state: false,
            round_server: false,
            current: None,
            deadline: None,
            actions: VecDeque::new(),
        }
    }

    /// How long a [`request`](Self::request)ed join waits for both dispatches.
    #[must_use]
    pub fn with_join_timeout(mut self, timeout: Duration) -> Self {
        self.join_timeout = timeout;
        self
    }

    /// The guild.
    pub fn guild_id(&self) -> u64 {
        self.guild_id
    }

    /// The own user.
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    /// The credentials last handed out with [`VoiceAction::Connect`] or [`VoiceAction::Move`],
    /// while the tracker considers the connection alive.
    pub fn connection_info(&self) -> Option<&ConnectionInfo> {
        self.current.as_ref()
    }

    /// Records that op 4 is being sent for `channel_id` (`None` = leave) and returns that op 4
    /// (unmuted, undeafened: set the fields before sending if needed).
    ///
    /// Everything learnt before is dropped (the values are never cached across joins), and a
    /// join gets a deadline ([`poll_timeout`](Self::poll_timeout)). While a connection exists,
    /// joining another channel yields a [`VoiceAction::Move`].
    pub fn request(&mut self, channel_id: Option<u64>, now: Instant) -> UpdateVoiceState {
        self.state = None;
        self.server = None;
        self.round_state = false;
        self.round_server = false;
        self.actions.retain(|a| matches!(a, VoiceAction::Left));
        self.deadline = channel_id.map(|_| now + self.join_timeout);
        UpdateVoiceState { guild_id: self.guild_id, channel_id, self_mute: false, self_deaf: false }
    }

    /// Forgets the connection and everything learnt, e.g. after [`VoiceConnection::connect`]
    /// failed; the next complete pair of dispatches yields [`VoiceAction::Connect`] again.
    pub fn reset(&mut self) {
        self.state = None;
        self.server = None;
        self.round_state = false;
        self.round_server = false;
        self.current = None;
        self.deadline = None;
        self.actions.clear();
    }

    /// Feeds either dispatch. Returns whether it concerned this tracker (own user, own guild).
    pub fn handle_dispatch(&mut self, dispatch: &VoiceDispatch) -> bool {
        match dispatch {
            VoiceDispatch::State(s) => self.handle_voice_state(s),
            VoiceDispatch::Server(s) => self.handle_voice_server(s),
        }
    }

    /// Feeds a `VOICE_STATE_UPDATE`. Returns whether it concerned this tracker: other users'
    /// voice states and other guilds are ignored.
    pub fn handle_voice_state(&mut self, update: &VoiceStateUpdate) -> bool {
        if update.guild_id != Some(self.guild_id) || update.user_id != self.user_id {
            return false;
        }
        let Some(channel_id) = update.channel_id else {
            let was_joined =
                self.current.is_some() || self.state.is_some() || self.deadline.is_some();
            self.state = None;
            self.server = None;
            self.round_state = false;
            self.round_server = false;
            self.current = None;
            self.deadline = None;
            self.actions.retain(|a| matches!(a, VoiceAction::TimedOut));
            if was_joined {
                self.actions.push_back(VoiceAction::Left);
            }
            return true;
        };
        if self.round_state {
            self.round_server = false;
        }
        self.round_state = true;
        let channel_changed = self.state.as_ref().map(|s| s.channel_id) != Some(channel_id);
        if channel_changed && !self.round_server {
            // The token always changes with the channel [D]: the stored one is for the old
            // channel, and the new one is on its way.
            self.server = None;
        }
        self.state = Some(State { session_id: update.session_id.clone(), channel_id });
        self.emit();
        true
    }

    /// Feeds a `VOICE_SERVER_UPDATE`. Returns whether it concerned this tracker (own guild).
    /// A `wss://` prefix and a trailing slash are stripped from the endpoint; a `null` (or empty)
    /// endpoint means reallocation.
    pub fn handle_voice_server(&mut self, update: &VoiceServerUpdate) -> bool {
        if update.guild_id != Some(self.guild_id) {
            return false;
        }
        let endpoint = update.endpoint.as_deref().map(strip_endpoint).filter(|e| !e.is_empty());
        if self.round_server {
            self.round_state = false;
        }
        self.round_server = true;
        let Some(endpoint) = endpoint else {
            let had_server = self.server.take().is_some();
            if had_server && self.current.is_some() {
                self.push(VoiceAction::Reallocating);
            }
            return true;
        };
        self.server = Some(Server { token: update.token.clone(), endpoint: endpoint.to_owned() });
        self.emit();
        true
    }

    /// Ends a requested join whose deadline has passed with [`VoiceAction::TimedOut`]; does
    /// nothing before the deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.state = None;
            self.server = None;
            self.round_state = false;
            self.round_server = false;
            self.push(VoiceAction::TimedOut);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due: the deadline of a join in progress.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next action, oldest first. Unpolled moves are merged, so the queue stays short.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<VoiceAction> {
        self.actions.pop_front()
    }

    /// Hands out the credentials if both halves are in and they differ from the current ones.
    fn emit(&mut self) {
        let (Some(state), Some(server)) = (&self.state, &self.server) else {
            return;
        };
        let info = ConnectionInfo {
            endpoint: server.endpoint.clone(),
            token: server.token.clone(),
            session_id: state.session_id.clone(),
            guild_id: self.guild_id,
            channel_id: state.channel_id,
            user_id: self.user_id,
        };
        self.deadline = None;
        match &self.current {
            None => self.push(VoiceAction::Connect(info.clone())),
            Some(current) if *current != info => self.push(VoiceAction::Move(info.clone())),
            Some(_) => return,
        }
        self.current = Some(info);
    }

    /// Queues `action`, merging it into unpolled actions it supersedes.
    fn push(&mut self, action: VoiceAction) {
        match action {
            VoiceAction::Connect(info) | VoiceAction::Move(info) => {
                if matches!(self.actions.back(), Some(VoiceAction::Reallocating)) {
                    self.actions.pop_back();
                }
                match self.actions.back_mut() {
                    Some(VoiceAction::Connect(prev) | VoiceAction::Move(prev)) => *prev = info,
                    _ if self.current.is_none() => {
                        self.actions.push_back(VoiceAction::Connect(info));
                    }
                    _ => self.actions.push_back(VoiceAction::Move(info)),
                }
            }
            other => {
                if self.actions.back() != Some(&other) {
                    self.actions.push_back(other);
                }
            }
        }
    }
}

/// `host[:port]` without a `wss://`/`ws://` scheme, surrounding space or a trailing slash.
fn strip_endpoint(endpoint: &str) -> &str {
    let e = endpoint.trim();
    let e = e.strip_prefix("wss://").or_else(|| e.strip_prefix("ws://")).unwrap_or(e);
    e.trim_end_matches('/')
}

type Routes = HashMap<u64, mpsc::UnboundedSender<VoiceDispatch>>;

/// Hands main-gateway voice dispatches to the joins and calls of their guild.
///
/// Clone it into the gateway event loop and call [`dispatch`](Self::dispatch) for every
/// `VOICE_STATE_UPDATE` and `VOICE_SERVER_UPDATE`; [`VoiceCall::join`] subscribes. Dispatches
/// for guilds nobody is subscribed to are dropped (they are never cached).
#[derive(Clone, Debug, Default)]
pub struct VoiceRouter {
    routes: Arc<Mutex<Routes>>,
}

impl VoiceRouter {
    /// A router without subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        // The map stays consistent whatever panicked while holding the lock.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `dispatch` to its guild's subscriber. Returns whether there was one. Never blocks.
    pub fn dispatch(&self, dispatch: VoiceDispatch) -> bool {
        let Some(guild_id) = dispatch.guild_id() else {
            return false;
        };
        let mut routes = self.routes();
        let Some(tx) = routes.get(&guild_id) else {
            return false;
        };
        if tx.send(dispatch).is_ok() {
            true
        } else {
            routes.remove(&guild_id);
            false
        }
    }

    /// Subscribes to one guild's dispatches, replacing (and ending) an earlier subscription.
    pub fn subscribe(&self, guild_id: u64) -> VoiceDispatches {
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes().insert(guild_id, tx);
        VoiceDispatches { rx }
    }
}

/// One guild's voice dispatches, from [`VoiceRouter::subscribe`].
#[derive(Debug)]
pub struct VoiceDispatches {
    rx: mpsc::UnboundedReceiver<VoiceDispatch>,
}

impl VoiceDispatches {
    /// The next dispatch; `None` once the subscription was replaced or every router is gone.
    pub async fn recv(&mut self) -> Option<VoiceDispatch> {
        self.rx.recv().await
    }
}

/// What [`VoiceCall::join`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The guild.
    pub guild_id: u64,
    /// The voice channel.
    pub channel_id: u64,
    /// The own user id (from the main gateway's READY).
    pub user_id: u64,
    /// Join muted.
    pub self_mute: bool,
    /// Join deafened.
    pub self_deaf: bool,
    /// How long to wait for both dispatches.
    pub timeout: Duration,
}

impl JoinRequest {
    /// Join `channel_id` of `guild_id` as `user_id`, unmuted and undeafened, waiting at most
    /// [`DEFAULT_JOIN_TIMEOUT`].
    pub fn new(guild_id: u64, channel_id: u64, user_id: u64) -> Self {
        Self {
            guild_id,
            channel_id,
            user_id,
            self_mute: false,
            self_deaf: false,
            timeout: DEFAULT_JOIN_TIMEOUT,
        }
    }
}

/// What a [`VoiceCall`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// An event of the voice connection.
    Voice(VoiceEvent),
    /// The call was moved to another voice server or channel and is reconnecting there.
    Moved(ConnectionInfo),
    /// The voice server is being reallocated; a [`CallEvent::Moved`] follows.
    Reallocating,
    /// The bot left the channel, was disconnected or was kicked. Drop the call.
    Left,
}

/// A voice connection joined through the main gateway, kept on its server.
#[derive(Debug)]
pub struct VoiceCall<S> {
    connection: VoiceConnection,
    tracker: VoiceStateTracker,
    dispatches: VoiceDispatches,
    dispatches_open: bool,
    sender: S,
}

fn tokio_now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl<S: VoiceStateSender> VoiceCall<S> {
    /// Sends op 4 through `sender`, waits for both dispatches (at most `request.timeout`) and
    /// connects. `router` must be fed by the main-gateway event loop, which must keep running
    /// meanwhile (run the join in a task of its own). One call per guild: a second join of the
    /// same guild takes the guild's dispatches over from the first call.
    ///
    /// Fails with [`Error::Timeout`] if no answer came (full channel, missing permissions),
    /// [`Error::Disconnected`] if the bot was disconnected at once or the router went away, or
    /// with the connection's error (after sending op 4 to leave again).
    pub async fn join(
        sender: S,
        router: &VoiceRouter,
        request: JoinRequest,
        config: VoiceConfig,
    ) -> Result<Self, Error> {
        let mut dispatches = router.subscribe(request.guild_id);
        let mut tracker = VoiceStateTracker::new(request.guild_id, request.user_id)
            .with_join_timeout(request.timeout);
        let op4 = tracker.request(Some(request.channel_id), tokio_now());
        sender.update_voice_state(&UpdateVoiceState {
            self_mute: request.self_mute,
            self_deaf: request.self_deaf,
            ..op4
        })?;
        loop {
            while let Some(action) = tracker.poll_action() {
                match action {
                    VoiceAction::Connect(info) | VoiceAction::Move(info) => {
                        return match VoiceConnection::connect(info, config).await {
                            Ok(connection) => Ok(Self {
                                connection,
                                tracker,
                                dispatches,
                                dispatches_open: true,
                                sender,
                            }),
                            Err(e) => {
                                let leave = tracker.request(None, tokio_now());
                                let _ = sender.update_voice_state(&leave);
                                Err(e)
                            }
                        };
                    }
                    VoiceAction::TimedOut => {
                        return Err(Error::Timeout(
                            "waiting for VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE (full \
                             channel or missing permissions?)",
                        ));
                    }
                    VoiceAction::Left => return Err(Error::Disconnected),
                    VoiceAction::Reallocating => {}
                }
            }
            let deadline = tracker.poll_timeout().unwrap_or_else(|| tokio_now() + request.timeout);
            tokio::select! {
                dispatch = dispatches.recv() => match dispatch {
                    Some(d) => {
                        tracker.handle_dispatch(&d);
                    }
                    None => return Err(Error::Disconnected),
                },
                () = tokio::time::sleep_until(deadline.into()) => tracker.handle_timeout(tokio_now()),
            }
        }
    }

    /// The voice connection: play, listen, stats.
    pub fn connection(&self) -> &VoiceConnection {
        &self.connection
    }

    /// The credentials the connection currently uses.
    pub fn info(&self) -> Option<&ConnectionInfo> {
        self.tracker.connection_info()
    }

    /// The next event. Server and channel moves are followed here (with
    /// [`VoiceConnection::update_server`]), so keep calling it. `None` once the connection has
    /// ended.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        loop {
            while let Some(action) = self.tracker.poll_action() {
                match action {
                    VoiceAction::Connect(info) | VoiceAction::Move(info) => {
                        self.connection.update_server(info.clone()).await.ok()?;
                        return Some(CallEvent::Moved(info));
                    }
                    VoiceAction::Reallocating => return Some(CallEvent::Reallocating),
                    VoiceAction::Left => return Some(CallEvent::Left),
                    VoiceAction::TimedOut => {}
                }
            }
            tokio::select! {
                event = self.connection.next_event() => return event.map(CallEvent::Voice),
                dispatch = self.dispatches.recv(), if self.dispatches_open => match dispatch {
                    Some(d) => {
                        self.tracker.handle_dispatch(&d);
                    }
                    None => self.dispatches_open = false,
                },
            }
        }
    }

    /// Leaves: op 4 with a `null` channel, then a clean disconnect. Fails only if op 4 could
    /// not be queued (the connection is closed either way).
    pub async fn leave(mut self) -> Result<(), Error> {
        let leave = self.tracker.request(None, tokio_now());
        let sent = self.sender.update_voice_state(&leave);
        self.connection.disconnect().await;
        sent
    }
}

/// Adapter for [twilight-gateway](https://docs.rs/twilight-gateway) 0.18 (feature `twilight`).
///
/// Feed [`voice_dispatch`](twilight::voice_dispatch)`(&event)` of every event into a
/// [`VoiceRouter`], and join with the shard's [`MessageSender`](twilight_gateway::MessageSender)
/// (from `Shard::sender`), which implements [`VoiceStateSender`]. See the `twilight_bot` example.
#[cfg(feature = "twilight")]
pub mod twilight {
    use twilight_gateway::{Event, MessageSender};
    use twilight_model::gateway::payload::incoming;
    use twilight_model::gateway::payload::outgoing;
    use twilight_model::id::Id;
    use twilight_model::voice::VoiceState;

    use super::{
        UpdateVoiceState, VoiceDispatch, VoiceServerUpdate, VoiceStateSender, VoiceStateUpdate,
    };
    use crate::Error;

    /// The voice dispatch in `event`, if it is one.
    pub fn voice_dispatch(event: &Event) -> Option<VoiceDispatch> {
        match event {
            Event::VoiceStateUpdate(update) => Some(VoiceDispatch::State(voice_state(&update.0))),
            Event::VoiceServerUpdate(update) => Some(VoiceDispatch::Server(voice_server(update))),
            _ => None,
        }
    }

    /// A twilight voice state as the tracker's input.
    pub fn voice_state(state: &VoiceState) -> VoiceStateUpdate {
        VoiceStateUpdate {
            guild_id: state.guild_id.map(Id::get),
            channel_id: state.channel_id.map(Id::get),
            user_id: state.user_id.get(),
            session_id: state.session_id.clone(),
        }
    }

    /// A twilight `VOICE_SERVER_UPDATE` as the tracker's input.
    pub fn voice_server(update: &incoming::VoiceServerUpdate) -> VoiceServerUpdate {
        VoiceServerUpdate {
            guild_id: Some(update.guild_id.get()),
            token: update.token.clone(),
            endpoint: update.endpoint.clone(),
        }
    }

    fn id<T>(value: u64, what: &str) -> Result<Id<T>, Error> {
        Id::new_checked(value).ok_or_else(|| Error::InvalidArgument(format!("{what} id is 0")))
    }

    impl VoiceStateSender for MessageSender {
        fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
            let guild = id(update.guild_id, "guild")?;
            let channel = update.channel_id.map(|c| id(c, "channel")).transpose()?;
            let command =
                outgoing::UpdateVoiceState::new(guild, channel, update.self_deaf, update.self_mute);
            self.command(&command).map_err(|e| Error::WebSocket(format!("main gateway shard: {e}")))
        }
    }
}

/// Adapter for [serenity](https://docs.rs/serenity) 0.12 (feature `serenity`).
///
/// [`SerenityVoice`](serenity::SerenityVoice) is serenity's voice hook: register it with
/// `ClientBuilder::voice_manager_arc` and it receives the voice dispatches and the shard senders;
/// [`SerenityVoice::join`](serenity::SerenityVoice::join) then joins a channel. A serenity
/// `ShardMessenger` (`Context::shard`) also implements [`VoiceStateSender`]. See the
/// `serenity_bot` example.
#[cfg(feature = "serenity")]
pub mod serenity {
    use std::collections::HashMap;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use ::serenity::async_trait;
    use ::serenity::futures::channel::mpsc::UnboundedSender;
    use ::serenity::gateway::{ShardMessenger, ShardRunnerMessage, VoiceGatewayManager};
    use ::serenity::model::id::{ChannelId, GuildId, UserId};
    use ::serenity::model::voice::VoiceState;
    use serenity_tungstenite::Message;

    use super::{
        JoinRequest, UpdateVoiceState, VoiceCall, VoiceDispatch, VoiceRouter, VoiceServerUpdate,
        VoiceStateSender, VoiceStateUpdate,
    };
    use crate::{Error, VoiceConfig};

    /// A serenity voice state as the tracker's input.
    pub fn voice_state(state: &VoiceState) -> VoiceStateUpdate {
        VoiceStateUpdate {
            guild_id: state.guild_id.map(GuildId::get),
            channel_id: state.channel_id.map(ChannelId::get),
            user_id: state.user_id.get(),
            session_id: state.session_id.clone(),
        }
    }

    /// A serenity `VOICE_SERVER_UPDATE` (as `VoiceGatewayManager::server_update` sees it) as
    /// the tracker's input.
    pub fn voice_server(
        guild_id: GuildId,
        endpoint: Option<&str>,
        token: &str,
    ) -> VoiceServerUpdate {
        VoiceServerUpdate {
            guild_id: Some(guild_id.get()),
            token: token.to_owned(),
            endpoint: endpoint.map(str::to_owned),
        }
    }

    fn op4_message(update: &UpdateVoiceState) -> ShardRunnerMessage {
        ShardRunnerMessage::Message(Message::Text(update.to_json()))
    }

    impl VoiceStateSender for ShardMessenger {
        /// Never fails: serenity logs a send to a shard that is gone.
        fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
            self.send_to_shard(op4_message(update));
            Ok(())
        }
    }

    /// The sending side of one serenity shard, as [`VoiceGatewayManager::register_shard`]
    /// hands it out.
    #[derive(Clone, Debug)]
    pub struct SerenityShard(UnboundedSender<ShardRunnerMessage>);

    impl VoiceStateSender for SerenityShard {
        fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
            self.0
                .unbounded_send(op4_message(update))
                .map_err(|_| Error::WebSocket("main gateway shard is gone".into()))
        }
    }

    #[derive(Debug, Default)]
    struct Shards {
        count: u32,
        user_id: Option<u64>,
        senders: HashMap<u32, UnboundedSender<ShardRunnerMessage>>,
    }

    /// serenity's voice hook for voxwire: routes voice dispatches into a [`VoiceRouter`] and
    /// keeps every shard's sender for op 4.
    #[derive(Debug, Default)]
    pub struct SerenityVoice {
        router: VoiceRouter,
        shards: Mutex<Shards>,
    }

    impl SerenityVoice {
        /// A hook without shards; serenity registers them as they become ready.
        pub fn new() -> Self {
            Self::default()
        }

        fn shards(&self) -> MutexGuard<'_, Shards> {
            self.shards.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// The router the dispatches go to.
        pub fn router(&self) -> &VoiceRouter {
            &self.router
        }

        /// The bot's user id, once serenity has started.
        pub fn user_id(&self) -> Option<u64> {
            self.shards().user_id
        }

        /// The sender of the shard that serves `guild_id` (`(guild_id >> 22) % shard_count`),
        /// once that shard is ready.
        pub fn shard_for(&self, guild_id: u64) -> Option<SerenityShard> {
            let shards = self.shards();
            let shard = (guild_id >> 22).checked_rem(u64::from(shards.count))?;
            shards.senders.get(&(shard as u32)).cloned().map(SerenityShard)
        }

        /// Joins `channel_id` of `guild_id` (see [`VoiceCall::join`]).
        pub async fn join(
            &self,
            guild_id: u64,
            channel_id: u64,
            config: VoiceConfig,
        ) -> Result<VoiceCall<SerenityShard>, Error> {
            let user_id = self.user_id().ok_or(Error::Disconnected)?;
            let shard = self.shard_for(guild_id).ok_or(Error::Disconnected)?;
            let request = JoinRequest::new(guild_id, channel_id, user_id);
            VoiceCall::join(shard, &self.router, request, config).await
        }
    }

    #[async_trait]
    impl VoiceGatewayManager for SerenityVoice {
        async fn initialise(&self, shard_count: u32, user_id: UserId) {
            let mut shards = self.shards();
            shards.count = shard_count;
            shards.user_id = Some(user_id.get());
        }

        async fn register_shard(&self, shard_id: u32, sender: UnboundedSender<ShardRunnerMessage>) {
            self.shards().senders.insert(shard_id, sender);
        }

        async fn deregister_shard(&self, shard_id: u32) {
            self.shards().senders.remove(&shard_id);
        }

        async fn server_update(&self, guild_id: GuildId, endpoint: &Option<String>, token: &str) {
            let update = voice_server(guild_id, endpoint.as_deref(), token);
            self.router.dispatch(VoiceDispatch::Server(update));
        }

        async fn state_update(&self, _guild_id: GuildId, voice_state: &VoiceState) {
            self.router.dispatch(VoiceDispatch::State(self::voice_state(voice_state)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUILD: u64 = 10;
    const CHANNEL: u64 = 20;
    const USER: u64 = 30;

    fn state(channel: Option<u64>, session: &str) -> VoiceStateUpdate {
        VoiceStateUpdate {
            guild_id: Some(GUILD),
            channel_id: channel,
            user_id: USER,
            session_id: session.into(),
        }
    }

    fn server(token: &str, endpoint: Option<&str>) -> VoiceServerUpdate {
        VoiceServerUpdate {
            guild_id: Some(GUILD),
            token: token.into(),
            endpoint: endpoint.map(str::to_owned),
        }
    }

    fn info(endpoint: &str, token: &str, session: &str, channel: u64) -> ConnectionInfo {
        ConnectionInfo {
            endpoint: endpoint.into(),
            token: token.into(),
            session_id: session.into(),
            guild_id: GUILD,
            channel_id: channel,
            user_id: USER,
        }
    }

    fn drain(t: &mut VoiceStateTracker) -> Vec<VoiceAction> {
        std::iter::from_fn(|| t.poll_action()).collect()
    }

    /// A tracker that has handed out a connection to `CHANNEL` with token `t1` on `a:443`.
    fn joined() -> VoiceStateTracker {
        let mut t = VoiceStateTracker::new(GUILD, USER);
        let _ = t.request(Some(CHANNEL), Instant::now());
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        t.handle_voice_server(&server("t1", Some("a:443")));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("a:443", "t1", "s1", CHANNEL))]);
        t
    }

    #[test]
    fn connect_in_either_order() {
        for server_first in [false, true] {
            let now = Instant::now();
            let mut t = VoiceStateTracker::new(GUILD, USER);
            let _ = t.request(Some(CHANNEL), now);
            if server_first {
                assert!(t.handle_voice_server(&server("t1", Some("a:443"))));
                assert_eq!(t.poll_action(), None);
                assert!(t.handle_voice_state(&state(Some(CHANNEL), "s1")));
            } else {
                assert!(t.handle_voice_state(&state(Some(CHANNEL), "s1")));
                assert_eq!(t.poll_action(), None);
                assert!(t.handle_voice_server(&server("t1", Some("a:443"))));
            }
            assert_eq!(
                drain(&mut t),
                [VoiceAction::Connect(info("a:443", "t1", "s1", CHANNEL))],
                "server first: {server_first}"
            );
            assert_eq!(t.poll_timeout(), None);
            assert_eq!(t.connection_info(), Some(&info("a:443", "t1", "s1", CHANNEL)));
        }
    }

    #[test]
    fn endpoint_scheme_and_slash_are_stripped() {
        for raw in ["wss://a:443", "wss://a:443/", " a:443 ", "ws://a:443", "a:443"] {
            let mut t = VoiceStateTracker::new(GUILD, USER);
            t.handle_voice_state(&state(Some(CHANNEL), "s1"));
            t.handle_voice_server(&server("t1", Some(raw)));
            assert_eq!(
                drain(&mut t),
                [VoiceAction::Connect(info("a:443", "t1", "s1", CHANNEL))],
                "{raw:?}"
            );
        }
    }

    #[test]
    fn other_users_and_guilds_are_ignored() {
        let mut t = VoiceStateTracker::new(GUILD, USER);
        let _ = t.request(Some(CHANNEL), Instant::now());
        let other_user = VoiceStateUpdate { user_id: USER + 1, ..state(Some(CHANNEL), "x") };
        let other_guild = VoiceStateUpdate { guild_id: Some(GUILD + 1), ..state(Some(1), "y") };
        let private = VoiceStateUpdate { guild_id: None, ..state(Some(1), "z") };
        assert!(!t.handle_voice_state(&other_user));
        assert!(!t.handle_voice_state(&other_guild));
        assert!(!t.handle_voice_state(&private));
        let other_server =
            VoiceServerUpdate { guild_id: Some(GUILD + 1), ..server("u", Some("b")) };
        assert!(!t.handle_voice_server(&other_server));
        assert!(!t.handle_voice_server(&VoiceServerUpdate { guild_id: None, ..server("u", None) }));
        assert_eq!(t.poll_action(), None);
        // Another user's update must not complete the pair either.
        assert!(t.handle_voice_server(&server("t1", Some("a"))));
        assert!(!t.handle_voice_state(&other_user));
        assert_eq!(t.poll_action(), None);
        assert!(t.handle_voice_state(&state(Some(CHANNEL), "s1")));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("a", "t1", "s1", CHANNEL))]);
    }

    #[test]
    fn null_endpoint_waits_then_moves() {
        let mut t = joined();
        assert!(t.handle_voice_server(&server("t1", None)));
        assert_eq!(drain(&mut t), [VoiceAction::Reallocating]);
        // A repeated null is not a second reallocation.
        t.handle_voice_server(&server("t1", None));
        assert_eq!(t.poll_action(), None);
        t.handle_voice_server(&server("t2", Some("b:443")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b:443", "t2", "s1", CHANNEL))]);
        assert_eq!(t.connection_info(), Some(&info("b:443", "t2", "s1", CHANNEL)));
    }

    #[test]
    fn null_endpoint_before_connect_only_waits() {
        let mut t = VoiceStateTracker::new(GUILD, USER);
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        t.handle_voice_server(&server("t0", None));
        t.handle_voice_server(&server("t1", Some("")));
        assert_eq!(t.poll_action(), None);
        t.handle_voice_server(&server("t1", Some("a")));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("a", "t1", "s1", CHANNEL))]);
    }

    #[test]
    fn server_move_without_state_update() {
        let mut t = joined();
        t.handle_voice_server(&server("t2", Some("b")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL))]);
        // The same dispatch again changes nothing.
        t.handle_voice_server(&server("t2", Some("b")));
        assert_eq!(t.poll_action(), None);
    }

    #[test]
    fn channel_move_state_first_waits_for_the_new_token() {
        let mut t = joined();
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        assert_eq!(t.poll_action(), None, "the old token belongs to the old channel");
        t.handle_voice_server(&server("t2", Some("a:443")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("a:443", "t2", "s1", CHANNEL + 1))]);
    }

    #[test]
    fn channel_move_server_first_moves_twice_and_ends_right() {
        let mut t = joined();
        t.handle_voice_server(&server("t2", Some("b")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL))]);
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL + 1))]);
        // If nobody polled in between, the two merge into one.
        let mut t = joined();
        t.handle_voice_server(&server("t2", Some("b")));
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL + 1))]);
    }

    #[test]
    fn server_move_then_later_channel_move_self_corrects() {
        let mut t = joined();
        t.handle_voice_server(&server("t2", Some("b")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL))]);
        // Much later, a channel move with the state half first: t2 cannot be told apart from
        // a server-first move, so it is tried, and the new token corrects it.
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL + 1))]);
        t.handle_voice_server(&server("t3", Some("c")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("c", "t3", "s1", CHANNEL + 1))]);
        // With any own voice state in between (e.g. a mute toggle), t2 is known to be old.
        let mut t = joined();
        t.handle_voice_server(&server("t2", Some("b")));
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t2", "s1", CHANNEL))]);
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        assert_eq!(t.poll_action(), None);
        t.handle_voice_server(&server("t3", Some("c")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("c", "t3", "s1", CHANNEL + 1))]);
    }

    #[test]
    fn unrelated_state_updates_change_nothing() {
        let mut t = joined();
        // Mute/deaf toggles repeat the same channel and session.
        for _ in 0..3 {
            t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        }
        assert_eq!(t.poll_action(), None);
        // A new main-gateway session is a move with the same token.
        t.handle_voice_state(&state(Some(CHANNEL), "s2"));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("a:443", "t1", "s2", CHANNEL))]);
    }

    #[test]
    fn null_channel_means_left_and_forgets_everything() {
        let mut t = joined();
        t.handle_voice_state(&state(None, "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Left]);
        assert_eq!(t.connection_info(), None);
        // A later server update alone does not reuse the old session.
        t.handle_voice_server(&server("t3", Some("c")));
        assert_eq!(t.poll_action(), None);
        t.handle_voice_state(&state(Some(CHANNEL), "s3"));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("c", "t3", "s3", CHANNEL))]);
        // Left while idle is not reported.
        let mut idle = VoiceStateTracker::new(GUILD, USER);
        idle.handle_voice_state(&state(None, "s1"));
        assert_eq!(idle.poll_action(), None);
    }

    #[test]
    fn left_drops_unpolled_moves() {
        let mut t = joined();
        t.handle_voice_server(&server("t1", None));
        t.handle_voice_server(&server("t2", Some("b")));
        t.handle_voice_state(&state(None, "s1"));
        assert_eq!(drain(&mut t), [VoiceAction::Left]);
    }

    #[test]
    fn unpolled_actions_merge() {
        let mut t = joined();
        for i in 0..100 {
            t.handle_voice_server(&server("t", None));
            t.handle_voice_server(&server(&format!("t{i}"), Some("b")));
        }
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("b", "t99", "s1", CHANNEL))]);
        // A Connect that was not polled stays a Connect when superseded.
        let mut t = VoiceStateTracker::new(GUILD, USER);
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        t.handle_voice_server(&server("t1", Some("a")));
        t.handle_voice_server(&server("t2", Some("b")));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("b", "t2", "s1", CHANNEL))]);
    }

    #[test]
    fn request_never_reuses_old_values() {
        let now = Instant::now();
        let mut t = VoiceStateTracker::new(GUILD, USER);
        // Dispatches from before the request (e.g. an earlier join) are dropped by it.
        t.handle_voice_state(&state(Some(CHANNEL), "old"));
        let op4 = t.request(Some(CHANNEL), now);
        assert_eq!(
            op4,
            UpdateVoiceState {
                guild_id: GUILD,
                channel_id: Some(CHANNEL),
                self_mute: false,
                self_deaf: false
            }
        );
        t.handle_voice_server(&server("t1", Some("a")));
        assert_eq!(t.poll_action(), None);
        t.handle_voice_state(&state(Some(CHANNEL), "new"));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("a", "t1", "new", CHANNEL))]);
    }

    #[test]
    fn request_to_another_channel_while_connected_is_a_move() {
        let mut t = joined();
        let now = Instant::now();
        let _ = t.request(Some(CHANNEL + 1), now);
        assert!(t.poll_timeout().is_some());
        t.handle_voice_state(&state(Some(CHANNEL + 1), "s1"));
        t.handle_voice_server(&server("t2", Some("a:443")));
        assert_eq!(drain(&mut t), [VoiceAction::Move(info("a:443", "t2", "s1", CHANNEL + 1))]);
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn join_times_out_at_the_deadline_only() {
        let now = Instant::now();
        let mut t = VoiceStateTracker::new(GUILD, USER).with_join_timeout(Duration::from_secs(5));
        let _ = t.request(Some(CHANNEL), now);
        let deadline = t.poll_timeout().expect("a join has a deadline");
        assert_eq!(deadline, now + Duration::from_secs(5));
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        t.handle_timeout(now + Duration::from_millis(4999));
        assert_eq!(t.poll_action(), None);
        t.handle_timeout(deadline);
        assert_eq!(drain(&mut t), [VoiceAction::TimedOut]);
        assert_eq!(t.poll_timeout(), None);
        // The half that arrived before the timeout is gone.
        t.handle_voice_server(&server("t1", Some("a")));
        assert_eq!(t.poll_action(), None);
        // Leaving has no deadline.
        let _ = t.request(None, now);
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn reset_forgets_the_connection() {
        let mut t = joined();
        t.reset();
        assert_eq!(t.connection_info(), None);
        t.handle_voice_state(&state(Some(CHANNEL), "s1"));
        t.handle_voice_server(&server("t1", Some("a:443")));
        assert_eq!(drain(&mut t), [VoiceAction::Connect(info("a:443", "t1", "s1", CHANNEL))]);
    }

    #[test]
    fn op4_json() {
        let join = UpdateVoiceState {
            guild_id: 1,
            channel_id: Some(u64::MAX),
            self_mute: true,
            self_deaf: false,
        };
        let v: Value = serde_json::from_str(&join.to_json()).expect("valid JSON");
        assert_eq!(
            v,
            serde_json::json!({"op": 4, "d": {"guild_id": "1", "channel_id": "18446744073709551615",
                "self_mute": true, "self_deaf": false}})
        );
        let leave = UpdateVoiceState { channel_id: None, ..join };
        let v: Value = serde_json::from_str(&leave.to_json()).expect("valid JSON");
        assert_eq!(v["d"]["channel_id"], Value::Null);
    }

    #[test]
    fn dispatches_from_raw_json() {
        let state = serde_json::json!({
            "guild_id": "10", "channel_id": "20", "user_id": "30", "session_id": "abc",
            "deaf": false, "mute": false, "self_deaf": false, "self_mute": true,
            "self_video": false, "suppress": false, "request_to_speak_timestamp": null
        });
        assert_eq!(
            VoiceDispatch::from_gateway("VOICE_STATE_UPDATE", &state),
            Some(VoiceDispatch::State(VoiceStateUpdate {
                guild_id: Some(10),
                channel_id: Some(20),
                user_id: 30,
                session_id: "abc".into()
            }))
        );
        let left = serde_json::json!({"guild_id": "10", "channel_id": null, "user_id": 30,
            "session_id": "abc"});
        assert_eq!(VoiceStateUpdate::from_json(&left).and_then(|s| s.channel_id), None);
        let server = serde_json::json!({"token": "tok", "guild_id": "10",
            "endpoint": "x.discord.media:443"});
        assert_eq!(
            VoiceDispatch::from_gateway("VOICE_SERVER_UPDATE", &server),
            Some(VoiceDispatch::Server(VoiceServerUpdate {
                guild_id: Some(10),
                token: "tok".into(),
                endpoint: Some("x.discord.media:443".into())
            }))
        );
        let realloc = serde_json::json!({"token": "tok", "guild_id": "10", "endpoint": null});
        assert_eq!(VoiceServerUpdate::from_json(&realloc).and_then(|s| s.endpoint), None);
        // Malformed payloads and other events are rejected, never a panic.
        for bad in [
            serde_json::json!(null),
            serde_json::json!([1, 2]),
            serde_json::json!({"user_id": "x", "session_id": "s"}),
            serde_json::json!({"user_id": "-1", "session_id": "s"}),
            serde_json::json!({"user_id": "1", "session_id": 5}),
        ] {
            assert_eq!(VoiceDispatch::from_gateway("VOICE_STATE_UPDATE", &bad), None, "{bad}");
        }
        assert_eq!(
            VoiceDispatch::from_gateway("VOICE_SERVER_UPDATE", &serde_json::json!({"token": 1})),
            None
        );
        assert_eq!(VoiceDispatch::from_gateway("MESSAGE_CREATE", &state), None);
    }

    /// Random walks over all inputs; checks the invariants after every step.
    #[test]
    fn random_sequences_keep_the_invariants() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let start = Instant::now();
        for walk in 0..200 {
            let mut t = VoiceStateTracker::new(GUILD, USER);
            let mut now = start;
            // What the model knows since the last reset point (request, Left, TimedOut).
            let mut last_token: Option<String> = None;
            let mut last_state: Option<(u64, String)> = None;
            let mut connected = false;
            for step in 0..200 {
                let mut reset = false;
                match rand(8) {
                    0 => {
                        let channel = [None, Some(1), Some(2)][rand(3) as usize];
                        let _ = t.request(channel, now);
                        reset = true;
                    }
                    1 | 2 => {
                        let channel = [None, Some(1), Some(2)][rand(3) as usize];
                        let session = format!("s{}", rand(2));
                        t.handle_voice_state(&state(channel, &session));
                        match channel {
                            Some(c) => last_state = Some((c, session)),
                            None => reset = true,
                        }
                    }
                    3 => {
                        let other = VoiceStateUpdate { user_id: USER + 1, ..state(Some(9), "o") };
                        t.handle_voice_state(&other);
                    }
                    4 | 5 => {
                        let token = format!("w{walk}t{step}");
                        let endpoint =
                            [None, Some("wss://h:1/"), Some("h:2"), Some("")][rand(4) as usize];
                        t.handle_voice_server(&server(&token, endpoint));
                        last_token = endpoint.filter(|e| !e.is_empty()).map(|_| token);
                    }
                    6 => {
                        let other = VoiceServerUpdate {
                            guild_id: Some(GUILD + 1),
                            ..server("x", Some("x"))
                        };
                        t.handle_voice_server(&other);
                    }
                    _ => {
                        now += Duration::from_secs(rand(15));
                        if t.poll_timeout().is_some_and(|d| now >= d) {
                            reset = true;
                        }
                        t.handle_timeout(now);
                    }
                }
                if reset {
                    last_token = None;
                    last_state = None;
                }
                let actions = drain(&mut t);
                assert!(actions.len() <= 2, "walk {walk} step {step}: {actions:?}");
                for action in actions {
                    match &action {
                        VoiceAction::Connect(i) | VoiceAction::Move(i) => {
                            assert_eq!(matches!(action, VoiceAction::Move(_)), connected);
                            assert!(
                                !i.endpoint.starts_with("wss://") && !i.endpoint.ends_with('/')
                            );
                            assert_eq!(Some(&i.token), last_token.as_ref(), "stale token");
                            let (channel, session) = last_state.clone().expect("a state");
                            assert_eq!((i.channel_id, &i.session_id), (channel, &session));
                            connected = true;
                        }
                        VoiceAction::Left => connected = false,
                        VoiceAction::Reallocating => assert!(connected),
                        VoiceAction::TimedOut => {}
                    }
                }
                assert_eq!(t.connection_info().is_some(), connected);
            }
        }
    }

    #[tokio::test]
    async fn router_routes_by_guild_and_replaces_subscriptions() {
        let router = VoiceRouter::new();
        let mut a = router.subscribe(1);
        let mut b = router.subscribe(2);
        let d1 =
            VoiceDispatch::Server(VoiceServerUpdate { guild_id: Some(1), ..server("t", None) });
        let d2 =
            VoiceDispatch::Server(VoiceServerUpdate { guild_id: Some(2), ..server("u", None) });
        let d3 =
            VoiceDispatch::Server(VoiceServerUpdate { guild_id: Some(3), ..server("v", None) });
        assert!(router.dispatch(d1.clone()));
        assert!(router.dispatch(d2.clone()));
        assert!(!router.dispatch(d3));
        assert_eq!(a.recv().await, Some(d1.clone()));
        assert_eq!(b.recv().await, Some(d2));
        let mut a2 = router.clone().subscribe(1);
        assert_eq!(a.recv().await, None, "replaced subscription ends");
        assert!(router.dispatch(d1.clone()));
        assert_eq!(a2.recv().await, Some(d1.clone()));
        drop(a2);
        assert!(!router.dispatch(d1));
    }

    /// Records op 4s and answers them through the router like a main gateway would.
    #[derive(Debug)]
    struct FakeGateway {
        router: VoiceRouter,
        sent: Mutex<Vec<UpdateVoiceState>>,
        answer: bool,
    }

    impl VoiceStateSender for FakeGateway {
        fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
            self.sent.lock().unwrap_or_else(PoisonError::into_inner).push(*update);
            if self.answer && update.channel_id.is_some() {
                // Server half first, with a port nobody listens on.
                self.router.dispatch(VoiceDispatch::Server(VoiceServerUpdate {
                    guild_id: Some(update.guild_id),
                    token: "tok".into(),
                    endpoint: Some("wss://127.0.0.1:9/".into()),
                }));
                self.router.dispatch(VoiceDispatch::State(VoiceStateUpdate {
                    guild_id: Some(update.guild_id),
                    channel_id: update.channel_id,
                    user_id: USER,
                    session_id: "sess".into(),
                }));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn join_times_out_without_an_answer() {
        let router = VoiceRouter::new();
        let gw = FakeGateway { router: router.clone(), sent: Mutex::default(), answer: false };
        let request = JoinRequest {
            self_deaf: true,
            timeout: Duration::from_millis(50),
            ..JoinRequest::new(GUILD, CHANNEL, USER)
        };
        let err = VoiceCall::join(&gw, &router, request, VoiceConfig::new())
            .await
            .expect_err("no dispatch arrives");
        assert!(matches!(err, Error::Timeout(_)), "{err}");
        let sent = gw.sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            sent,
            [UpdateVoiceState {
                guild_id: GUILD,
                channel_id: Some(CHANNEL),
                self_mute: false,
                self_deaf: true
            }]
        );
    }

    /// A main gateway in front of a local voxwire server: answers every op 4 that joins with
    /// fresh credentials, server half first, through the router.
    #[derive(Debug)]
    struct LocalGateway {
        router: VoiceRouter,
        server: voxwire_server::ServerHandle,
        sent: Arc<Mutex<Vec<UpdateVoiceState>>>,
    }

    impl VoiceStateSender for LocalGateway {
        fn update_voice_state(&self, update: &UpdateVoiceState) -> Result<(), Error> {
            self.sent.lock().unwrap_or_else(PoisonError::into_inner).push(*update);
            let (router, server, update) = (self.router.clone(), self.server.clone(), *update);
            if let Some(channel) = update.channel_id {
                tokio::spawn(async move {
                    let j = server.join(update.guild_id, channel, USER).await.expect("join");
                    router.dispatch(VoiceDispatch::Server(VoiceServerUpdate {
                        guild_id: Some(update.guild_id),
                        token: j.token,
                        endpoint: Some(format!("wss://{}", j.endpoint)),
                    }));
                    router.dispatch(VoiceDispatch::State(VoiceStateUpdate {
                        guild_id: Some(update.guild_id),
                        channel_id: Some(channel),
                        user_id: USER,
                        session_id: j.session_id,
                    }));
                });
            }
            Ok(())
        }
    }

    async fn next_matching(
        call: &mut VoiceCall<LocalGateway>,
        label: &str,
        what: impl Fn(&CallEvent) -> bool,
    ) -> CallEvent {
        let wait = async {
            loop {
                match call.next_event().await {
                    Some(e) if what(&e) => return e,
                    Some(_) => {}
                    None => panic!("the call ended before {label}"),
                }
            }
        };
        let in_time = tokio::time::timeout(Duration::from_secs(20), wait).await;
        in_time.unwrap_or_else(|_| panic!("no {label} in time"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn join_follows_moves_and_leaves_against_a_local_server() {
        let server = voxwire_server::Server::start(voxwire_server::ServerConfig::new())
            .await
            .expect("server");
        let config = VoiceConfig::new()
            .with_transport(crate::Transport::TlsTrusting(server.ca_pem().expect("tls").into()));
        let router = VoiceRouter::new();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let gw =
            LocalGateway { router: router.clone(), server: server.handle(), sent: sent.clone() };

        let mut call = VoiceCall::join(gw, &router, JoinRequest::new(GUILD, CHANNEL, USER), config)
            .await
            .expect("joined");
        let first = call.info().expect("connected").clone();
        assert_eq!((first.guild_id, first.channel_id, first.user_id), (GUILD, CHANNEL, USER));
        assert!(!first.endpoint.starts_with("wss://"));
        next_matching(&mut call, "connected", |e| {
            matches!(e, CallEvent::Voice(VoiceEvent::Connected { .. }))
        })
        .await;

        // Reallocation, then a new server: the call moves by itself.
        router.dispatch(VoiceDispatch::Server(VoiceServerUpdate {
            guild_id: Some(GUILD),
            token: first.token.clone(),
            endpoint: None,
        }));
        assert_eq!(
            next_matching(&mut call, "reallocation", |e| !matches!(e, CallEvent::Voice(_))).await,
            CallEvent::Reallocating
        );
        // The local server hands out a new session with each token (Discord keeps the session):
        // a state update with it comes in between, which alone moves nothing.
        let moved = server.join(GUILD, CHANNEL, USER).await.expect("join");
        router.dispatch(VoiceDispatch::State(VoiceStateUpdate {
            guild_id: Some(GUILD),
            channel_id: Some(CHANNEL),
            user_id: USER,
            session_id: moved.session_id.clone(),
        }));
        router.dispatch(VoiceDispatch::Server(VoiceServerUpdate {
            guild_id: Some(GUILD),
            token: moved.token.clone(),
            endpoint: Some(moved.endpoint.clone()),
        }));
        let CallEvent::Moved(info) =
            next_matching(&mut call, "move", |e| !matches!(e, CallEvent::Voice(_))).await
        else {
            panic!("expected a move");
        };
        assert_eq!((info.token, info.session_id), (moved.token, moved.session_id));
        next_matching(&mut call, "connected after the move", |e| {
            matches!(e, CallEvent::Voice(VoiceEvent::Connected { .. }))
        })
        .await;

        // Kicked: the own voice state loses its channel.
        router.dispatch(VoiceDispatch::State(VoiceStateUpdate {
            guild_id: Some(GUILD),
            channel_id: None,
            user_id: USER,
            session_id: first.session_id,
        }));
        assert_eq!(
            next_matching(&mut call, "left", |e| !matches!(e, CallEvent::Voice(_))).await,
            CallEvent::Left
        );
        call.leave().await.expect("op 4 queued");
        let sent = sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            sent.iter().map(|u| u.channel_id).collect::<Vec<_>>(),
            [Some(CHANNEL), None],
            "one op 4 to join, one to leave"
        );
        server.shutdown().await;
    }
}
