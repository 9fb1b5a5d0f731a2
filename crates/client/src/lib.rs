//! voxwire: a Discord voice client in Rust.
//!
//! Connect with the credentials Discord's main gateway hands out, play any
//! [`MediaSource`] (PCM is encoded to Opus, Opus passes through),
//! and listen into any [`Sink`] tree (WAV per user, mixed WAV, `FFmpeg`, ...).
//! Transport encryption (`aead_aes256_gcm_rtpsize`, `aead_xchacha20_poly1305_rtpsize`) and DAVE
//! end-to-end encryption, which Discord requires in most channels, are on by default.
//!
//! # Layers
//!
//! The protocol lives in sans-IO crates that this crate only wires together: the voice gateway
//! state machine (`voxwire-gateway`), transport and DAVE encryption (`voxwire-crypto`), RTP
//! (`voxwire-rtp`) and the jitter buffer (`voxwire-jitter`). A sans-IO call core glues them;
//! one tokio task per connection moves bytes between it and the gateway WebSocket and UDP socket.
//! Audio is sent by one send clock per process: a thread that wakes every 20 ms and sends the
//! next packet of every playing connection, so a thousand playing calls cost one wake-up per tick,
//! not a thousand timers. In-memory Opus sources are read on that clock
//! ([`MediaSource::is_nonblocking`]); anything that
//! can block or needs encoding is read on a player thread of its own, and sinks run on a sink
//! thread, so no CPU-heavy work runs on tokio workers. The handle is a channel sender: no locks in
//! the API.
//!
//! # Joining through a main-gateway library
//!
//! [`gateway_adapter`] turns the `VOICE_STATE_UPDATE` and `VOICE_SERVER_UPDATE` dispatches of any
//! main-gateway library into a [`ConnectionInfo`] (and server moves into
//! [`VoiceConnection::update_server`]), with thin adapters for `twilight` and `serenity` behind
//! cargo features of those names (off by default; see the `examples/`).
//!
//! # Video and Go Live
//!
//! Discord serves video and Go Live streams to user accounts only, not to bots. The video layers
//! of voxwire (`voxwire-video`, the simulcast and stream fields of `voxwire-gateway`) are
//! complete; this client sends and receives audio.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), voxwire::Error> {
//! use voxwire::{ConnectionInfo, PlayOptions, VoiceConfig, VoiceConnection};
//!
//! let info = ConnectionInfo {
//!     endpoint: "example.discord.media:443".into(),
//!     token: "token from VOICE_SERVER_UPDATE".into(),
//!     session_id: "session id from VOICE_STATE_UPDATE".into(),
//!     guild_id: 1,
//!     channel_id: 2,
//!     user_id: 3,
//! };
//! let conn = VoiceConnection::connect(info, VoiceConfig::new()).await?;
//! let file = std::io::BufReader::new(std::fs::File::open("music.wav").map_err(|source| voxwire::Error::Io { what: "opening music.wav", source })?);
//! let source = voxwire_sources::WavSource::new(file)?;
//! let playing = conn.play(source, PlayOptions::default()).await?;
//! let stats = playing.finished().await?;
//! println!("sent {} frames", stats.frames_sent);
//! conn.disconnect().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod call;
mod config;
mod driver;
mod error;
mod events;
pub mod gateway_adapter;
mod pacer;
mod player;

use tokio::sync::{mpsc, oneshot};
use voxwire_sinks::Sink;
use voxwire_sources::MediaSource;

pub use config::{
    Application, Bandwidth, ConnectionInfo, PlayOptions, Signal, Transport, VoiceConfig,
};
pub use error::Error;
pub use events::{CallStats, PlayerStats, StreamStats, VoiceEvent};

use driver::{Command, Driver};

/// A voice connection. Dropping it (or [`VoiceConnection::disconnect`]) leaves the call.
#[derive(Debug)]
pub struct VoiceConnection {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<VoiceEvent>,
}

/// A playback started by [`VoiceConnection::play`].
#[derive(Debug)]
pub struct Playing {
    commands: mpsc::Sender<Command>,
    done: oneshot::Receiver<Result<PlayerStats, Error>>,
}

impl Playing {
    /// Pauses: five silence frames are sent, then nothing until [`Playing::resume`].
    pub async fn pause(&self) {
        let _ = self.commands.send(Command::Pause).await;
    }

    /// Resumes after [`Playing::pause`].
    pub async fn resume(&self) {
        let _ = self.commands.send(Command::Resume).await;
    }

    /// Stops the playback; [`Playing::finished`] then returns.
    pub async fn stop(&self) {
        let _ = self.commands.send(Command::Stop).await;
    }

    /// Waits until the source has been played to its end (or failed, or was stopped) and returns
    /// the playback statistics, or the error that ended it.
    pub async fn finished(self) -> Result<PlayerStats, Error> {
        self.done.await.map_err(|_| Error::Disconnected)?
    }
}

impl VoiceConnection {
    /// Connects to the voice gateway, does IP discovery and mode negotiation, and returns once
    /// the session is established (transport keys in place; DAVE continues in the background,
    /// and playback waits for it).
    pub async fn connect(info: ConnectionInfo, config: VoiceConfig) -> Result<Self, Error> {
        let timeout = config.connect_timeout;
        let (events_tx, events) = mpsc::channel(config.event_capacity);
        let (ready_tx, ready_rx) = oneshot::channel();
        let driver =
            tokio::time::timeout(timeout, Driver::start(info, config, events_tx, ready_tx))
                .await
                .map_err(|_| Error::Timeout("connecting to the voice gateway"))??;
        let (commands, rx) = mpsc::channel(64);
        tokio::spawn(driver.run(rx));
        match tokio::time::timeout(timeout, ready_rx).await {
            Ok(Ok(Ok(()))) => Ok(Self { commands, events }),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(Error::Disconnected),
            Err(_) => Err(Error::Timeout("establishing the voice session")),
        }
    }

    /// Plays `source`, replacing what is playing. PCM is encoded with `options`; Opus passes
    /// through unchanged.
    pub async fn play(
        &self,
        source: impl MediaSource + 'static,
        options: PlayOptions,
    ) -> Result<Playing, Error> {
        let (done_tx, done) = oneshot::channel();
        self.commands
            .send(Command::Play(Box::new(driver::PlayCommand {
                source: Box::new(source),
                options,
                done: done_tx,
            })))
            .await
            .map_err(|_| Error::Disconnected)?;
        Ok(Playing { commands: self.commands.clone(), done })
    }

    /// Stops what is playing.
    pub async fn stop(&self) {
        let _ = self.commands.send(Command::Stop).await;
    }

    /// Starts receiving: every remote audio frame, in order and with losses marked, goes to
    /// `sink` (on a thread of its own).
    pub async fn listen(&self, sink: impl Sink + 'static) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Listen { sink: Box::new(sink), reply })
            .await
            .map_err(|_| Error::Disconnected)?;
        rx.await.map_err(|_| Error::Disconnected)?
    }

    /// Stops receiving and cleans up the sink tree (files finalized, `FFmpeg` waited for).
    pub async fn stop_listening(&self) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::StopListening { reply })
            .await
            .map_err(|_| Error::Disconnected)?;
        rx.await.map_err(|_| Error::Disconnected)?
    }

    /// The connection's counters.
    pub async fn stats(&self) -> Result<CallStats, Error> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Stats { reply }).await.map_err(|_| Error::Disconnected)?;
        rx.await.map_err(|_| Error::Disconnected)
    }

    /// Moves the connection to a new voice server, as Discord's main gateway announces with a new
    /// `VOICE_SERVER_UPDATE` (and `VOICE_STATE_UPDATE`): the old endpoint is left and the session is
    /// identified anew; playback and listening continue once it is established.
    pub async fn update_server(&self, info: ConnectionInfo) -> Result<(), Error> {
        self.commands
            .send(Command::UpdateServer { info: Box::new(info) })
            .await
            .map_err(|_| Error::Disconnected)
    }

    /// The next event, or `None` once the connection has ended.
    pub async fn next_event(&mut self) -> Option<VoiceEvent> {
        self.events.recv().await
    }

    /// An event if one is queued.
    pub fn try_next_event(&mut self) -> Option<VoiceEvent> {
        self.events.try_recv().ok()
    }

    /// Leaves the call cleanly.
    pub async fn disconnect(self) {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Disconnect { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }
}
