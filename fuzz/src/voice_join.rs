//! Fuzz targets for voxwire's main-gateway join logic (`voxwire::gateway_adapter`): raw
//! `VOICE_STATE_UPDATE`/`VOICE_SERVER_UPDATE` payloads, and arbitrary dispatch sequences fed to
//! the voice state tracker.

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use voxwire::gateway_adapter::{
    VoiceAction, VoiceDispatch, VoiceServerUpdate, VoiceStateTracker, VoiceStateUpdate,
};

use crate::Target;

/// The join logic's targets.
pub const TARGETS: &[Target] = &[
    Target { name: "voice_dispatch_json", run: dispatch_json },
    Target { name: "voice_state_tracker", run: tracker },
];

/// The first byte picks the event name (even: state, odd: server), the rest is the JSON `d`.
/// Whatever reads as a dispatch is fed to a tracker of its guild and user, which must not
/// panic, and whose credentials carry no scheme.
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn dispatch_json(data: &[u8]) {
    let Some((&kind, json)) = data.split_first() else { return };
    let Ok(d) = serde_json::from_slice::<serde_json::Value>(json) else { return };
    let t = if kind % 2 == 0 { "VOICE_STATE_UPDATE" } else { "VOICE_SERVER_UPDATE" };
    let Some(dispatch) = VoiceDispatch::from_gateway(t, &d) else { return };
    let user = match &dispatch {
        VoiceDispatch::State(s) => s.user_id,
        VoiceDispatch::Server(_) => 0,
    };
    // The other half, so that a complete pair can form.
    let other = match &dispatch {
        VoiceDispatch::State(s) => VoiceDispatch::Server(VoiceServerUpdate {
            guild_id: s.guild_id,
            token: "t".into(),
            endpoint: Some("wss://h:443/".into()),
        }),
        VoiceDispatch::Server(s) => VoiceDispatch::State(VoiceStateUpdate {
            guild_id: s.guild_id,
            channel_id: Some(1),
            user_id: 0,
            session_id: "s".into(),
        }),
    };
    let mut t = VoiceStateTracker::new(dispatch.guild_id().unwrap_or(0), user);
    let _ = t.request(Some(1), Instant::now());
    for d in [&dispatch, &other, &dispatch] {
        t.handle_dispatch(d);
        while let Some(action) = t.poll_action() {
            if let VoiceAction::Connect(i) | VoiceAction::Move(i) = action {
                assert!(!i.endpoint.is_empty(), "empty endpoint: {i:?}");
                let (token, session) = match &dispatch {
                    VoiceDispatch::State(s) => ("t", s.session_id.as_str()),
                    VoiceDispatch::Server(s) => (s.token.as_str(), "s"),
                };
                assert_eq!((i.token.as_str(), i.session_id.as_str()), (token, session));
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Request(Option<u8>),
    State { channel: Option<u8>, session: u8, other_user: bool },
    Server { endpoint: u8, other_guild: bool },
    Advance(u16),
    Reset,
}

const GUILD: u64 = 7;
const USER: u64 = 9;

/// Applies an arbitrary sequence of requests, dispatches, clock advances and resets, draining
/// the actions after each. Checks: every `Connect`/`Move` carries the newest token and state
/// since the last request, `Left`, time-out or reset (never a stale one); `Connect` only without
/// a connection and `Move` only with one; at most two actions wait at a time.
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn tracker(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let start = Instant::now();
    let mut now = start;
    let mut t = VoiceStateTracker::new(GUILD, USER).with_join_timeout(Duration::from_secs(10));
    let mut token: Option<String> = None;
    let mut state: Option<(u64, String)> = None;
    let mut connected = false;
    for step in 0..256u32 {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        let mut forget = false;
        match op {
            Op::Request(channel) => {
                let _ = t.request(channel.map(u64::from), now);
                forget = true;
            }
            Op::State { channel, session, other_user } => {
                let user_id = if other_user { USER + 1 } else { USER };
                let channel_id = channel.map(u64::from);
                let session_id = format!("s{session}");
                let update =
                    VoiceStateUpdate { guild_id: Some(GUILD), channel_id, user_id, session_id };
                t.handle_voice_state(&update);
                if !other_user {
                    match channel_id {
                        Some(c) => state = Some((c, update.session_id)),
                        None => forget = true,
                    }
                }
            }
            Op::Server { endpoint, other_guild } => {
                let endpoint = match endpoint % 4 {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some(format!("wss://h{endpoint}:443/")),
                    _ => Some(format!("h{endpoint}")),
                };
                let guild_id = Some(if other_guild { GUILD + 1 } else { GUILD });
                let update = VoiceServerUpdate {
                    guild_id,
                    token: format!("t{step}"),
                    endpoint: endpoint.clone(),
                };
                t.handle_voice_server(&update);
                if !other_guild {
                    token = endpoint.filter(|e| !e.is_empty()).map(|_| update.token);
                }
            }
            Op::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms) * 16);
                if t.poll_timeout().is_some_and(|d| now >= d) {
                    forget = true;
                }
                t.handle_timeout(now);
            }
            Op::Reset => {
                t.reset();
                forget = true;
                connected = false;
            }
        }
        if forget {
            token = None;
            state = None;
        }
        let mut n = 0;
        while let Some(action) = t.poll_action() {
            n += 1;
            match &action {
                VoiceAction::Connect(i) | VoiceAction::Move(i) => {
                    assert_eq!(matches!(action, VoiceAction::Move(_)), connected, "{action:?}");
                    assert_eq!(Some(&i.token), token.as_ref(), "stale token");
                    let (channel, session) = state.as_ref().expect("a state");
                    assert_eq!((i.channel_id, &i.session_id), (*channel, session), "stale state");
                    assert!(!i.endpoint.starts_with("wss://") && !i.endpoint.ends_with('/'));
                    connected = true;
                }
                VoiceAction::Left => connected = false,
                VoiceAction::Reallocating => assert!(connected, "reallocating without a call"),
                _ => {}
            }
        }
        assert!(n <= 2, "{n} actions waited");
        assert_eq!(t.connection_info().is_some(), connected);
    }
}
