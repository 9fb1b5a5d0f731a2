//! Interop with a real third-party Discord voice client: discord.js's `@discordjs/voice` (from
//! npm, installed at test time into `interop/node_modules` by `cargo xtask interop` or
//! `cargo xtask test`). Two such clients join one channel of a voxwire server over `wss://`; one
//! plays a tone, the other receives it, decodes it and measures its frequency. Run with DAVE on
//! and off and with each AEAD mode.

use std::path::PathBuf;

use std::process::Stdio;
use std::time::Duration;
use voxwire_testkit::{discordjs_available, interop_dir};

use tokio::process::Command;
use voxwire_crypto::transport::TransportMode;
use voxwire_server::{DaveMode, Server, ServerConfig};

struct Case {
    dave: DaveMode,
    mode: TransportMode,
}

async fn run_case(case: &Case, freq: u32) {
    let server =
        Server::start(ServerConfig::new().with_dave(case.dave).with_modes(vec![case.mode]))
            .await
            .expect("server starts");
    let dir = tempdir();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem().expect("tls")).expect("write CA");
    let (guild, channel, listener_id, speaker_id) = (41u64, 42u64, 1001u64, 1002u64);
    let dave = if case.dave == DaveMode::Off { "off" } else { "on" };
    let peer = |user: u64, extra: &[String]| {
        let mut c = Command::new("node");
        c.current_dir(interop_dir())
            .arg("peer.mjs")
            .args([
                "--control",
                &server.control_url(),
                "--guild",
                &guild.to_string(),
                "--channel",
                &channel.to_string(),
            ])
            .args(["--user", &user.to_string(), "--dave", dave])
            .args(extra)
            .env("NODE_EXTRA_CA_CERTS", &ca)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        c.spawn().expect("node runs")
    };
    let listener = peer(
        listener_id,
        &[
            "--role".into(),
            "listen".into(),
            "--from".into(),
            speaker_id.to_string(),
            "--seconds".into(),
            "40".into(),
        ],
    );
    // Wait until the listener is in the channel with its transport ready.
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(Some(info)) = server.channel(guild, channel).await
            && info
                .participants
                .iter()
                .any(|p| p.user_id == listener_id.to_string() && p.mode.is_some() && p.udp)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the listener never became ready");
    let speaker = peer(
        speaker_id,
        &[
            "--role".into(),
            "speak".into(),
            "--freq".into(),
            freq.to_string(),
            "--seconds".into(),
            "3".into(),
        ],
    );

    let speak_out = tokio::time::timeout(Duration::from_secs(40), speaker.wait_with_output())
        .await
        .expect("speaker finishes")
        .expect("speaker output");
    let listen_out = tokio::time::timeout(Duration::from_mins(1), listener.wait_with_output())
        .await
        .expect("listener finishes")
        .expect("listener output");
    assert!(speak_out.status.success(), "speaker failed");
    assert!(listen_out.status.success(), "listener failed");
    let summary: serde_json::Value = serde_json::from_slice(listen_out.stdout.trim_ascii())
        .expect("listener prints one JSON line");
    eprintln!("{:?}: listener summary {summary}", case.mode);
    assert_eq!(summary["mode"], case.mode.name(), "negotiated mode");
    let packets = summary["packets"].as_u64().unwrap_or(0);
    // 3 s of audio is 150 packets; allow for start-up and trailing silence frames.
    assert!(packets >= 130, "received only {packets} packets");
    let measured = summary["freq"].as_f64().unwrap_or(0.0);
    assert!((measured - f64::from(freq)).abs() < 10.0, "heard {measured} Hz, expected {freq} Hz");
    let info = server.channel(guild, channel).await.expect("server up");
    if let Some(info) = info {
        assert!(
            info.participants.iter().all(|p| p.decrypt_failures == 0),
            "decrypt failures: {info:?}"
        );
    }
    server.shutdown().await;
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "voxwire-interop-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_tone_with_dave_aes_gcm() {
    if discordjs_available() {
        run_case(
            &Case { dave: DaveMode::Required, mode: TransportMode::AeadAes256GcmRtpsize },
            440,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_tone_with_dave_xchacha() {
    if discordjs_available() {
        run_case(
            &Case { dave: DaveMode::Required, mode: TransportMode::AeadXChaCha20Poly1305Rtpsize },
            660,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_tone_without_dave() {
    if discordjs_available() {
        run_case(&Case { dave: DaveMode::Off, mode: TransportMode::AeadAes256GcmRtpsize }, 523)
            .await;
    }
}
