//! A serenity bot that joins a voice channel, plays a file and leaves.
//!
//! ```text
//! DISCORD_TOKEN=… VOXWIRE_GUILD=<guild id> VOXWIRE_CHANNEL=<voice channel id> \
//!     cargo run -p voxwire --features serenity --example serenity_bot -- music.mp3
//! ```
//!
//! voxwire plugs into serenity as its voice manager ([`SerenityVoice`], registered with
//! `ClientBuilder::voice_manager_arc`), which receives the voice dispatches; op 4 goes out
//! through the `ShardMessenger` of the event handler's `Context`. The file is played through
//! `ffmpeg` (Opus is copied, anything else encoded).
//!
//! This example needs a bot token and Discord, so the test suite only builds it:
//! `cargo check -p voxwire --features serenity --examples`.

use std::env;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serenity::Client;
use serenity::async_trait;
use serenity::client::{Context, EventHandler};
use serenity::gateway::ShardMessenger;
use serenity::model::gateway::{GatewayIntents, Ready};
use tokio::sync::oneshot;
use voxwire::gateway_adapter::serenity::SerenityVoice;
use voxwire::gateway_adapter::{CallEvent, JoinRequest, VoiceCall, VoiceRouter};
use voxwire::{PlayOptions, VoiceConfig};
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegSourceConfig};

type BoxError = Box<dyn Error + Send + Sync>;

struct Handler {
    voice: Arc<SerenityVoice>,
    guild_id: u64,
    channel_id: u64,
    file: PathBuf,
    /// Taken by the first READY; tells `main` that the bot is done.
    done: Mutex<Option<oneshot::Sender<Result<(), BoxError>>>>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let Some(done) = self.done.lock().ok().and_then(|mut d| d.take()) else {
            return; // a READY after a reconnect: already playing
        };
        let request = JoinRequest::new(self.guild_id, self.channel_id, ready.user.id.get());
        let router = self.voice.router().clone();
        let file = self.file.clone();
        // The join waits for dispatches that serenity delivers meanwhile: run it apart.
        tokio::spawn(async move {
            let _ = done.send(play(ctx.shard, router, request, file).await);
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let token = env::var("DISCORD_TOKEN")?;
    let guild_id: u64 = env::var("VOXWIRE_GUILD")?.parse()?;
    let channel_id: u64 = env::var("VOXWIRE_CHANNEL")?.parse()?;
    let file: PathBuf = env::args_os().nth(1).ok_or("usage: serenity_bot <audio file>")?.into();

    let voice = Arc::new(SerenityVoice::new());
    let (done_tx, done_rx) = oneshot::channel();
    let handler = Handler {
        voice: voice.clone(),
        guild_id,
        channel_id,
        file,
        done: Mutex::new(Some(done_tx)),
    };
    let mut client =
        Client::builder(token, GatewayIntents::GUILDS | GatewayIntents::GUILD_VOICE_STATES)
            .event_handler(handler)
            .voice_manager_arc(voice)
            .await?;
    let shards = client.shard_manager.clone();
    let gateway = tokio::spawn(async move { client.start().await });
    let result = done_rx.await.map_err(|_| "the bot stopped before it was ready")?;
    shards.shutdown_all().await;
    gateway.await??;
    result
}

/// Joins, plays `file` to its end (following server moves) and leaves.
async fn play(
    shard: ShardMessenger,
    router: VoiceRouter,
    request: JoinRequest,
    file: PathBuf,
) -> Result<(), BoxError> {
    let mut call = VoiceCall::join(shard, &router, request, VoiceConfig::new()).await?;
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
