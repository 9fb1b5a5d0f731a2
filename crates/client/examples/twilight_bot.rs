//! A twilight bot that joins a voice channel, plays a file and leaves.
//!
//! ```text
//! DISCORD_TOKEN=… VOXWIRE_GUILD=<guild id> VOXWIRE_CHANNEL=<voice channel id> \
//!     cargo run -p voxwire --features twilight --example twilight_bot -- music.mp3
//! ```
//!
//! The main gateway is twilight-gateway's `Shard`; voxwire only needs its voice dispatches
//! (fed into a [`VoiceRouter`]) and its `MessageSender` for op 4. The file is played through
//! `ffmpeg` (Opus is copied, anything else encoded). Server moves during playback are followed by
//! [`VoiceCall::next_event`].
//!
//! This example needs a bot token and Discord, so the test suite only builds it:
//! `cargo check -p voxwire --features twilight --examples`.

use std::env;
use std::error::Error;
use std::path::PathBuf;

use twilight_gateway::{
    Event, EventTypeFlags, Intents, MessageSender, Shard, ShardId, StreamExt as _,
};
use voxwire::gateway_adapter::{CallEvent, JoinRequest, VoiceCall, VoiceRouter, twilight};
use voxwire::{PlayOptions, VoiceConfig};
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegSourceConfig};

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let token = env::var("DISCORD_TOKEN")?;
    let guild_id: u64 = env::var("VOXWIRE_GUILD")?.parse()?;
    let channel_id: u64 = env::var("VOXWIRE_CHANNEL")?.parse()?;
    let file: PathBuf = env::args_os().nth(1).ok_or("usage: twilight_bot <audio file>")?.into();
    // twilight's TLS needs a process-wide rustls provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut shard = Shard::new(ShardId::ONE, token, Intents::GUILDS | Intents::GUILD_VOICE_STATES);
    let wanted = EventTypeFlags::READY
        | EventTypeFlags::VOICE_STATE_UPDATE
        | EventTypeFlags::VOICE_SERVER_UPDATE;
    let router = VoiceRouter::new();
    let mut bot = None;

    // The gateway loop keeps running while the bot task joins and plays: the join waits for
    // dispatches that only this loop receives.
    loop {
        let event = tokio::select! {
            event = shard.next_event(wanted) => event,
            result = async {
                match bot.as_mut() {
                    Some(task) => task.await,
                    None => std::future::pending().await,
                }
            } => return result?,
        };
        let event = match event {
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                eprintln!("gateway: {e}");
                continue;
            }
            None => return Err("the gateway closed".into()),
        };
        if let Some(dispatch) = twilight::voice_dispatch(&event) {
            router.dispatch(dispatch);
        }
        if let Event::Ready(ready) = &event
            && bot.is_none()
        {
            let request = JoinRequest::new(guild_id, channel_id, ready.user.id.get());
            bot = Some(tokio::spawn(play(shard.sender(), router.clone(), request, file.clone())));
        }
    }
}

/// Joins, plays `file` to its end (following server moves) and leaves.
async fn play(
    sender: MessageSender,
    router: VoiceRouter,
    request: JoinRequest,
    file: PathBuf,
) -> Result<(), BoxError> {
    let mut call = VoiceCall::join(sender, &router, request, VoiceConfig::new()).await?;
    println!("joined: {:?}", call.info());
    let source = FfmpegOpusSource::from_probe(file, &FfmpegSourceConfig::new())?;
    let playing = call.connection().play(source, PlayOptions::default()).await?;
    let finished = playing.finished();
    tokio::pin!(finished);
    loop {
        tokio::select! {
            stats = &mut finished => {
                println!("played {} frames", stats?.frames_sent);
                break;
            }
            event = call.next_event() => match event {
                Some(CallEvent::Left) | None => {
                    println!("disconnected");
                    return Ok(());
                }
                Some(event) => println!("{event:?}"),
            },
        }
    }
    call.leave().await?;
    Ok(())
}
