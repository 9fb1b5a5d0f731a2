//! Client and server complete the handshake on v4, v8 and v9 over a simulated socket.

mod common;

use common::Pair;
use voxwire_gateway::*;

#[test]
fn v8_handshake_reaches_established_with_numbered_messages() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();

    let client_ops: Vec<Opcode> =
        pair.client_wire.iter().map(|t| ClientMessage::parse(t).unwrap().opcode()).collect();
    assert_eq!(client_ops[..2], [Opcode::IDENTIFY, Opcode::SELECT_PROTOCOL]);

    let server: Vec<ServerFrame> =
        pair.server_wire.iter().map(|t| ServerMessage::parse(t).unwrap()).collect();
    assert_eq!(server[0].message.opcode(), Opcode::HELLO);
    assert_eq!(server[0].seq, None, "Hello is not replayable, so it has no seq");
    assert_eq!((server[1].message.opcode(), server[1].seq), (Opcode::READY, Some(Seq(1))));
    assert_eq!(
        (server[2].message.opcode(), server[2].seq),
        (Opcode::SESSION_DESCRIPTION, Some(Seq(2)))
    );

    let events: Vec<&ClientEvent> = pair.client_events_since(0);
    assert!(matches!(events[0], ClientEvent::Hello { version: Some(GatewayVersion::V8), .. }));
    let ClientEvent::Ready(ready) = events[1] else {
        panic!("expected Ready, got {:?}", events[1])
    };
    assert_eq!((ready.ssrc, ready.port, ready.ip.as_str()), (Ssrc(23_584), 50_010, "127.0.0.1"));
    let ClientEvent::SessionDescription(sd) = events[2] else {
        panic!("expected op 4, got {:?}", events[2])
    };
    assert_eq!(sd.secret_key, SecretKey([9; 32]));
    assert_eq!(sd.dave_protocol_version, 1);
    assert_eq!(pair.client.last_seq(), Some(Seq(2)));
    assert_eq!(pair.client.ssrc(), Some(Ssrc(23_584)));

    // Server-side: the identify went through the caller's check and the mode was validated.
    assert!(matches!(&pair.server_events[0].1, ServerEvent::Identify(i) if i.token == "token-1"));
    assert!(matches!(
        &pair.server_events[1].1,
        ServerEvent::SelectProtocol(s) if s.mode() == Some(&EncryptionMode::AeadXChaCha20Poly1305Rtpsize)
    ));
    // v8 Identify carries no channel_id.
    assert!(!pair.client_wire[0].contains("channel_id"));
}

#[test]
fn v4_client_never_sees_seq() {
    let mut pair = Pair::new(GatewayVersion::V4);
    pair.handshake();
    let now = pair.now;
    pair.server.send(&common::speaking(5, 77), now).unwrap();
    pair.server.send_dave(ServerDave::ExternalSender(&[1, 2, 3]), now).unwrap();
    pair.run_for(std::time::Duration::from_secs(40));
    assert!(pair.server_wire.len() >= 6, "heartbeat ACKs were sent: {:?}", pair.server_wire);
    for text in &pair.server_wire {
        assert!(!text.contains("\"seq\""), "seq sent to a v4 client: {text}");
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "only op and d: {text}");
    }
    // v4 heartbeats are bare nonces and the ACK echoes the same form.
    let hb = pair.client_wire.iter().find(|t| t.starts_with("{\"op\":3")).unwrap();
    let ClientMessage::Heartbeat(h) = ClientMessage::parse(hb).unwrap() else { unreachable!() };
    assert_eq!(h.form, NonceForm::Bare);
    let ack = pair.server_wire.iter().find(|t| t.starts_with("{\"op\":6")).unwrap();
    assert_eq!(ack, &format!("{{\"op\":6,\"d\":{}}}", h.nonce));
    // The binary DAVE frame has no sequence prefix on v4.
    assert!(pair.client_events.iter().any(
        |(_, e)| matches!(e, ClientEvent::Dave(DaveEvent::ExternalSender(p)) if p == &[1, 2, 3])
    ));
}

#[test]
fn v9_identify_carries_channel_id() {
    let mut pair = Pair::new(GatewayVersion::V9);
    pair.handshake();
    let ClientMessage::Identify(id) = ClientMessage::parse(&pair.client_wire[0]).unwrap() else {
        unreachable!()
    };
    assert_eq!(id.channel_id, Some(Snowflake(41_771_983_423_143_938)));
}

#[test]
fn announcements_reach_the_client_as_events() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    let now = pair.now;
    let mark = pair.client_events.len();
    let s = &mut pair.server;
    s.send(
        &ServerMessage::ClientsConnect(ClientsConnect {
            user_ids: vec![Snowflake(5)],
            extra: Extra::new(),
        }),
        now,
    )
    .unwrap();
    s.send(&common::speaking(5, 77), now).unwrap();
    s.send(
        &ServerMessage::Video(Video {
            audio_ssrc: Some(Ssrc(77)),
            video_ssrc: Some(Ssrc(78)),
            user_id: Some(Snowflake(5)),
            ..Video::default()
        }),
        now,
    )
    .unwrap();
    s.send(
        &ServerMessage::MediaSinkWants(MediaSinkWants {
            any: Some(100),
            ..MediaSinkWants::default()
        }),
        now,
    )
    .unwrap();
    s.send(
        &ServerMessage::DavePrepareEpoch(DavePrepareEpoch {
            protocol_version: 1,
            epoch: 1,
            extra: Extra::new(),
        }),
        now,
    )
    .unwrap();
    s.send_dave(ServerDave::Welcome { transition_id: TransitionId(3), welcome: &[7, 7] }, now)
        .unwrap();
    s.send(
        &ServerMessage::ClientDisconnect(ClientDisconnect {
            user_id: Snowflake(5),
            extra: Extra::new(),
        }),
        now,
    )
    .unwrap();
    pair.run_for(std::time::Duration::from_millis(100));
    let events = pair.client_events_since(mark);
    assert!(matches!(events[0], ClientEvent::ClientsConnect(c) if c.user_ids == [Snowflake(5)]));
    assert!(
        matches!(events[1], ClientEvent::Speaking(s) if s.ssrc == Ssrc(77) && s.user_id == Some(Snowflake(5)))
    );
    assert!(matches!(events[2], ClientEvent::Video(v) if v.video_ssrc == Some(Ssrc(78))));
    assert!(matches!(events[3], ClientEvent::MediaSinkWants(w) if w.any == Some(100)));
    assert!(matches!(events[4], ClientEvent::Dave(DaveEvent::PrepareEpoch { epoch: 1, .. })));
    assert!(
        matches!(events[5], ClientEvent::Dave(DaveEvent::Welcome { transition_id: TransitionId(3), welcome }) if welcome == &[7, 7])
    );
    assert!(matches!(events[6], ClientEvent::ClientDisconnect(c) if c.user_id == Snowflake(5)));
    // The binary frame took its seq from the shared counter.
    assert_eq!(pair.client.last_seq(), Some(Seq(9)));

    // And the client's messages reach the server.
    let mark = pair.server_events.len();
    let now = pair.now;
    pair.client.send_speaking(SpeakingFlags::MICROPHONE, now).unwrap();
    pair.client.send_dave(ClientDave::KeyPackage(&[1, 2]), now).unwrap();
    pair.client
        .send(&ClientMessage::DaveTransitionReady(DaveTransition::new(TransitionId(3))), now)
        .unwrap();
    pair.run_for(std::time::Duration::from_millis(100));
    let events: Vec<&ServerEvent> = pair.server_events[mark..].iter().map(|(_, e)| e).collect();
    assert!(
        matches!(events[0], ServerEvent::Speaking(s) if s.ssrc == Ssrc(23_584) && s.delay == Some(0))
    );
    assert!(matches!(events[1], ServerEvent::Dave(ClientDaveEvent::KeyPackage(p)) if p == &[1, 2]));
    assert!(matches!(
        events[2],
        ServerEvent::Dave(ClientDaveEvent::TransitionReady(TransitionId(3)))
    ));
}

#[test]
fn identify_rejected_by_the_caller_closes_with_4004() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.auto = false;
    pair.run_for(std::time::Duration::from_millis(100));
    assert!(pair.server.poll_event().is_none());
    assert!(matches!(&pair.server_events[0].1, ServerEvent::Identify(_)));
    let now = pair.now;
    pair.server.reject(CloseCode::AUTHENTICATION_FAILED, "bad token", now);
    pair.run_for(std::time::Duration::from_millis(100));
    let closed = pair.client_events.iter().find_map(|(_, e)| match e {
        ClientEvent::Closed(r) => Some(r.clone()),
        _ => None,
    });
    let closed = closed.expect("client saw the close");
    assert_eq!(closed.code, CloseCode::AUTHENTICATION_FAILED);
    assert_eq!(closed.action, CloseAction::Reconnect);
    assert_eq!(closed.initiator, Initiator::Remote);
    assert_eq!(pair.client.state(), ClientState::Closed);
}
