//! Oversized messages, floods and protocol violations end in a clear error and close code.

mod common;

use std::time::{Duration, Instant};

use voxwire_gateway::*;

fn closes(server: &mut ServerConnection) -> Option<CloseFrame> {
    std::iter::from_fn(|| server.poll_transmit()).find_map(|t| match t {
        Transmit::Close(f) => Some(f),
        _ => None,
    })
}

fn identified(version: GatewayVersion, now: Instant) -> ServerConnection {
    let mut s = ServerConnection::new(ServerConfig::new(version), now);
    s.handle_text(&ClientMessage::Identify(common::identify()).encode().unwrap(), now).unwrap();
    s.accept_identify(common::ready(), now).unwrap();
    s
}

#[test]
fn oversized_client_message_closes_with_4002() {
    let now = common::epoch();
    let mut s = ServerConnection::new(
        ServerConfig::new(GatewayVersion::V8).with_max_message_size(1000),
        now,
    );
    let big = format!("{{\"op\":0,\"d\":{{\"pad\":\"{}\"}}}}", "x".repeat(2000));
    let err = s.handle_text(&big, now).unwrap_err();
    assert!(matches!(err, Error::MessageTooLarge { limit: 1000, .. }), "{err}");
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::DECODE_ERROR);
    assert!(matches!(s.handle_text("{}", now), Err(Error::Closed)));
}

#[test]
fn flood_closes_with_4021() {
    let now = common::epoch();
    let mut s = identified(GatewayVersion::V8, now);
    let hb =
        ClientMessage::Heartbeat(Heartbeat { nonce: 1, seq_ack: None, form: NonceForm::Object })
            .encode()
            .unwrap();
    let config = ServerConfig::new(GatewayVersion::V8);
    let mut result = Ok(());
    let mut sent = 0;
    // Identify was message 1 of the window.
    while result.is_ok() && sent < 10_000 {
        result = s.handle_text(&hb, now + Duration::from_millis(sent));
        sent += 1;
    }
    assert_eq!(
        sent,
        u64::from(config.rate_limit),
        "the {}th message in the window is refused",
        config.rate_limit + 1
    );
    assert!(matches!(result, Err(Error::Flood { code: CloseCode::RATE_LIMITED, .. })));
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::RATE_LIMITED);
    // The events raised are bounded by what was admitted.
    assert!(std::iter::from_fn(|| s.poll_event()).count() <= config.rate_limit as usize + 1);
}

#[test]
fn a_new_window_admits_again() {
    let now = common::epoch();
    let mut s = ServerConnection::new(
        ServerConfig::new(GatewayVersion::V8).with_rate_limit(3, Duration::from_secs(1)),
        now,
    );
    let hb =
        ClientMessage::Heartbeat(Heartbeat { nonce: 1, seq_ack: None, form: NonceForm::Object })
            .encode()
            .unwrap();
    for round in 0..5u64 {
        for i in 0..3u64 {
            s.handle_text(&hb, now + Duration::from_secs(round) + Duration::from_millis(i))
                .unwrap();
        }
    }
}

#[test]
fn payload_before_identify_closes_with_4003() {
    let now = common::epoch();
    let mut s = ServerConnection::new(ServerConfig::new(GatewayVersion::V8), now);
    let speaking = r#"{"op":5,"d":{"speaking":1,"delay":0,"ssrc":1}}"#;
    assert!(s.handle_text(speaking, now).is_err());
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::NOT_AUTHENTICATED);

    let mut s = ServerConnection::new(ServerConfig::new(GatewayVersion::V8), now);
    assert!(s.handle_binary(&[26, 1, 2], now).is_err());
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::NOT_AUTHENTICATED);
}

#[test]
fn second_identify_closes_with_4005() {
    let now = common::epoch();
    let mut s = identified(GatewayVersion::V8, now);
    assert!(
        s.handle_text(&ClientMessage::Identify(common::identify()).encode().unwrap(), now).is_err()
    );
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::ALREADY_AUTHENTICATED);
}

#[test]
fn select_protocol_is_validated() {
    let now = common::epoch();
    let mut s = identified(GatewayVersion::V8, now);
    let bad_mode = SelectProtocol::udp("1.2.3.4", 5, EncryptionMode::XSalsa20Poly1305);
    assert!(
        s.handle_text(&ClientMessage::SelectProtocol(bad_mode).encode().unwrap(), now).is_err()
    );
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::UNKNOWN_ENCRYPTION_MODE);

    let mut s = identified(GatewayVersion::V8, now);
    let mut webrtc = SelectProtocol::udp("1.2.3.4", 5, EncryptionMode::AeadAes256GcmRtpsize);
    webrtc.protocol = Protocol::WebRtc;
    assert!(s.handle_text(&ClientMessage::SelectProtocol(webrtc).encode().unwrap(), now).is_err());
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::UNKNOWN_PROTOCOL);
}

#[test]
fn garbage_closes_with_4002_but_unknown_opcodes_and_fields_are_tolerated() {
    let now = common::epoch();
    let mut s = identified(GatewayVersion::V8, now);
    s.handle_text(r#"{"op":99,"d":{"future":true}}"#, now).unwrap();
    s.handle_text(r#"{"op":5,"d":{"speaking":1,"delay":0,"ssrc":1,"new_field":[1]}}"#, now)
        .unwrap();
    s.handle_binary(&[77, 1], now).unwrap();
    let events: Vec<ServerEvent> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.iter().any(
        |e| matches!(e, ServerEvent::UnknownJson { op: Opcode(99), d } if d["future"] == true)
    ));
    assert!(events.iter().any(|e| matches!(e, ServerEvent::Speaking(sp) if sp.extra["new_field"] == serde_json::json!([1]))));
    assert!(events.iter().any(|e| matches!(e, ServerEvent::UnknownBinary { op: Opcode(77), .. })));
    assert!(closes(&mut s).is_none());

    assert!(matches!(s.handle_text("not json", now), Err(Error::Envelope { .. })));
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::DECODE_ERROR);
    let mut s = identified(GatewayVersion::V8, now);
    assert!(matches!(
        s.handle_text(r#"{"op":5,"d":{"speaking":1}}"#, now),
        Err(Error::Payload { op: Opcode::SPEAKING, .. })
    ));
    assert_eq!(closes(&mut s).unwrap().code, CloseCode::DECODE_ERROR);
}

#[test]
fn client_refuses_oversized_server_messages_and_undrained_event_floods() {
    let now = common::epoch();
    let config =
        ClientConfig::new(common::identify()).with_max_message_size(100).with_max_queued_events(16);
    let mut c = ClientConnection::new(config.clone(), now);
    let big = format!("{{\"op\":99,\"d\":\"{}\"}}", "x".repeat(200));
    assert!(matches!(
        c.handle_text(&big, now),
        Err(Error::MessageTooLarge { limit: 100, actual: _ })
    ));
    assert_eq!(c.state(), ClientState::Closed);
    let last = std::iter::from_fn(|| c.poll_transmit()).last().unwrap();
    assert_eq!(
        last,
        Transmit::Close(CloseFrame::new(CloseCode::MESSAGE_TOO_BIG, "message too big"))
    );

    let mut c = ClientConnection::new(config, now);
    let unknown = r#"{"op":99,"d":1}"#;
    let mut n = 0;
    while c.handle_text(unknown, now).is_ok() {
        n += 1;
        assert!(n <= 16, "the event queue is bounded");
    }
    assert_eq!(n, 16);
    assert_eq!(c.state(), ClientState::Closed);
    let events: Vec<ClientEvent> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(events.len(), 17, "16 events and the Closed");
    assert!(
        matches!(events.last(), Some(ClientEvent::Closed(r)) if r.action == CloseAction::Reconnect)
    );
}

#[test]
fn client_skips_bad_messages_and_keeps_going() {
    let now = common::epoch();
    let mut c = ClientConnection::new(ClientConfig::new(common::identify()), now);
    assert!(c.handle_text("{", now).is_err());
    assert!(c.handle_text(r#"{"op":2,"d":{"ssrc":1}}"#, now).is_err());
    assert!(c.handle_text(r#"{"op":4,"d":{}}"#, now).is_err());
    assert!(matches!(
        c.handle_text(r#"{"op":8,"d":{"heartbeat_interval":0}}"#, now),
        Err(Error::OutOfRange { field: "heartbeat_interval", .. })
    ));
    assert!(matches!(
        c.handle_text(r#"{"op":9,"d":null}"#, now),
        Err(Error::UnexpectedMessage { op: Opcode::RESUMED, .. })
    ));
    assert_eq!(c.state(), ClientState::Identifying);
    c.handle_text(&ServerMessage::Ready(common::ready()).encode(Some(Seq(1))).unwrap(), now)
        .unwrap();
    assert_eq!(c.state(), ClientState::AwaitingSelectProtocol);
}
