//! Property tests: every message type survives encode then parse, in both directions, with
//! unknown fields preserved; binary frames survive write then parse.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use voxwire_gateway::*;

fn extra() -> impl Strategy<Value = Extra> {
    btree_map(
        "x_[a-z]{1,6}",
        prop_oneof![
            any::<i32>().prop_map(serde_json::Value::from),
            "[a-z ]{0,8}".prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
        ],
        0..3,
    )
}

fn snowflake() -> impl Strategy<Value = Snowflake> {
    any::<u64>().prop_map(Snowflake)
}

fn ssrc() -> impl Strategy<Value = Ssrc> {
    any::<u32>().prop_map(Ssrc)
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,12}"
}

fn mode() -> impl Strategy<Value = EncryptionMode> {
    prop_oneof![
        Just(EncryptionMode::AeadAes256GcmRtpsize),
        Just(EncryptionMode::AeadXChaCha20Poly1305Rtpsize),
        "[a-z_]{1,10}".prop_map(|s| EncryptionMode::from_wire(&s)),
    ]
}

fn codec_name() -> impl Strategy<Value = CodecName> {
    prop_oneof![
        Just(CodecName::Opus),
        Just(CodecName::H264),
        Just(CodecName::Av1),
        "[A-Za-z0-9]{1,6}".prop_map(|s| CodecName::from_wire(&s))
    ]
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        option::of(prop_oneof![
            Just(StreamKind::Video),
            Just(StreamKind::Screen),
            "[a-z]{1,5}".prop_map(|s| StreamKind::from_wire(&s))
        ]),
        option::of("[0-9]{1,3}"),
        option::of(0u8..=100),
        option::of(any::<bool>()),
        option::of(any::<u32>().prop_map(u64::from)),
        option::of(1u32..120),
        option::of((any::<bool>(), 0u32..4096, 0u32..4096)),
        option::of(ssrc()),
        option::of(ssrc()),
        extra(),
    )
        .prop_map(
            |(
                kind,
                rid,
                quality,
                active,
                max_bitrate,
                max_framerate,
                res,
                ssrc,
                rtx_ssrc,
                extra,
            )| Stream {
                kind,
                rid,
                quality,
                active,
                max_bitrate,
                max_framerate,
                max_resolution: res.map(|(fixed, width, height)| MaxResolution {
                    kind: if fixed { ResolutionKind::Fixed } else { ResolutionKind::Source },
                    width,
                    height,
                    extra: Extra::new(),
                }),
                ssrc,
                rtx_ssrc,
                extra,
            },
        )
}

fn codec() -> impl Strategy<Value = Codec> {
    (
        codec_name(),
        any::<bool>(),
        any::<u32>(),
        0u8..128,
        option::of(0u8..128),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
    )
        .prop_map(|(name, audio, priority, payload_type, rtx_payload_type, encode, decode)| {
            Codec {
                name,
                kind: if audio { MediaKind::Audio } else { MediaKind::Video },
                priority,
                payload_type,
                rtx_payload_type,
                encode,
                decode,
                extra: Extra::new(),
            }
        })
}

fn seq() -> impl Strategy<Value = Option<Seq>> {
    option::of(any::<u16>().prop_map(Seq))
}

fn tid() -> impl Strategy<Value = TransitionId> {
    any::<u16>().prop_map(TransitionId)
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (
            snowflake(),
            snowflake(),
            text(),
            text(),
            option::of(any::<u16>()),
            option::of(snowflake()),
            option::of(any::<bool>()),
            option::of(vec(stream(), 0..3)),
            extra()
        )
            .prop_map(
                |(
                    server_id,
                    user_id,
                    session_id,
                    token,
                    max_dave_protocol_version,
                    channel_id,
                    video,
                    streams,
                    extra,
                )| {
                    ClientMessage::Identify(Identify {
                        server_id,
                        user_id,
                        session_id,
                        token,
                        max_dave_protocol_version,
                        channel_id,
                        video,
                        streams,
                        extra,
                    })
                }
            ),
        (
            text(),
            any::<u16>(),
            mode(),
            option::of(vec(codec(), 0..4)),
            option::of(text()),
            option::of(vec(text(), 0..3)),
            extra()
        )
            .prop_map(
                |(address, port, mode, codecs, rtc_connection_id, experiments, extra)| {
                    let mut s = SelectProtocol::udp(address, port, mode);
                    s.codecs = codecs;
                    s.rtc_connection_id = rtc_connection_id;
                    s.experiments = experiments;
                    s.extra = extra;
                    ClientMessage::SelectProtocol(s)
                }
            ),
        (any::<u64>(), seq(), any::<bool>()).prop_map(|(nonce, seq_ack, bare)| {
            ClientMessage::Heartbeat(if bare {
                Heartbeat { nonce, seq_ack: None, form: NonceForm::Bare }
            } else {
                Heartbeat { nonce, seq_ack, form: NonceForm::Object }
            })
        }),
        (any::<u32>(), ssrc(), option::of(any::<u32>()), extra()).prop_map(
            |(flags, ssrc, delay, extra)| ClientMessage::Speaking(Speaking {
                speaking: SpeakingFlags(flags),
                ssrc,
                delay,
                user_id: None,
                extra
            })
        ),
        (snowflake(), text(), text(), seq(), option::of(snowflake()), extra()).prop_map(
            |(server_id, session_id, token, seq_ack, channel_id, extra)| {
                ClientMessage::Resume(Resume {
                    server_id,
                    session_id,
                    token,
                    seq_ack,
                    channel_id,
                    extra,
                })
            }
        ),
        video().prop_map(ClientMessage::Video),
        option::of(vec(codec(), 0..3)).prop_map(|codecs| ClientMessage::SessionUpdate(
            SessionUpdate { codecs, ..SessionUpdate::default() }
        )),
        sink_wants().prop_map(ClientMessage::MediaSinkWants),
        Just(ClientMessage::VoiceBackendVersion(VoiceBackendVersion::default())),
        (tid(), extra()).prop_map(|(transition_id, extra)| ClientMessage::DaveTransitionReady(
            DaveTransition { transition_id, extra }
        )),
        tid().prop_map(|t| ClientMessage::DaveInvalidCommitWelcome(DaveTransition::new(t))),
        extra().prop_map(ClientMessage::NoRoute),
        (33u8.., any::<i64>()).prop_map(|(op, v)| ClientMessage::Unknown {
            op: Opcode(op),
            d: serde_json::json!({ "v": v })
        }),
    ]
}

fn video() -> impl Strategy<Value = Video> {
    (
        option::of(ssrc()),
        option::of(ssrc()),
        option::of(ssrc()),
        option::of(vec(stream(), 0..3)),
        option::of(snowflake()),
        extra(),
    )
        .prop_map(|(audio_ssrc, video_ssrc, rtx_ssrc, streams, user_id, extra)| Video {
            audio_ssrc,
            video_ssrc,
            rtx_ssrc,
            streams,
            user_id,
            extra,
        })
}

fn sink_wants() -> impl Strategy<Value = MediaSinkWants> {
    (
        btree_map(ssrc(), 0u8..=100, 0..4),
        option::of(0u8..=100),
        // Quarter pixels are exact in binary, so the float round trip is exact.
        option::of(btree_map(ssrc(), (0u32..10_000_000).prop_map(|n| f64::from(n) / 4.0), 0..3)),
        extra(),
    )
        .prop_map(|(wants, any, pixel_counts, extra)| MediaSinkWants {
            wants,
            any,
            pixel_counts,
            extra,
        })
}

#[expect(clippy::too_many_lines, reason = "one strategy per opcode")]
fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        (
            ssrc(),
            text(),
            any::<u16>(),
            vec(mode(), 1..4),
            option::of(vec(text(), 0..2)),
            option::of(vec(stream(), 0..3)),
            extra()
        )
            .prop_map(|(ssrc, ip, port, modes, experiments, streams, extra)| {
                ServerMessage::Ready(Ready {
                    ssrc,
                    ip,
                    port,
                    modes,
                    heartbeat_interval: None,
                    experiments,
                    streams,
                    extra,
                })
            }),
        (
            mode(),
            any::<[u8; 32]>(),
            any::<u16>(),
            option::of(codec_name()),
            option::of(codec_name()),
            option::of("[0-9a-f]{32}"),
            option::of(any::<u32>()),
            extra()
        )
            .prop_map(
                |(
                    mode,
                    key,
                    dave,
                    audio_codec,
                    video_codec,
                    media_session_id,
                    keyframe_interval,
                    extra,
                )| {
                    ServerMessage::SessionDescription(SessionDescription {
                        mode,
                        secret_key: SecretKey(key),
                        dave_protocol_version: dave,
                        audio_codec,
                        video_codec,
                        media_session_id,
                        keyframe_interval,
                        bandwidth_estimation_experiment: None,
                        sdp: None,
                        extra,
                    })
                }
            ),
        (any::<u32>(), ssrc(), snowflake()).prop_map(
            |(flags, ssrc, user)| ServerMessage::Speaking(Speaking {
                speaking: SpeakingFlags(flags),
                ssrc,
                delay: None,
                user_id: Some(user),
                extra: Extra::new()
            })
        ),
        (any::<u64>(), any::<bool>()).prop_map(|(nonce, bare)| ServerMessage::HeartbeatAck(
            HeartbeatAck { nonce, form: if bare { NonceForm::Bare } else { NonceForm::Object } }
        )),
        (4u8..=9, 100u32..3_600_000, any::<bool>()).prop_map(|(v, ms, half)| {
            let mut h =
                Hello::new(GatewayVersion(v), std::time::Duration::from_millis(u64::from(ms)));
            if half {
                h.heartbeat_interval += 0.5;
            }
            ServerMessage::Hello(h)
        }),
        Just(ServerMessage::Resumed),
        (vec(snowflake(), 0..4), extra()).prop_map(|(user_ids, extra)| {
            ServerMessage::ClientsConnect(ClientsConnect { user_ids, extra })
        }),
        video().prop_map(ServerMessage::Video),
        snowflake().prop_map(|user_id| ServerMessage::ClientDisconnect(ClientDisconnect {
            user_id,
            extra: Extra::new()
        })),
        (option::of(codec_name()), option::of(any::<u32>())).prop_map(
            |(video_codec, keyframe_interval)| ServerMessage::SessionUpdate(SessionUpdate {
                video_codec,
                keyframe_interval,
                ..SessionUpdate::default()
            })
        ),
        sink_wants().prop_map(ServerMessage::MediaSinkWants),
        (option::of(text()), option::of(text())).prop_map(|(voice, rtc_worker)| {
            ServerMessage::VoiceBackendVersion(VoiceBackendVersion {
                voice,
                rtc_worker,
                extra: Extra::new(),
            })
        }),
        (snowflake(), option::of(any::<u64>())).prop_map(|(user_id, flags)| {
            ServerMessage::ClientFlags(ClientFlags { user_id, flags, extra: Extra::new() })
        }),
        (snowflake(), option::of(0u64..4)).prop_map(|(user_id, platform)| {
            ServerMessage::ClientPlatform(ClientPlatform { user_id, platform, extra: Extra::new() })
        }),
        (any::<u16>(), tid()).prop_map(|(protocol_version, transition_id)| {
            ServerMessage::DavePrepareTransition(DavePrepareTransition {
                protocol_version,
                transition_id,
                extra: Extra::new(),
            })
        }),
        tid().prop_map(|t| ServerMessage::DaveExecuteTransition(DaveTransition::new(t))),
        (any::<u16>(), any::<u64>()).prop_map(|(protocol_version, epoch)| {
            ServerMessage::DavePrepareEpoch(DavePrepareEpoch {
                protocol_version,
                epoch,
                extra: Extra::new(),
            })
        }),
        (prop_oneof![Just(10u8), Just(17), Just(19), 32u8..], any::<bool>()).prop_map(|(op, b)| {
            ServerMessage::Unknown { op: Opcode(op), d: serde_json::json!([b]) }
        }),
    ]
}

proptest! {
    #[test]
    fn client_messages_round_trip(m in client_message()) {
        let text = m.encode().unwrap();
        prop_assert_eq!(ClientMessage::parse(&text).unwrap(), m);
    }

    #[test]
    fn server_messages_round_trip(m in server_message(), seq in seq()) {
        let text = m.encode(seq).unwrap();
        let frame = ServerMessage::parse(&text).unwrap();
        prop_assert_eq!(frame.seq, seq);
        prop_assert_eq!(frame.message, m);
        if seq.is_none() {
            prop_assert!(!text.contains("\"seq\":"));
        }
    }

    #[test]
    fn server_binary_round_trip(op in prop_oneof![Just(25u8), Just(27), Just(29), Just(30), any::<u8>()], a in any::<u8>(), t in any::<u16>(), body in vec(any::<u8>(), 0..64), seq in seq()) {
        let msg = match op {
            25 => ServerDave::ExternalSender(&body),
            27 => ServerDave::Proposals { operation: ProposalsOperation(a), data: &body },
            29 => ServerDave::AnnounceCommitTransition { transition_id: TransitionId(t), commit: &body },
            30 => ServerDave::Welcome { transition_id: TransitionId(t), welcome: &body },
            op => ServerDave::Unknown { op: Opcode(op), payload: &body },
        };
        let bytes = msg.to_vec(seq);
        prop_assert_eq!(bytes.len(), msg.calculate_size(seq.is_some()));
        let parsed = ServerBinary::parse(&bytes, seq.is_some()).unwrap();
        prop_assert_eq!(parsed.seq, seq);
        prop_assert_eq!(parsed.message, msg);
    }

    #[test]
    fn client_binary_round_trip(op in any::<u8>(), body in vec(any::<u8>(), 0..64)) {
        let msg = match op {
            26 => ClientDave::KeyPackage(&body),
            28 => ClientDave::CommitWelcome(&body),
            op => ClientDave::Unknown { op: Opcode(op), payload: &body },
        };
        let bytes = msg.to_vec();
        prop_assert_eq!(ClientDave::parse(&bytes).unwrap(), msg);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,64}") {
        let _ = ClientMessage::parse(&s);
        let _ = ServerMessage::parse(&s);
    }
}

#[test]
fn version_from_query() {
    assert_eq!(GatewayVersion::from_query("/?v=8"), Some(GatewayVersion::V8));
    assert_eq!(GatewayVersion::from_query("?v=4"), Some(GatewayVersion::V4));
    assert_eq!(GatewayVersion::from_query("encoding=json&v=9"), Some(GatewayVersion::V9));
    assert_eq!(GatewayVersion::from_query("/?v=3"), None);
    assert_eq!(GatewayVersion::from_query("/"), None);
}

#[test]
fn snowflakes_accept_integers_and_speaking_accepts_booleans() {
    let m =
        ClientMessage::parse(r#"{"d":{"speaking":true,"ssrc":5,"user_id":12},"op":5}"#).unwrap();
    let ClientMessage::Speaking(s) = m else { panic!() };
    assert_eq!((s.speaking, s.user_id), (SpeakingFlags::MICROPHONE, Some(Snowflake(12))));
    // Written back as the canonical string form.
    assert!(ClientMessage::Speaking(s).encode().unwrap().contains("\"user_id\":\"12\""));
}

/// Whole-millisecond intervals stay whole: `1_027_676 ms` once became `1027675.9999999999` on the
/// wire, which a reader without exact float parsing turned into a different number.
#[test]
#[expect(clippy::float_cmp, reason = "exactly whole is the point")]
fn whole_millisecond_intervals_are_written_whole() {
    for ms in [100u64, 13_750, 41_250, 1_027_676, 3_600_000] {
        let h = Hello::new(GatewayVersion(8), std::time::Duration::from_millis(ms));
        #[expect(clippy::cast_precision_loss, reason = "small test values")]
        let want = ms as f64;
        assert_eq!(h.heartbeat_interval, want);
        let text = ServerMessage::Hello(h.clone()).encode(None).unwrap();
        assert!(text.contains(&format!("\"heartbeat_interval\":{ms}")), "{text}");
        let back = ServerMessage::parse(&text).unwrap().message;
        assert_eq!(back, ServerMessage::Hello(h));
    }
}
