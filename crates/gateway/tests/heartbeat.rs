//! Heartbeat cadence, jitter, ACK latency and the two timeouts, on the virtual clock.

mod common;

use std::time::Duration;

use common::Pair;
use voxwire_gateway::*;

const INTERVAL: Duration = Duration::from_millis(13_750);

fn heartbeat_times(pair: &Pair) -> Vec<Duration> {
    // The client wire log has no timestamps; the server's Heartbeat events do (+ one-way delay).
    pair.server_events
        .iter()
        .filter(|(_, e)| matches!(e, ServerEvent::Heartbeat(_)))
        .map(|(t, _)| t.duration_since(pair.start).saturating_sub(pair.delay))
        .collect()
}

#[test]
fn first_heartbeat_is_jittered_then_every_interval_with_latency() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    pair.run_for(INTERVAL * 10);
    let times = heartbeat_times(&pair);
    assert!(times.len() >= 10, "{times:?}");
    // Hello reaches the client after one delay; the first heartbeat follows within one interval.
    let first = times[0].saturating_sub(pair.delay);
    assert!(first < INTERVAL, "first heartbeat at {first:?}");
    for w in times.windows(2) {
        assert_eq!(w[1].saturating_sub(w[0]), INTERVAL, "steady cadence: {times:?}");
    }
    // Round trip = two one-way delays, exactly, on the virtual clock.
    assert_eq!(pair.client.latency(), Some(pair.delay * 2));
    let acks = pair
        .client_events
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::HeartbeatAck { .. }))
        .count();
    assert_eq!(acks, times.len());
    // seq_ack in v8 heartbeats is the last seq seen (Ready=1, op 4=2).
    let ServerEvent::Heartbeat(h) = &pair
        .server_events
        .iter()
        .rev()
        .find(|(_, e)| matches!(e, ServerEvent::Heartbeat(_)))
        .unwrap()
        .1
    else {
        unreachable!()
    };
    assert_eq!((h.seq_ack, h.form), (Some(Seq(2)), NonceForm::Object));
}

#[test]
fn jitter_differs_by_seed_and_is_reproducible() {
    let first = |seed: u64| {
        let mut pair = Pair::with_configs(
            ClientConfig::new(common::identify()).with_jitter_seed(seed),
            ServerConfig::new(GatewayVersion::V8),
        );
        pair.handshake();
        pair.run_for(INTERVAL);
        heartbeat_times(&pair)[0]
    };
    assert_eq!(first(1), first(1));
    let distinct: std::collections::BTreeSet<Duration> = (0..8).map(first).collect();
    assert!(distinct.len() >= 6, "jitter spreads first heartbeats: {distinct:?}");
}

#[test]
fn three_missed_acks_close_the_socket_for_resume() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    pair.run_for(INTERVAL * 2);
    pair.server_to_client_up = false; // ACKs vanish
    let cut = pair.now;
    pair.run_for(INTERVAL * 5);
    let (at, reason) = pair
        .client_events
        .iter()
        .find_map(|(t, e)| match e {
            ClientEvent::Closed(r) => Some((*t, r.clone())),
            _ => None,
        })
        .expect("client closed");
    assert_eq!(reason.code, CloseCode::CLIENT_RESUME);
    assert_eq!(reason.action, CloseAction::Resume);
    assert_eq!(reason.initiator, Initiator::Local);
    // Three unanswered heartbeats after the cut, then the close at the fourth tick.
    let sent_after_cut = heartbeat_times(&pair).iter().filter(|t| pair.start + **t > cut).count();
    assert_eq!(sent_after_cut, 3);
    assert!(
        at - cut <= INTERVAL * 4 && at - cut > INTERVAL * 3,
        "closed {:?} after the cut",
        at - cut
    );
    // The server saw the close frame: the session stays resumable.
    assert!(pair.server.is_resumable());
}

#[test]
fn silent_client_is_closed_with_session_timeout() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    pair.client_to_server_up = false;
    let cut = pair.now;
    pair.run_for(INTERVAL * 4);
    let (at, reason) = pair
        .server_events
        .iter()
        .find_map(|(t, e)| match e {
            ServerEvent::Closed(r) => Some((*t, r.clone())),
            _ => None,
        })
        .expect("server closed");
    assert_eq!(reason.code, CloseCode::SESSION_TIMEOUT);
    assert_eq!(reason.action, CloseAction::Stop);
    let config = ServerConfig::new(GatewayVersion::V8);
    assert!(at - cut <= config.receive_timeout);
    assert!(!pair.server.is_resumable());
    // The client gets 4009: a full reconnect, not a resume.
    let closed = pair.client_events.iter().find_map(|(_, e)| match e {
        ClientEvent::Closed(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(
        closed.map(|r| (r.code, r.action)),
        Some((CloseCode::SESSION_TIMEOUT, CloseAction::Reconnect))
    );
}

#[test]
fn server_heartbeat_request_is_answered_at_once() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    let before = heartbeat_times(&pair).len();
    let now = pair.now;
    pair.server.send(&ServerMessage::HeartbeatRequest(serde_json::Value::Null), now).unwrap();
    pair.run_for(pair.delay * 2);
    assert_eq!(heartbeat_times(&pair).len(), before + 1);
}

#[test]
fn identify_timeout_closes_a_socket_that_never_identifies() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.client_to_server_up = false;
    pair.run_for(Duration::from_secs(31));
    assert!(
        pair.server_events.iter().any(
            |(_, e)| matches!(e, ServerEvent::Closed(r) if r.code == CloseCode::SESSION_TIMEOUT)
        )
    );
}
