//! `voxwire demo`: the whole stack on one machine. The local voice server starts in-process, a
//! simulated participant joins and speaks, and a bot joins, plays music and records everyone,
//! with transport encryption and DAVE end-to-end encryption as Discord uses them. Everything
//! goes through real sockets on 127.0.0.1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use voxwire::{
    Application, ConnectionInfo, PlayOptions, Transport, VoiceConfig, VoiceConnection, VoiceEvent,
};
use voxwire_netsim::{Loss, NetsimConfig};
use voxwire_server::{DaveMode, JoinInfo, Server, ServerConfig};
use voxwire_sinks::{
    CallbackSink, CodecSet, DecodeConfig, DecodeSink, FanOut, MixedWavConfig, MixedWavSink,
    PerUserSink, Sink, StreamKey, WavConfig, WavSink,
};
use voxwire_sources::PcmFrames;

use crate::Mode;
use crate::signal;

const GUILD: u64 = 1_000_000_000_000_001;
const CHANNEL: u64 = 1_000_000_000_000_002;
const BOT: u64 = 4242;
const ALICE: u64 = 1001;

/// Options of `voxwire demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// How long the bot plays and records.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Directory for the recordings.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Transport encryption mode.
    #[arg(long, value_enum, default_value = "aes")]
    mode: Mode,
    /// Run without DAVE end-to-end encryption.
    #[arg(long)]
    no_dave: bool,
    /// Packet loss towards the bot (0..1), to watch the jitter buffer and FEC work.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Jitter towards the bot, in milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
}

/// The recording tree of `record` and `demo`: Opus decoded to PCM (with FEC and concealment),
/// then one WAV per user and one mixed WAV of everyone aligned on the RTP timeline.
pub(crate) fn recorder(out: &Path) -> Result<impl Sink + 'static, voxwire_sinks::Error> {
    std::fs::create_dir_all(out)?;
    let dir = out.to_path_buf();
    let per_user = PerUserSink::new(CodecSet::PCM, move |key| {
        let name = match key {
            StreamKey::User(u) => format!("user-{u}.wav"),
            StreamKey::Ssrc(s) => format!("ssrc-{}.wav", s.0),
        };
        WavSink::create(dir.join(name), WavConfig::default()).map(|s| Box::new(s) as Box<dyn Sink>)
    });
    let mixed = MixedWavSink::create(out.join("mixed.wav"), MixedWavConfig::default())?;
    Ok(DecodeSink::new(
        FanOut::new(vec![Box::new(per_user), Box::new(mixed)]),
        DecodeConfig::default(),
    ))
}

fn info(j: &JoinInfo, user: u64) -> ConnectionInfo {
    ConnectionInfo {
        endpoint: j.endpoint.clone(),
        token: j.token.clone(),
        session_id: j.session_id.clone(),
        guild_id: GUILD,
        channel_id: CHANNEL,
        user_id: user,
    }
}

#[expect(clippy::cast_precision_loss, reason = "a file length shown in seconds")]
fn wav_seconds(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len().saturating_sub(44) as f64 / 192_000.0)
}

#[expect(clippy::too_many_lines, reason = "the demo is one linear script of its four steps")]
#[expect(clippy::cast_precision_loss, reason = "counters shown as percentages and seconds")]
pub(crate) async fn run(args: DemoArgs) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let started = Instant::now();
    let dave = if args.no_dave { DaveMode::Off } else { DaveMode::Required };
    let server =
        Server::start(ServerConfig::new().with_modes(vec![args.mode.transport()]).with_dave(dave))
            .await
            .map_err(|e| err(&e))?;
    println!("voxwire demo: the whole stack on 127.0.0.1, real sockets, real encryption");
    println!(
        "[1/4] local voice server up: wss://{} (media udp {}), {}, DAVE {}",
        server.gateway_addr(),
        server.udp_addr(),
        args.mode.transport().name(),
        if args.no_dave { "off" } else { "required" }
    );
    let config = VoiceConfig::new()
        .with_transport(Transport::TlsTrusting(server.ca_pem().unwrap_or_default().into()))
        .with_dave(!args.no_dave);

    let alice_join = server.join(GUILD, CHANNEL, ALICE).await.map_err(|e| err(&e))?;
    let alice = VoiceConnection::connect(info(&alice_join, ALICE), config.clone())
        .await
        .map_err(|e| err(&e))?;
    let alice_heard = Arc::new(AtomicU64::new(0));
    let counter = alice_heard.clone();
    alice
        .listen(CallbackSink::new(CodecSet::OPUS, move |p| {
            if !p.lost {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }))
        .await
        .map_err(|e| err(&e))?;
    println!("[2/4] alice (simulated participant, user {ALICE}) joined");

    let bot_join = server.join(GUILD, CHANNEL, BOT).await.map_err(|e| err(&e))?;
    let mut bot =
        VoiceConnection::connect(info(&bot_join, BOT), config).await.map_err(|e| err(&e))?;
    bot.listen(recorder(&args.out).map_err(|e| err(&e))?).await.map_err(|e| err(&e))?;
    if args.loss > 0.0 || args.jitter_ms > 0 {
        let net = NetsimConfig::default()
            .with_delay(Duration::from_millis(20))
            .with_jitter(Duration::from_millis(args.jitter_ms))
            .with_loss(Loss::Random(args.loss.clamp(0.0, 1.0)));
        server.impair(GUILD, CHANNEL, Some(BOT), Some(net), 7).await.map_err(|e| err(&e))?;
        println!(
            "      impairment towards the bot: {:.0}% loss, {} ms jitter",
            args.loss * 100.0,
            args.jitter_ms
        );
    }
    println!(
        "[3/4] bot (user {BOT}) joined: playing music and recording everyone into {}",
        args.out.display()
    );

    let alice_play = alice
        .play(
            PcmFrames::new(signal::voice(args.seconds)),
            PlayOptions { application: Application::Voip, ..PlayOptions::default() },
        )
        .await
        .map_err(|e| err(&e))?;
    let bot_play = bot
        .play(PcmFrames::new(signal::melody(args.seconds)), PlayOptions::default())
        .await
        .map_err(|e| err(&e))?;
    let alice_done = tokio::spawn(alice_play.finished());
    let bot_done = tokio::spawn(bot_play.finished());

    let mut spoke = std::collections::BTreeSet::new();
    let (mut epoch, mut code) = (0, None);
    let deadline = Instant::now() + Duration::from_secs(args.seconds + 20);
    while !(alice_done.is_finished() && bot_done.is_finished()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        while let Some(ev) = bot.try_next_event() {
            match ev {
                VoiceEvent::Speaking { user_id, flags, .. } if flags != 0 => {
                    spoke.insert(user_id);
                }
                VoiceEvent::DaveEpoch { epoch: e, privacy_code } => {
                    epoch = e;
                    code = Some(privacy_code);
                }
                _ => {}
            }
        }
        let s = bot.stats().await.map_err(|e| err(&e))?;
        print!(
            "\r      {:>4.1} s  bot sent {:>4} packets, received {:>4} frames ({} lost)  alice heard {:>4}   ",
            started.elapsed().as_secs_f64(),
            s.packets_sent,
            s.frames_received,
            s.frames_lost,
            alice_heard.load(Ordering::Relaxed)
        );
        let _ = std::io::stdout().flush();
    }
    println!();
    let alice_stats = alice_done.await.map_err(|e| err(&e))?.map_err(|e| err(&e))?;
    let bot_play_stats = bot_done.await.map_err(|e| err(&e))?.map_err(|e| err(&e))?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Per-stream statistics live as long as the listening does: read them first.
    let bot_stats = bot.stats().await.map_err(|e| err(&e))?;
    bot.stop_listening().await.map_err(|e| err(&e))?;
    let channel = server.channel(GUILD, CHANNEL).await.map_err(|e| err(&e))?;
    alice.disconnect().await;
    bot.disconnect().await;
    server.shutdown().await;

    println!("[4/4] what happened");
    println!(
        "  who spoke:        {}",
        spoke.iter().map(|u| format!("user {u}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "  bot played:       {} frames + {} silence, send time mean {:?} / max {:?}, interval p95 {:?}",
        bot_play_stats.frames_sent,
        bot_play_stats.silence_frames,
        bot_play_stats.send_time_mean,
        bot_play_stats.send_time_max,
        bot_play_stats.interval_p95
    );
    println!(
        "  alice spoke:      {} frames; heard {} frames of the bot's music",
        alice_stats.frames_sent,
        alice_heard.load(Ordering::Relaxed)
    );
    println!(
        "  bot received:     {} frames, {} lost ({:.1}%), {} transport / {} DAVE failures",
        bot_stats.frames_received,
        bot_stats.frames_lost,
        100.0 * bot_stats.frames_lost as f64
            / (bot_stats.frames_received + bot_stats.frames_lost).max(1) as f64,
        bot_stats.decrypt_failures,
        bot_stats.dave_failures
    );
    for st in &bot_stats.streams {
        println!(
            "  bot heard user {}: {} frames played, {} lost, {} late, playout delay {:?} (target {:?})",
            st.user_id.map_or_else(|| format!("ssrc {}", st.ssrc), |u| u.to_string()),
            st.jitter.played,
            st.jitter.lost,
            st.jitter.late,
            st.jitter.playout_delay,
            st.jitter.target_delay
        );
    }
    if let Some(c) = &channel {
        for p in &c.participants {
            println!(
                "  server saw user {:>4}: ssrc {}, {} RTP packets in, {} relayed out, mode {}",
                p.user_id,
                p.ssrc,
                p.rtp_in,
                p.relayed_out,
                p.mode.as_deref().unwrap_or("-")
            );
        }
    }
    if args.no_dave {
        println!("  DAVE:             off");
    } else {
        let code = code.or(bot_stats.privacy_code.clone()).unwrap_or_default();
        let grouped: Vec<String> =
            code.as_bytes().chunks(5).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        println!(
            "  DAVE:             epoch {}, privacy code {}",
            epoch.max(bot_stats.dave_epoch),
            grouped.join(" ")
        );
    }
    println!("  recordings:");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.out)
        .map_err(|e| err(&e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "wav")) {
        println!("    {}  ({:.1} s, 48 kHz stereo)", f.display(), wav_seconds(f));
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
