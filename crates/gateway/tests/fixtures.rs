//! The JSON examples of protocol.md (tests/data) parse into the right types and survive a
//! round trip.

use std::path::PathBuf;

use voxwire_gateway::*;

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn client(name: &str) -> ClientMessage {
    let m = ClientMessage::parse(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!matches!(m, ClientMessage::Unknown { .. }), "{name} parsed as unknown");
    let again = ClientMessage::parse(&m.encode().unwrap()).unwrap();
    assert_eq!(again, m, "{name} round trip");
    m
}

fn server(name: &str) -> ServerFrame {
    let f = ServerMessage::parse(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!matches!(f.message, ServerMessage::Unknown { .. }), "{name} parsed as unknown");
    let again = ServerMessage::parse(&f.message.encode(f.seq).unwrap()).unwrap();
    assert_eq!(again, f, "{name} round trip");
    f
}

#[test]
fn every_fixture_parses_in_its_direction() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("c_") {
            client(&name);
        } else if name.starts_with("s_") {
            server(&name);
        } else {
            continue;
        }
        n += 1;
    }
    assert!(n >= 30, "{n} fixtures");
}

#[test]
fn select_protocol_with_codecs() {
    let ClientMessage::SelectProtocol(s) = client("c_op1_select_protocol.json") else { panic!() };
    assert_eq!(s.mode(), Some(&EncryptionMode::AeadAes256GcmRtpsize));
    let ProtocolData::Udp(d) = &s.data else { panic!() };
    assert_eq!((d.address.as_str(), d.port), ("203.0.113.7", 50_123));
    let codecs = s.codecs.unwrap();
    assert_eq!(codecs.len(), 6);
    assert_eq!(
        (codecs[0].name.clone(), codecs[0].kind.clone(), codecs[0].payload_type),
        (CodecName::Opus, MediaKind::Audio, 120)
    );
    assert_eq!((codecs[3].name.clone(), codecs[3].rtx_payload_type), (CodecName::H264, Some(106)));
    assert_eq!(s.experiments.unwrap(), ["fixed_keyframe_interval"]);
}

#[test]
fn ready_with_simulcast_layers() {
    let f = server("s_op2_ready_two_layers.json");
    let ServerMessage::Ready(r) = f.message else { panic!() };
    assert_eq!((r.ssrc, r.port), (Ssrc(23_584), 50_010));
    let streams = r.streams.unwrap();
    assert_eq!(streams[0].rid.as_deref(), Some("50"));
    assert_eq!(
        (streams[1].ssrc, streams[1].rtx_ssrc, streams[1].active),
        (Some(Ssrc(23_587)), Some(Ssrc(23_588)), Some(false))
    );
    assert_eq!(r.modes[2], EncryptionMode::XSalsa20Poly1305Lite);
}

#[test]
fn heartbeats_in_both_forms() {
    let ClientMessage::Heartbeat(h8) = client("c_op3_heartbeat_v8.json") else { panic!() };
    assert_eq!(
        (h8.nonce, h8.seq_ack, h8.form),
        (1_732_170_000_123, Some(Seq(41)), NonceForm::Object)
    );
    let ClientMessage::Heartbeat(h4) = client("c_op3_heartbeat_v4.json") else { panic!() };
    assert_eq!((h4.nonce, h4.seq_ack, h4.form), (1_732_170_000_123, None, NonceForm::Bare));
    let ServerMessage::HeartbeatAck(a) = server("s_op6_heartbeat_ack_v4.json").message else {
        panic!()
    };
    assert_eq!(a.form, NonceForm::Bare);
    // The exact v4 bytes come back out.
    assert_eq!(
        ServerMessage::HeartbeatAck(a).encode(None).unwrap(),
        data("s_op6_heartbeat_ack_v4.json").trim()
    );
}

#[test]
fn hello_interval_may_be_a_float() {
    let ServerMessage::Hello(h) = server("s_op8_hello_float.json").message else { panic!() };
    assert_eq!(h.interval(), Some(std::time::Duration::from_millis(13_750)));
    assert_eq!(h.v, Some(GatewayVersion::V8));
    assert_eq!(
        ServerMessage::Hello(h).encode(None).unwrap(),
        r#"{"op":8,"d":{"v":8,"heartbeat_interval":13750}}"#
    );
}

#[test]
fn session_description_with_codecs() {
    let f = server("s_op4_session_description.json");
    assert_eq!(f.seq, Some(Seq(2)));
    let ServerMessage::SessionDescription(sd) = f.message else { panic!() };
    assert_eq!(sd.secret_key.0[31], 32);
    assert_eq!(
        (sd.dave_protocol_version, sd.video_codec, sd.keyframe_interval),
        (1, Some(CodecName::H264), Some(5000))
    );
}

#[test]
fn media_sink_wants_flat_object() {
    let ClientMessage::MediaSinkWants(w) = client("c_op15_media_sink_wants.json") else { panic!() };
    assert_eq!(w.wants.get(&Ssrc(8964)), Some(&100));
    assert_eq!(w.any, Some(50));
    assert_eq!(w.pixel_counts.unwrap().get(&Ssrc(8964)), Some(&1_189_844.58));
    assert!(w.extra.is_empty());
}

#[test]
fn identify_variants() {
    let ClientMessage::Identify(cam) = client("c_op0_identify_camera.json") else { panic!() };
    assert_eq!(cam.max_dave_protocol_version, Some(1));
    assert_eq!(cam.streams.unwrap()[1].quality, Some(50));
    let ClientMessage::Identify(live) = client("c_op0_identify_go_live_v9.json") else { panic!() };
    assert_eq!(live.channel_id, Some(Snowflake(1_100_000_000_000_000_002)));
    assert_eq!(live.streams.unwrap()[0].kind, Some(StreamKind::Screen));
}

#[test]
fn peers_and_dave() {
    let ServerMessage::ClientFlags(f) = server("s_op18_client_flags.json").message else {
        panic!()
    };
    assert_eq!((f.user_id, f.flags), (Snowflake(80_351_110_224_678_912), Some(2)));
    let ServerMessage::DavePrepareTransition(t) = server("s_op21_prepare_transition.json").message
    else {
        panic!()
    };
    assert_eq!((t.protocol_version, t.transition_id), (0, TransitionId(5)));
    let ServerMessage::Video(v) = server("s_op12_video.json").message else { panic!() };
    let s = &v.streams.unwrap()[0];
    assert_eq!(
        s.max_resolution.as_ref().map(|r| (r.kind.clone(), r.width)),
        Some((ResolutionKind::Fixed, 1280))
    );
    let ClientMessage::Video(v) = client("c_op12_video_receive_only.json") else { panic!() };
    assert_eq!((v.video_ssrc, v.streams.map(|s| s.len())), (Some(Ssrc(0)), Some(0)));
    assert!(matches!(server("s_op9_resumed.json").message, ServerMessage::Resumed));
}
