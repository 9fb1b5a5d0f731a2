//! End to end on 127.0.0.1 with real sockets, real transport encryption and DAVE: one voxwire
//! client plays a known tone through voxwire-server, a second voxwire client records it, and the
//! recording is checked (frequency, length, the speaker's user id, no decryption failures), in
//! both AEAD modes, with DAVE on and off, for a PCM source (encoded on a player thread) and for an
//! in-memory Opus source (read on the send clock), paused and resumed half-way.
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
use voxwire_crypto::transport::TransportMode;
use voxwire_server::{DaveMode, Server, ServerConfig};
use voxwire_sinks::{CallbackSink, CodecSet, DecodeConfig, DecodeSink};
use voxwire_sources::{FRAME_LEN, MediaSource, OpusFrames, PcmFrames};

use common::{frequency, info, tone};

const GUILD: u64 = 7;
const CHANNEL: u64 = 8;
const LISTENER: u64 = 201;
const SPEAKER: u64 = 202;

struct Heard {
    frames: usize,
    lost: usize,
    voiced: Vec<i16>,
    users_ok: bool,
}

/// What the speaker plays.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// PCM, encoded on a player thread.
    Pcm,
    /// Opus encoded beforehand, held in memory and read on the send clock; paused for 10 ticks
    /// half-way.
    InMemoryOpus,
}

/// The tone encoded to Opus with libopus, one packet per 20 ms frame.
fn opus_tone(freq: f64, frames: usize) -> Vec<Vec<u8>> {
    let enc = audiopus::coder::Encoder::new(
        audiopus::SampleRate::Hz48000,
        audiopus::Channels::Stereo,
        audiopus::Application::Audio,
    )
    .expect("encoder");
    let mut out = [0u8; 1275];
    tone(freq, frames, 12_000.0)
        .iter()
        .map(|pcm| {
            assert_eq!(pcm.len(), FRAME_LEN);
            let n = enc.encode(pcm, &mut out).expect("encode");
            out[..n].to_vec()
        })
        .collect()
}

async fn play_and_record(mode: TransportMode, dave: DaveMode, freq: f64, feed: Feed) -> Heard {
    let server = Server::start(ServerConfig::new().with_modes(vec![mode]).with_dave(dave))
        .await
        .expect("server");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()))
        .with_dave(dave != DaveMode::Off);

    let listener_join = server.join(GUILD, CHANNEL, LISTENER).await.expect("join");
    let listener = VoiceConnection::connect(info(&listener_join), config.clone())
        .await
        .expect("listener connects");
    let (tx, rx) = mpsc::channel();
    let record = CallbackSink::new(CodecSet::PCM, move |p| {
        let _ = tx.send((p.user_id.map(|u| u.0), p.lost, p.pcm.clone()));
    });
    listener.listen(DecodeSink::new(record, DecodeConfig::default())).await.expect("listen");

    let speaker_join = server.join(GUILD, CHANNEL, SPEAKER).await.expect("join");
    let speaker =
        VoiceConnection::connect(info(&speaker_join), config).await.expect("speaker connects");
    let source: Box<dyn MediaSource> = match feed {
        Feed::Pcm => Box::new(PcmFrames::new(tone(freq, 100, 12_000.0))),
        Feed::InMemoryOpus => Box::new(OpusFrames::new(opus_tone(freq, 100)).nonblocking()),
    };
    let playing = speaker.play(source, PlayOptions::default()).await.expect("play");
    if feed == Feed::InMemoryOpus {
        tokio::time::sleep(Duration::from_millis(800)).await;
        playing.pause().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        playing.resume().await;
    }
    let stats = tokio::time::timeout(Duration::from_secs(30), playing.finished())
        .await
        .expect("playback ends")
        .expect("played");
    assert_eq!(stats.frames_sent, 100, "every frame of the source is sent: {stats:?}");
    let silence = if feed == Feed::InMemoryOpus { 10 } else { 5 };
    assert!(
        stats.silence_frames >= silence,
        "five silence frames follow the source (and the pause): {stats:?}"
    );

    // Let the jitter buffer drain, then finalize.
    tokio::time::sleep(Duration::from_millis(400)).await;
    listener.stop_listening().await.expect("sinks clean up");
    let speaker_stats = speaker.stats().await.expect("stats");
    let listener_stats = listener.stats().await.expect("stats");
    assert_eq!(listener_stats.decrypt_failures, 0, "{listener_stats:?}");
    assert!(
        speaker_stats.reports_sent >= 1,
        "the speaker sends RTCP sender reports: {speaker_stats:?}"
    );
    assert!(
        listener_stats.rtcp_received >= 1,
        "sender reports are relayed and decrypted: {listener_stats:?}"
    );
    assert_eq!(listener_stats.dave_failures, 0, "{listener_stats:?}");
    if dave != DaveMode::Off {
        assert_eq!(speaker_stats.dave_protocol_version, 1);
        assert_eq!(
            listener_stats.privacy_code, speaker_stats.privacy_code,
            "both members show the same privacy code"
        );
        assert!(listener_stats.privacy_code.is_some());
    }
    speaker.disconnect().await;
    listener.disconnect().await;
    server.shutdown().await;

    let mut heard = Heard { frames: 0, lost: 0, voiced: Vec::new(), users_ok: true };
    for (user, lost, pcm) in rx.try_iter() {
        heard.users_ok &= user == Some(SPEAKER);
        if lost {
            heard.lost += 1;
            continue;
        }
        heard.frames += 1;
        // Voiced through and through: a frame that fades in or out (the encoder's start, the
        // pause) has fewer zero crossings than its length implies and would bias the estimate.
        if let Some(pcm) = pcm
            && pcm
                .chunks(pcm.len().div_ceil(4).max(1))
                .all(|q| q.iter().any(|s| s.unsigned_abs() > 2000))
        {
            heard.voiced.extend_from_slice(&pcm);
        }
    }
    heard
}

fn check(heard: &Heard, freq: f64) {
    assert!(heard.users_ok, "every frame is attributed to the speaker");
    assert!(heard.frames >= 100, "heard {} frames ({} lost)", heard.frames, heard.lost);
    assert_eq!(heard.lost, 0, "no loss on a clean loopback");
    // Opus's first frames ramp up; measure the steady part.
    let measured = frequency(&heard.voiced);
    assert!((measured - freq).abs() < 5.0, "heard {measured:.1} Hz, played {freq} Hz");
    // 100 frames of 960 stereo samples, give or take the encoder's ramp.
    assert!(heard.voiced.len() >= 95 * 1920, "voiced samples: {}", heard.voiced.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_with_dave_aes_gcm() {
    let heard =
        play_and_record(TransportMode::AeadAes256GcmRtpsize, DaveMode::Required, 440.0, Feed::Pcm)
            .await;
    check(&heard, 440.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_with_dave_xchacha() {
    let heard = play_and_record(
        TransportMode::AeadXChaCha20Poly1305Rtpsize,
        DaveMode::Required,
        660.0,
        Feed::Pcm,
    )
    .await;
    check(&heard, 660.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_without_dave() {
    let heard =
        play_and_record(TransportMode::AeadAes256GcmRtpsize, DaveMode::Off, 523.0, Feed::Pcm).await;
    check(&heard, 523.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_opus_on_the_send_clock_with_dave() {
    let heard = play_and_record(
        TransportMode::AeadAes256GcmRtpsize,
        DaveMode::Required,
        587.0,
        Feed::InMemoryOpus,
    )
    .await;
    check(&heard, 587.0);
}
