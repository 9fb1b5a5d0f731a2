//! DAVE re-keys while audio flows: a third client joins mid-stream and later leaves, each change
//! moving the call's MLS group to a new epoch, and the listener's recording of the speaker loses
//! nothing.
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
use voxwire_server::{Server, ServerConfig};
use voxwire_sinks::{CallbackSink, CodecSet};

use common::{info, tone};
use voxwire_sources::PcmFrames;

const GUILD: u64 = 60;
const CHANNEL: u64 = 61;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_leaves_mid_stream_rekey_without_losing_audio() {
    let server = Server::start(ServerConfig::new()).await.expect("server");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()));
    let connect = |user: u64| {
        let (server, config) = (&server, config.clone());
        async move {
            VoiceConnection::connect(
                info(&server.join(GUILD, CHANNEL, user).await.expect("join")),
                config,
            )
            .await
            .expect("connect")
        }
    };
    let listener = connect(601).await;
    let (tx, heard) = mpsc::channel();
    listener
        .listen(CallbackSink::new(CodecSet::OPUS, move |p| {
            let _ = tx.send((p.lost, p.payload.len()));
        }))
        .await
        .expect("listen");
    let speaker = connect(602).await;
    let frames = 300;
    let tone = tone(440.0, frames, 10_000.0);
    let playing = speaker.play(PcmFrames::new(tone), PlayOptions::default()).await.expect("play");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let epoch_before = listener.stats().await.expect("stats").dave_epoch;

    let newcomer = connect(603).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let epoch_with_three = listener.stats().await.expect("stats").dave_epoch;
    newcomer.disconnect().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = listener.stats().await.expect("stats");

    let stats = tokio::time::timeout(Duration::from_secs(30), playing.finished())
        .await
        .expect("ends")
        .expect("played");
    assert_eq!(stats.frames_sent, frames as u64);
    tokio::time::sleep(Duration::from_millis(400)).await;
    listener.stop_listening().await.expect("stop");
    let final_stats = listener.stats().await.expect("stats");

    assert!(
        epoch_with_three > epoch_before,
        "the join moved the group to a new epoch ({epoch_before} -> {epoch_with_three})"
    );
    assert!(
        after.dave_epoch > epoch_with_three,
        "the leave moved it again ({epoch_with_three} -> {})",
        after.dave_epoch
    );
    let got: Vec<(bool, usize)> = heard.try_iter().collect();
    let voiced = got.iter().filter(|(lost, len)| !lost && *len > 3).count();
    let lost = got.iter().filter(|(lost, _)| *lost).count();
    eprintln!(
        "epochs {epoch_before} -> {epoch_with_three} -> {}; heard {voiced} voiced, {lost} lost; {final_stats:?}",
        after.dave_epoch
    );
    assert_eq!(
        final_stats.dave_failures, 0,
        "no frame failed DAVE across the re-keys: {final_stats:?}"
    );
    assert_eq!(lost, 0, "no frame was lost across the re-keys");
    assert!(voiced >= frames - 2, "heard {voiced} of {frames} frames");
    speaker.disconnect().await;
    listener.disconnect().await;
    server.shutdown().await;
}
