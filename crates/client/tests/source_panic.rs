//! A source whose code panics ends its own playback with `Error::SourcePanicked`, whether it is
//! read on the shared send clock (in-memory Opus) or on a player thread (PCM), and nothing else:
//! another connection's playback on the same clock plays to its end.

mod common;

use std::time::Duration;

use voxwire::{Error, PlayOptions, Transport, VoiceConfig, VoiceConnection};
use voxwire_server::{DaveMode, Server, ServerConfig};
use voxwire_sources::{AudioFrame, AudioKind, AudioRead, MediaSource, OpusFrames};

use common::info;

/// `frames` frames of silence, then a panic.
struct PanicsAfter {
    frames: usize,
    kind: AudioKind,
}

impl MediaSource for PanicsAfter {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(self.kind)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, voxwire_sources::Error> {
        assert!(self.frames > 0, "a source bug");
        self.frames -= 1;
        match self.kind {
            AudioKind::Opus => frame.set_opus(&[0xF8, 0xFF, 0xFE])?,
            AudioKind::Pcm => frame.fill_silence(),
        }
        Ok(AudioRead::Frame)
    }

    fn is_nonblocking(&self) -> bool {
        self.kind == AudioKind::Opus
    }

    fn is_finished(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_source_ends_only_its_own_playback() {
    let server = Server::start(ServerConfig::new().with_dave(DaveMode::Off)).await.expect("server");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()))
        .with_dave(false);
    let mut conns = Vec::new();
    for user in [301, 302, 303] {
        let join = server.join(9, 10, user).await.expect("join");
        conns.push(VoiceConnection::connect(info(&join), config.clone()).await.expect("connects"));
    }
    let steady = conns[0]
        .play(
            OpusFrames::new(vec![vec![0xF8u8, 0xFF, 0xFE]; 60]).nonblocking(),
            PlayOptions::default(),
        )
        .await
        .expect("play");
    let on_clock = conns[1]
        .play(PanicsAfter { frames: 10, kind: AudioKind::Opus }, PlayOptions::default())
        .await
        .expect("play");
    let on_thread = conns[2]
        .play(PanicsAfter { frames: 10, kind: AudioKind::Pcm }, PlayOptions::default())
        .await
        .expect("play");

    let wait = Duration::from_secs(20);
    for (what, playing) in [("on the clock", on_clock), ("on a player thread", on_thread)] {
        match tokio::time::timeout(wait, playing.finished()).await.expect("ends") {
            Err(Error::SourcePanicked(msg)) => assert!(msg.contains("a source bug"), "{msg}"),
            other => panic!("a source panicking {what} gave {other:?}"),
        }
    }
    let stats = tokio::time::timeout(wait, steady.finished()).await.expect("ends").expect("played");
    assert_eq!(stats.frames_sent, 60, "the other playback on the clock went on: {stats:?}");
    // The connections whose source panicked are still usable.
    let again = conns[1]
        .play(
            OpusFrames::new(vec![vec![0xF8u8, 0xFF, 0xFE]; 5]).nonblocking(),
            PlayOptions::default(),
        )
        .await
        .expect("play");
    let stats = tokio::time::timeout(wait, again.finished()).await.expect("ends").expect("played");
    assert_eq!(stats.frames_sent, 5);
    for c in conns {
        c.disconnect().await;
    }
    server.shutdown().await;
}
