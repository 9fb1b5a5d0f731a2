//! Parsing the hot gateway messages: Heartbeat ACK (every interval), Speaking (every speaking
//! change of every user), a Ready with simulcast layers (once per connection, the largest
//! common message), and binary DAVE frames (every MLS step) at realistic sizes.
#![allow(missing_docs, reason = "criterion generates the entry point")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voxwire_gateway::{ClientMessage, Seq, ServerBinary, ServerDave, ServerMessage, TransitionId};

const HEARTBEAT_ACK: &str = r#"{"op":6,"d":{"t":1732170000123},"seq":41}"#;
const SPEAKING: &str =
    r#"{"op":5,"d":{"speaking":1,"ssrc":23590,"user_id":"80351110224678913"},"seq":12}"#;
const CLIENT_HEARTBEAT: &str = r#"{"op":3,"d":{"t":1732170000123,"seq_ack":41}}"#;
const READY: &str = r#"{"op":2,"d":{"streams":[{"type":"video","ssrc":23585,"rtx_ssrc":23586,"rid":"50","quality":50,"active":false},{"type":"video","ssrc":23587,"rtx_ssrc":23588,"rid":"100","quality":100,"active":false}],"ssrc":23584,"port":50010,"modes":["aead_aes256_gcm_rtpsize","aead_xchacha20_poly1305_rtpsize"],"ip":"203.0.113.50","experiments":["fixed_keyframe_interval"]},"seq":1}"#;

fn json(c: &mut Criterion) {
    let mut g = c.benchmark_group("gateway_json_parse");
    for (name, text) in
        [("heartbeat_ack", HEARTBEAT_ACK), ("speaking", SPEAKING), ("ready_2_layers", READY)]
    {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| ServerMessage::parse(black_box(text)).unwrap()));
    }
    g.throughput(Throughput::Bytes(CLIENT_HEARTBEAT.len() as u64));
    g.bench_function("client_heartbeat", |b| {
        b.iter(|| ClientMessage::parse(black_box(CLIENT_HEARTBEAT)).unwrap());
    });
    g.finish();

    let mut g = c.benchmark_group("gateway_json_encode");
    let speaking = ServerMessage::parse(SPEAKING).unwrap().message;
    g.bench_function("speaking", |b| {
        b.iter(|| black_box(&speaking).encode(Some(Seq(12))).unwrap());
    });
    g.finish();
}

fn binary(c: &mut Criterion) {
    let mut g = c.benchmark_group("gateway_binary_parse");
    // A commit for a small group is a few hundred bytes; a Welcome for a large call tens of KB.
    for (name, len) in [("commit_300", 300usize), ("welcome_16k", 16 * 1024)] {
        let body = vec![0x5Au8; len];
        let frame =
            ServerDave::AnnounceCommitTransition { transition_id: TransitionId(7), commit: &body }
                .to_vec(Some(Seq(9)));
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| ServerBinary::parse(black_box(&frame), true).unwrap());
        });
    }
    g.finish();
}

criterion_group!(benches, json, binary);
criterion_main!(benches);
