//! Staying connected: the server drops the client's WebSocket mid-play (close 4015) and the client
//! resumes; the client is moved to new voice-server credentials mid-play and identifies anew. In
//! both cases the audio continues and the recording on the other side has no hole beyond the
//! switch.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test signal math on small sample counts and amplitudes"
)]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use voxwire::{PlayOptions, Transport, VoiceConfig, VoiceConnection, VoiceEvent};
use voxwire_server::{Server, ServerConfig};
use voxwire_sinks::{CallbackSink, CodecSet};

use common::{info, tone};
use voxwire_sources::PcmFrames;

const GUILD: u64 = 70;
const CHANNEL: u64 = 71;
const LISTENER: u64 = 301;
const SPEAKER: u64 = 302;

struct Setup {
    server: Server,
    listener: VoiceConnection,
    speaker: VoiceConnection,
    heard: mpsc::Receiver<bool>,
    config: VoiceConfig,
}

async fn setup() -> Setup {
    let server = Server::start(ServerConfig::new()).await.expect("server");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()));
    let listener = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, LISTENER).await.expect("join")),
        config.clone(),
    )
    .await
    .expect("listener");
    let (tx, heard) = mpsc::channel();
    listener
        .listen(CallbackSink::new(CodecSet::OPUS, move |p| {
            let _ = tx.send(!p.lost && p.payload.len() > 3);
        }))
        .await
        .expect("listen");
    let speaker = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, SPEAKER).await.expect("join")),
        config.clone(),
    )
    .await
    .expect("speaker");
    Setup { server, listener, speaker, heard, config }
}

async fn wait_for(conn: &mut VoiceConnection, what: impl Fn(&VoiceEvent) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match tokio::time::timeout_at(deadline, conn.next_event()).await {
            Ok(Some(e)) if what(&e) => return true,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_a_dropped_socket_and_audio_continues() {
    let Setup { server, listener, mut speaker, heard, .. } = setup().await;
    let playing = speaker
        .play(PcmFrames::new(tone(440.0, 250, 10_000.0)), PlayOptions::default())
        .await
        .expect("play");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        server.drop_connection(GUILD, CHANNEL, SPEAKER, 4015).await.expect("server up"),
        "speaker connected"
    );
    assert!(
        wait_for(&mut speaker, |e| matches!(e, VoiceEvent::Resumed)).await,
        "the speaker resumes"
    );
    let stats = tokio::time::timeout(Duration::from_secs(30), playing.finished())
        .await
        .expect("ends")
        .expect("played");
    assert_eq!(stats.frames_sent, 250);
    tokio::time::sleep(Duration::from_millis(300)).await;
    listener.stop_listening().await.expect("stop");
    let voiced = heard.try_iter().filter(|v| *v).count();
    // The media path never stopped: a resume keeps keys, SSRC and the DAVE group.
    assert!(voiced >= 245, "heard {voiced} of 250 frames across the resume");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_to_a_new_server_and_audio_continues() {
    let Setup { server, listener, mut speaker, heard, config } = setup().await;
    let _ = config;
    let playing = speaker
        .play(PcmFrames::new(tone(440.0, 300, 10_000.0)), PlayOptions::default())
        .await
        .expect("play");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Discord announces a move with new VOICE_SERVER_UPDATE credentials.
    let moved = server.join(GUILD, CHANNEL, SPEAKER).await.expect("join");
    speaker.update_server(info(&moved)).await.expect("move");
    assert!(
        wait_for(&mut speaker, |e| matches!(e, VoiceEvent::Connected { .. })).await,
        "the speaker reconnects"
    );
    let stats = tokio::time::timeout(Duration::from_secs(30), playing.finished())
        .await
        .expect("ends")
        .expect("played");
    assert_eq!(stats.frames_sent, 300, "nothing of the source is skipped across the move");
    tokio::time::sleep(Duration::from_millis(300)).await;
    listener.stop_listening().await.expect("stop");
    let voiced = heard.try_iter().filter(|v| *v).count();
    // A move re-forms the DAVE group; frames are held, not sent, while it forms.
    assert!(voiced >= 280, "heard {voiced} of 300 frames across the move");
    server.shutdown().await;
}
