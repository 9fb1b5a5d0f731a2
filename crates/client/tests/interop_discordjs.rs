//! The voxwire client with a real third-party client in the same channel: discord.js's
//! `@discordjs/voice` (from npm, installed at test time by `cargo xtask test`/`interop` into
//! `interop/node_modules`), both directions, with DAVE on.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test signal math on small sample counts and amplitudes"
)]

mod common;

use std::path::{Path, PathBuf};

use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;
use voxwire_testkit::{discordjs_available, interop_dir};

use tokio::process::Command;
use voxwire::{PlayOptions, Transport, VoiceConfig, VoiceConnection};
use voxwire_server::{Server, ServerConfig};
use voxwire_sinks::{CallbackSink, CodecSet, DecodeConfig, DecodeSink};
use voxwire_sources::PcmFrames;

use common::{frequency, info, tone};

const GUILD: u64 = 90;
const CHANNEL: u64 = 91;
const VOXWIRE_USER: u64 = 501;
const DJS_USER: u64 = 502;

fn djs_peer(server: &Server, ca: &Path, user: u64, args: &[&str]) -> tokio::process::Child {
    Command::new("node")
        .current_dir(interop_dir())
        .arg("peer.mjs")
        .args([
            "--control",
            &server.control_url(),
            "--guild",
            &GUILD.to_string(),
            "--channel",
            &CHANNEL.to_string(),
        ])
        .args(["--user", &user.to_string(), "--dave", "on"])
        .args(args)
        .env("NODE_EXTRA_CA_CERTS", ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs")
}

async fn start() -> (Server, PathBuf, VoiceConfig) {
    let server = Server::start(ServerConfig::new()).await.expect("server");
    let dir = std::env::temp_dir().join(format!("voxwire-client-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = dir.join(format!("ca-{}.pem", server.gateway_addr().port()));
    std::fs::write(&ca, server.ca_pem().expect("tls")).expect("write CA");
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().expect("tls").into()));
    (server, ca, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voxwire_hears_discordjs() {
    if !discordjs_available() {
        return;
    }
    let (server, ca, config) = start().await;
    let voxwire = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, VOXWIRE_USER).await.expect("join")),
        config,
    )
    .await
    .expect("connect");
    let (tx, rx) = mpsc::channel();
    let sink = CallbackSink::new(CodecSet::PCM, move |p| {
        let _ = tx.send((p.user_id.map(|u| u.0), p.lost, p.pcm.clone()));
    });
    voxwire.listen(DecodeSink::new(sink, DecodeConfig::default())).await.expect("listen");
    let speaker =
        djs_peer(&server, &ca, DJS_USER, &["--role", "speak", "--freq", "440", "--seconds", "3"]);
    let out = tokio::time::timeout(Duration::from_mins(1), speaker.wait_with_output())
        .await
        .expect("speaker ends")
        .expect("output");
    assert!(out.status.success(), "discord.js speaker failed");
    tokio::time::sleep(Duration::from_millis(400)).await;
    voxwire.stop_listening().await.expect("stop");
    let stats = voxwire.stats().await.expect("stats");
    let (mut frames, mut voiced) = (0, Vec::new());
    for (user, lost, pcm) in rx.try_iter() {
        assert_eq!(user, Some(DJS_USER), "frames are attributed to the discord.js user");
        if lost {
            continue;
        }
        frames += 1;
        if let Some(pcm) = pcm
            && pcm.iter().any(|s| s.unsigned_abs() > 2000)
        {
            voiced.extend_from_slice(&pcm);
        }
    }
    eprintln!("voxwire heard {frames} frames from discord.js; {stats:?}");
    assert!(frames >= 140, "heard {frames} frames of 150");
    assert_eq!(stats.dave_failures, 0);
    let f = frequency(&voiced);
    assert!((f - 440.0).abs() < 5.0, "heard {f:.1} Hz");
    voxwire.disconnect().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_hears_voxwire() {
    if !discordjs_available() {
        return;
    }
    let (server, ca, config) = start().await;
    let listener = djs_peer(
        &server,
        &ca,
        DJS_USER,
        &["--role", "listen", "--from", &VOXWIRE_USER.to_string(), "--seconds", "40"],
    );
    // Wait until discord.js is in the channel with its transport ready.
    for _ in 0..400 {
        if let Ok(Some(c)) = server.channel(GUILD, CHANNEL).await
            && c.participants
                .iter()
                .any(|p| p.user_id == DJS_USER.to_string() && p.udp && p.mode.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let voxwire = VoiceConnection::connect(
        info(&server.join(GUILD, CHANNEL, VOXWIRE_USER).await.expect("join")),
        config,
    )
    .await
    .expect("connect");
    let tone = tone(660.0, 150, 12_000.0);
    let playing = voxwire.play(PcmFrames::new(tone), PlayOptions::default()).await.expect("play");
    let stats = tokio::time::timeout(Duration::from_secs(40), playing.finished())
        .await
        .expect("ends")
        .expect("played");
    assert_eq!(stats.frames_sent, 150);
    let out = tokio::time::timeout(Duration::from_mins(1), listener.wait_with_output())
        .await
        .expect("listener ends")
        .expect("output");
    assert!(out.status.success(), "discord.js listener failed");
    let summary: serde_json::Value =
        serde_json::from_slice(out.stdout.trim_ascii()).expect("one JSON line");
    eprintln!("discord.js heard: {summary}");
    assert!(summary["packets"].as_u64().unwrap_or(0) >= 140, "{summary}");
    let f = summary["freq"].as_f64().unwrap_or(0.0);
    assert!((f - 660.0).abs() < 10.0, "discord.js heard {f:.1} Hz");
    voxwire.disconnect().await;
    server.shutdown().await;
}
