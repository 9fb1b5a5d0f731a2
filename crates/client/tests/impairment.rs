//! Under the server's impairment towards the listener (5% random loss, 40 ms jitter, reordering),
//! the recording has no gaps beyond the lost frames (each lost frame is concealed or recovered
//! with FEC, in place) and stays time-aligned: every 20 ms of the source occupies exactly one
//! 20 ms slot of the RTP timeline.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test signal math on small sample counts and amplitudes"
)]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use voxwire::{PlayOptions, Transport, VoiceConfig, VoiceConnection};
use voxwire_netsim::{Loss, NetsimConfig};
use voxwire_server::{Server, ServerConfig};
use voxwire_sinks::{CallbackSink, CodecSet, DecodeConfig, DecodeSink};
use voxwire_sources::PcmFrames;

use common::{info, tone};

const GUILD: u64 = 80;
const CHANNEL: u64 = 81;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_jittery_network_keeps_the_recording_whole_and_aligned() {
    let server = Server::start(ServerConfig::new()).await.expect("server");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()));
    let listener = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, 401).await.expect("join")),
        config.clone(),
    )
    .await
    .expect("listener");
    let (tx, rx) = mpsc::channel();
    let sink = CallbackSink::new(CodecSet::PCM, move |p| {
        let _ = tx.send((
            p.timestamp.0,
            p.lost,
            p.concealment.is_some(),
            p.pcm.as_ref().map_or(0, |s| s.len()),
        ));
    });
    listener.listen(DecodeSink::new(sink, DecodeConfig::default())).await.expect("listen");
    let net = NetsimConfig::default()
        .with_delay(Duration::from_millis(30))
        .with_jitter(Duration::from_millis(40))
        .with_loss(Loss::Random(0.05))
        .with_reorder(0.05, Duration::from_millis(30));
    assert_eq!(server.impair(GUILD, CHANNEL, Some(401), Some(net), 11).await.expect("server"), 1);

    let speaker = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, 402).await.expect("join")),
        config,
    )
    .await
    .expect("speaker");
    let frames = 250;
    let tone = tone(440.0, frames, 10_000.0);
    let played = speaker
        .play(
            PcmFrames::new(tone),
            PlayOptions { expected_packet_loss: 5.0, ..PlayOptions::default() },
        )
        .await
        .expect("play");
    let stats = tokio::time::timeout(Duration::from_secs(40), played.finished())
        .await
        .expect("ends")
        .expect("played");
    assert_eq!(stats.frames_sent, frames as u64);
    tokio::time::sleep(Duration::from_millis(800)).await;
    listener.stop_listening().await.expect("stop");
    let channel = server.channel(GUILD, CHANNEL).await.expect("server").expect("channel");
    let listener_stats = listener.stats().await.expect("stats");

    let got: Vec<(u32, bool, bool, usize)> = rx.try_iter().collect();
    let first = got.first().expect("something was heard").0;
    let mut lost = 0;
    for (k, (ts, is_lost, concealed, pcm_len)) in got.iter().enumerate() {
        // Every slot of the RTP timeline is there exactly once, in order: no gap, no overlap.
        assert_eq!(ts.wrapping_sub(first), k as u32 * 960, "slot {k} is out of place");
        // Each slot carries 20 ms of PCM: received, recovered from FEC, or concealed.
        assert_eq!(*pcm_len, 1920, "slot {k} has {pcm_len} samples");
        if *is_lost {
            lost += 1;
            assert!(*concealed, "lost slot {k} is concealed or recovered");
        }
    }
    eprintln!(
        "slots {}, lost {lost} ({:.1}%), listener {listener_stats:?}, server {:?}",
        got.len(),
        100.0 * f64::from(lost) / got.len() as f64,
        channel.participants
    );
    // 5 source frames of silence follow the tone; allow the first packets to be lost too.
    assert!(got.len() >= frames - 10, "heard {} slots of {}", got.len(), frames + 5);
    assert!(lost > 0, "the impairment dropped nothing: the test would not show concealment");
    assert!(f64::from(lost) < 0.15 * got.len() as f64, "{lost} lost of {}", got.len());
    speaker.disconnect().await;
    listener.disconnect().await;
    server.shutdown().await;
}
