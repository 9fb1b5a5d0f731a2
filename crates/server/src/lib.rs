//! A local Discord-compatible voice server, for tests, demos and offline development.
//!
//! It speaks Discord's voice protocol (docs/protocol.md): the voice gateway (v4 to v9, JSON and
//! binary DAVE frames, buffered resume) over `wss://` or `ws://`, IP discovery, and a UDP relay
//! that decrypts each packet with its sender's transport key and re-encrypts it for every other
//! participant with theirs (`aead_aes256_gcm_rtpsize`, `aead_xchacha20_poly1305_rtpsize`, and the
//! deprecated xsalsa20 modes). DAVE end-to-end encryption is on by default: the server plays
//! Discord's external-sender role in each call's MLS group, and media frames stay end-to-end
//! encrypted through it. Real third-party clients (discord.js's `@discordjs/voice`) connect to
//! it; that is how voxwire checks that it speaks the real protocol.
//!
//! A control HTTP API on the same listener stands in for Discord's main gateway
//! (`POST /v1/voice/join` returns what `VOICE_SERVER_UPDATE` and `VOICE_STATE_UPDATE` would carry) and
//! adds test controls: channel inspection, per-participant network impairment and dropping a
//! participant's socket. See [`control`] for the routes.
//!
//! # Design
//!
//! All protocol and channel logic lives in a sans-IO core (`hub`): bytes, WebSocket messages and
//! `now` in, transmits and deadlines out. A thin tokio driver owns the listener, the UDP socket
//! and the clock. Everything a client can send is bounded: request heads and bodies, WebSocket
//! messages (64 KiB), message rates, queued outbound messages (a client that stops reading is
//! cut off), resume buffers and UDP datagram sizes. Malformed input closes that client only.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), voxwire_server::Error> {
//! use voxwire_server::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::new()).await?;
//! let join = server.join(1, 2, 3).await?;
//! println!("connect to wss://{}/?v=8 with token {}", join.endpoint, join.token);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod control;
mod driver;
mod error;
mod http;
mod hub;
mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use voxwire_crypto::transport::TransportMode;

pub use error::Error;
pub use hub::{ChannelInfo, DaveMode, JoinInfo, ParticipantInfo};
pub use tls::client_config_trusting;

use driver::Command;

/// How the gateway listener is secured.
#[derive(Clone, Debug, Default)]
pub enum TlsConfig {
    /// Generate a CA and a certificate for `localhost`/`127.0.0.1` at start-up
    /// ([`Server::ca_pem`] is the CA to trust).
    #[default]
    SelfSigned,
    /// Use this PEM certificate chain and private key.
    Files {
        /// Certificate chain (PEM).
        cert: PathBuf,
        /// Private key (PEM).
        key: PathBuf,
    },
    /// Plain `ws://` and `http://`.
    Plain,
}

/// Settings of a [`Server`]. Built with [`ServerConfig::new`] and the `with_*` methods.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    bind: SocketAddr,
    udp_bind: SocketAddr,
    tls: TlsConfig,
    modes: Vec<TransportMode>,
    dave: DaveMode,
    heartbeat_interval: Duration,
    resume_window: Duration,
    max_participants: usize,
    max_client_messages_per_second: u32,
    seed: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerConfig {
    /// Defaults: `127.0.0.1`, ports chosen by the OS, a generated certificate, both AEAD modes
    /// (AES-256-GCM first, as Discord offers them), DAVE required, a 13.75 s heartbeat.
    pub fn new() -> Self {
        let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        Self {
            bind: lo,
            udp_bind: lo,
            tls: TlsConfig::SelfSigned,
            modes: vec![
                TransportMode::AeadAes256GcmRtpsize,
                TransportMode::AeadXChaCha20Poly1305Rtpsize,
            ],
            dave: DaveMode::Required,
            heartbeat_interval: Duration::from_millis(13_750),
            resume_window: Duration::from_secs(30),
            max_participants: 99,
            max_client_messages_per_second: 120,
            seed: 0x766f_7877_6972_6500,
        }
    }

    /// Address of the gateway and control listener.
    #[must_use]
    pub fn with_bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Address of the UDP media socket.
    #[must_use]
    pub fn with_udp_bind(mut self, addr: SocketAddr) -> Self {
        self.udp_bind = addr;
        self
    }

    /// How the listener is secured.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Transport modes offered in Ready, in order of preference (clients take the first they
    /// support).
    #[must_use]
    pub fn with_modes(mut self, modes: Vec<TransportMode>) -> Self {
        self.modes = modes;
        self
    }

    /// Whether calls use DAVE.
    #[must_use]
    pub fn with_dave(mut self, dave: DaveMode) -> Self {
        self.dave = dave;
        self
    }

    /// The heartbeat interval announced in Hello.
    #[must_use]
    pub fn with_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// How long a dropped session may be resumed.
    #[must_use]
    pub fn with_resume_window(mut self, window: Duration) -> Self {
        self.resume_window = window;
        self
    }

    /// Seed of every random choice the server makes (tokens, keys, SSRCs, impairment).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// A cheap, cloneable handle to a running [`Server`], for tasks that need to register joins or
/// inspect channels while the server is owned elsewhere.
#[derive(Clone, Debug)]
pub struct ServerHandle {
    tx: mpsc::Sender<Command>,
}

impl ServerHandle {
    /// As [`Server::join`].
    pub async fn join(&self, guild: u64, channel: u64, user: u64) -> Result<JoinInfo, Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Join { guild, channel, user, reply })
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?.map_err(Error::Config)
    }

    /// As [`Server::channel`].
    pub async fn channel(&self, guild: u64, channel: u64) -> Result<Option<ChannelInfo>, Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::ChannelInfo { guild, channel, reply })
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }
}

/// A running server. Dropping it stops it.
#[derive(Debug)]
pub struct Server {
    tx: mpsc::Sender<Command>,
    info: driver::SharedInfo,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds the listener and the UDP socket and starts serving on the current tokio runtime.
    pub async fn start(config: ServerConfig) -> Result<Self, Error> {
        if config.modes.is_empty() {
            return Err(Error::Config("at least one transport mode must be offered".into()));
        }
        let tls = match &config.tls {
            TlsConfig::SelfSigned => Some(tls::self_signed()?),
            TlsConfig::Files { cert, key } => Some(tls::from_files(cert, key)?),
            TlsConfig::Plain => None,
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| Error::Io { what: "binding the gateway listener", source })?;
        let udp = UdpSocket::bind(config.udp_bind)
            .await
            .map_err(|source| Error::Io { what: "binding the UDP socket", source })?;
        let gateway = listener
            .local_addr()
            .map_err(|source| Error::Io { what: "reading the listener address", source })?;
        let udp_addr = udp
            .local_addr()
            .map_err(|source| Error::Io { what: "reading the UDP address", source })?;
        let hub = hub::Hub::new(hub::HubConfig {
            udp_addr,
            endpoint: gateway.to_string(),
            modes: config.modes.clone(),
            dave: config.dave,
            heartbeat_interval: config.heartbeat_interval,
            resume_window: config.resume_window,
            join_ttl: Duration::from_mins(2),
            impairment: None,
            seed: config.seed,
            max_participants: config.max_participants,
            max_client_messages_per_second: config.max_client_messages_per_second,
        });
        let (tx, rx) = mpsc::channel(4096);
        let acceptor = tls.as_ref().map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone()));
        let tasks = vec![
            tokio::spawn(driver::run_hub(hub, udp, rx)),
            tokio::spawn(driver::run_listener(listener, acceptor, tx.clone())),
        ];
        let info = std::sync::Arc::new(driver::Info {
            gateway,
            udp: udp_addr,
            ca_pem: tls.map(|t| t.ca_pem),
        });
        Ok(Self { tx, info, tasks })
    }

    /// A cloneable handle for other tasks.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle { tx: self.tx.clone() }
    }

    /// Address of the gateway and control listener.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.info.gateway
    }

    /// Address of the UDP media socket.
    pub fn udp_addr(&self) -> SocketAddr {
        self.info.udp
    }

    /// PEM of the certificate clients must trust, unless the server is plain.
    pub fn ca_pem(&self) -> Option<&str> {
        self.info.ca_pem.as_deref()
    }

    /// Base URL of the control API (`https://127.0.0.1:PORT` or `http://…`).
    pub fn control_url(&self) -> String {
        let scheme = if self.info.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.info.gateway)
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Registers a join of `user` to `channel` of `guild` and returns its credentials, as
    /// `POST /v1/voice/join` does.
    pub async fn join(&self, guild: u64, channel: u64, user: u64) -> Result<JoinInfo, Error> {
        self.ask(|reply| Command::Join { guild, channel, user, reply })
            .await?
            .map_err(Error::Config)
    }

    /// The channel's participants and counters, as `GET /v1/channels/{guild}/{channel}` reports.
    pub async fn channel(&self, guild: u64, channel: u64) -> Result<Option<ChannelInfo>, Error> {
        self.ask(|reply| Command::ChannelInfo { guild, channel, reply }).await
    }

    /// Impairs the packets sent to `user` (or to everyone in the channel); `None` removes it.
    /// Returns how many participants it applied to.
    pub async fn impair(
        &self,
        guild: u64,
        channel: u64,
        user: Option<u64>,
        config: Option<voxwire_netsim::NetsimConfig>,
        seed: u64,
    ) -> Result<usize, Error> {
        self.ask(|reply| Command::Impair {
            guild,
            channel,
            user,
            config: config.map(Box::new),
            seed,
            reply,
        })
        .await
    }

    /// Closes `user`'s WebSocket with close `code` (4015 lets it resume; 4014 disconnects it).
    pub async fn drop_connection(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        code: u16,
    ) -> Result<bool, Error> {
        self.ask(|reply| Command::Drop { guild, channel, user, code, reply }).await
    }

    /// Stops the server.
    pub async fn shutdown(mut self) {
        let _ = self.tx.send(Command::Shutdown).await;
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
