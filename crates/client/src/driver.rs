//! The tokio driver: one task per connection `select!`s over the WebSocket, the UDP socket, the
//! core's next deadline, a command channel and the send clock's wake-ups, and carries out what
//! the [`Call`] core asks for. The core is shared with the process-wide send clock
//! ([`crate::pacer`]), which sends audio on a 20 ms grid; sinks run on a sink thread: the async
//! task only moves bytes.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use voxwire_gateway::{CloseAction, CloseCode, CloseFrame, Transmit};
use voxwire_sinks::{MediaPacket, Sink};
use voxwire_sources::MediaSource;

use crate::call::{Call, MAX_DATAGRAM, Output};
use crate::config::Transport;
use crate::events::{CallStats, PlayerStats, VoiceEvent};
use crate::pacer::{Conn, Link, Playback};
use crate::{ConnectionInfo, Error, PlayOptions, VoiceConfig};
/// Packets queued towards the sink thread.
const SINK_QUEUE: usize = 4096;
/// Room for the largest RTCP report the core builds, encrypted.
const REPORT_MAX: usize = 1024;
/// Reconnect attempts before giving up.
const RECONNECT_ATTEMPTS: u32 = 5;

/// The connection's UDP socket as the task sees it: readiness for reading only.
///
/// The send clock sends on a clone of the same socket. A socket registered for write readiness
/// (as `tokio::net::UdpSocket` always is) is reported writable again, edge-triggered, after every
/// datagram the clone sends, waking the runtime once per packet for nothing; so on Unix the task
/// waits for read readiness alone, and sends (rare: IP discovery, receiver reports) without
/// waiting, as a full socket buffer drops a datagram anyway.
#[cfg(unix)]
struct RecvSocket(tokio::io::unix::AsyncFd<std::net::UdpSocket>);

#[cfg(unix)]
impl RecvSocket {
    #[expect(
        deprecated,
        reason = "`with_interest` is deprecated because a generic `AsRawFd` may change or close \
                  its fd; a `std::net::UdpSocket` owns one fd for its whole life, which is the \
                  condition its `unsafe` replacement asks for, and this crate has no unsafe code"
    )]
    fn new(socket: std::net::UdpSocket) -> std::io::Result<Self> {
        tokio::io::unix::AsyncFd::with_interest(socket, tokio::io::Interest::READABLE).map(Self)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        loop {
            let mut ready = self.0.readable().await?;
            if let Ok(r) = ready.try_io(|s| s.get_ref().recv_from(buf)) {
                return r;
            }
        }
    }

    fn send_to(&self, conn: &mut Conn, data: &[u8], to: SocketAddr) {
        crate::pacer::send_datagram(self.0.get_ref(), conn.connected_mut(), data, to);
    }
}

/// Elsewhere, tokio's socket.
#[cfg(not(unix))]
struct RecvSocket(tokio::net::UdpSocket);

#[cfg(not(unix))]
impl RecvSocket {
    fn new(socket: std::net::UdpSocket) -> std::io::Result<Self> {
        tokio::net::UdpSocket::from_std(socket).map(Self)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        self.0.recv_from(buf).await
    }

    fn send_to(&self, _conn: &mut Conn, data: &[u8], to: SocketAddr) {
        if let Err(e) = self.0.try_send_to(data, to) {
            tracing::debug!("sending a datagram to {to}: {e}");
        }
    }
}

pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Ws = WebSocketStream<Box<dyn Io>>;

pub(crate) enum Command {
    /// Boxed, like `UpdateServer`: every command channel preallocates 32 slots of the largest
    /// variant.
    Play(Box<PlayCommand>),
    Pause,
    Resume,
    Stop,
    Listen {
        sink: Box<dyn Sink>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    StopListening {
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Stats {
        reply: oneshot::Sender<CallStats>,
    },
    UpdateServer {
        info: Box<ConnectionInfo>,
    },
    Disconnect {
        reply: oneshot::Sender<()>,
    },
}

pub(crate) struct PlayCommand {
    pub(crate) source: Box<dyn MediaSource>,
    pub(crate) options: PlayOptions,
    pub(crate) done: oneshot::Sender<Result<PlayerStats, Error>>,
}

/// Opens the gateway WebSocket.
pub(crate) async fn open_ws(
    info: &ConnectionInfo,
    transport: &Transport,
    query: &str,
) -> Result<Ws, Error> {
    let host = info.host().to_owned();
    let tcp = TcpStream::connect(&host)
        .await
        .map_err(|source| Error::Io { what: "connecting to the voice gateway", source })?;
    let _ = tcp.set_nodelay(true);
    let (scheme, stream): (&str, Box<dyn Io>) = match transport {
        Transport::Plain => ("ws", Box::new(tcp)),
        Transport::Tls | Transport::TlsTrusting(_) => {
            let config = tls_config(transport)?;
            let name_host =
                host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h).trim_matches(['[', ']']);
            let name = rustls_pki_types::ServerName::try_from(name_host.to_owned())
                .map_err(|e| Error::Tls(e.to_string()))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| Error::Tls(e.to_string()))?;
            ("wss", Box::new(tls))
        }
    };
    let url = format!("{scheme}://{host}{query}");
    // Voice gateway messages are small (heartbeat acks, speaking updates; DAVE's MLS messages
    // run to a few KB and take a few reads): tungstenite's default 128 KiB read buffer is
    // zero-filled on every read and would stay resident per connection.
    let config = WebSocketConfig::default().read_buffer_size(1024).max_message_size(Some(1 << 20));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| Error::WebSocket(e.to_string()))?;
    Ok(ws)
}

/// The TLS configuration for `transport`, shared by every live connection that uses the same
/// trust setting: a `rustls::ClientConfig` carries a session cache of 256 slots, a root store
/// and a provider, about 15 KB that each connection would otherwise build for itself. Sharing it
/// also lets a reconnect resume the TLS session of an earlier connection.
fn tls_config(transport: &Transport) -> Result<Arc<rustls::ClientConfig>, Error> {
    type Shared = Vec<(Option<Arc<str>>, std::sync::Weak<rustls::ClientConfig>)>;
    static CONFIGS: std::sync::Mutex<Shared> = std::sync::Mutex::new(Vec::new());
    let key = match transport {
        Transport::TlsTrusting(pem) => Some(Arc::clone(pem)),
        _ => None,
    };
    let mut configs = CONFIGS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    configs.retain(|(_, c)| c.strong_count() > 0);
    if let Some(config) = configs.iter().find(|(k, _)| *k == key).and_then(|(_, c)| c.upgrade()) {
        return Ok(config);
    }
    let config = build_tls_config(transport)?;
    configs.push((key, Arc::downgrade(&config)));
    Ok(config)
}

fn build_tls_config(transport: &Transport) -> Result<Arc<rustls::ClientConfig>, Error> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match transport {
        Transport::TlsTrusting(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots
                    .add(cert.map_err(|e| Error::Tls(e.to_string()))?)
                    .map_err(|e| Error::Tls(e.to_string()))?;
            }
        }
        _ => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

enum SinkMsg {
    Packet(MediaPacket),
    Tick(Instant),
    Stop(oneshot::Sender<Result<(), Error>>),
}

fn spawn_sink_thread(mut sink: Box<dyn Sink>) -> Result<SyncSender<SinkMsg>, Error> {
    let (tx, rx): (SyncSender<SinkMsg>, Receiver<SinkMsg>) = sync_channel(SINK_QUEUE);
    std::thread::Builder::new()
        .name("voxwire-sinks".into())
        .spawn(move || {
            let mut failed: Option<Error> = None;
            while let Ok(msg) = rx.recv() {
                match msg {
                    SinkMsg::Packet(p) => {
                        if failed.is_none()
                            && let Err(e) = sink.write(&p)
                        {
                            failed = Some(e.into());
                        }
                    }
                    SinkMsg::Tick(now) => {
                        if failed.is_none()
                            && let Err(e) = sink.tick(now)
                        {
                            failed = Some(e.into());
                        }
                    }
                    SinkMsg::Stop(reply) => {
                        let cleaned = sink.cleanup().map_err(Error::from);
                        let _ = reply.send(match failed.take() {
                            Some(e) => Err(e),
                            None => cleaned,
                        });
                        return;
                    }
                }
            }
            let _ = sink.cleanup();
        })
        .map_err(|source| Error::Io { what: "starting the sink thread", source })?;
    Ok(tx)
}

pub(crate) struct Driver {
    /// The core, shared with the send clock.
    link: Arc<Link>,
    ws: Option<Ws>,
    udp: RecvSocket,
    info: ConnectionInfo,
    config: VoiceConfig,
    events: mpsc::Sender<VoiceEvent>,
    sink: Option<SyncSender<SinkMsg>>,
    ready: Option<oneshot::Sender<Result<(), Error>>>,
    sink_drops: u64,
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

impl Driver {
    pub(crate) async fn start(
        info: ConnectionInfo,
        config: VoiceConfig,
        events: mpsc::Sender<VoiceEvent>,
        ready: oneshot::Sender<Result<(), Error>>,
    ) -> Result<Self, Error> {
        let now = Instant::now();
        let call = Call::new(info.clone(), config.modes.clone(), config.dave, now);
        let ws = open_ws(&info, &config.transport, &call.gateway_query()).await?;
        // One socket, two handles: the task receives on the tokio one, the send clock sends on a
        // non-blocking clone without a runtime.
        let udp_err = |source| Error::Io { what: "binding the UDP socket", source };
        let std_udp = std::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
            .map_err(udp_err)?;
        std_udp.set_nonblocking(true).map_err(udp_err)?;
        let clock_udp = std_udp.try_clone().map_err(udp_err)?;
        let udp = RecvSocket::new(std_udp).map_err(udp_err)?;
        Ok(Self {
            link: Link::new(call, clock_udp),
            ws: Some(ws),
            udp,
            info,
            config,
            events,
            sink: None,
            ready: Some(ready),
            sink_drops: 0,
        })
    }

    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut udp_buf = vec![0u8; MAX_DATAGRAM + 1];
        let link = Arc::clone(&self.link);
        loop {
            let deadline = self.link.lock().call.poll_timeout();
            let stop = tokio::select! {
                msg = next_ws(&mut self.ws) => { self.on_ws(msg); false }
                r = self.udp.recv_from(&mut udp_buf) => {
                    if let Ok((n, _)) = r && n <= MAX_DATAGRAM {
                        self.link.lock().call.handle_udp(&mut udp_buf[..n], Instant::now());
                    }
                    false
                }
                cmd = commands.recv() => match cmd {
                    None => { self.link.lock().call.close(Instant::now()); true }
                    Some(c) => self.on_command(c).await,
                },
                // The send clock left outputs (a speaking update, say) in the core.
                () = link.notify.notified() => false,
                () = sleep_until(deadline) => { self.on_timeout(); false }
            };
            if !self.drain().await || stop {
                break;
            }
        }
        let _ = self.drain().await;
        if let Some(ws) = self.ws.as_mut() {
            let _ = ws.close(None).await;
        }
        self.stop_playback(Some(Error::Disconnected));
        if let Some(sink) = self.sink.take() {
            let (tx, rx) = oneshot::channel();
            if sink.send(SinkMsg::Stop(tx)).is_ok() {
                let _ = rx.await;
            }
        }
    }

    fn on_ws(&mut self, msg: Option<Result<Message, String>>) {
        let now = Instant::now();
        match msg {
            Some(Ok(Message::Text(t))) => self.link.lock().call.handle_ws_text(t.as_str(), now),
            Some(Ok(Message::Binary(b))) => self.link.lock().call.handle_ws_binary(&b, now),
            Some(Ok(Message::Close(f))) => {
                self.ws = None;
                let frame = f.map(|f| CloseFrame {
                    code: CloseCode(u16::from(f.code)),
                    reason: f.reason.as_str().to_owned(),
                });
                self.link.lock().call.handle_ws_closed(frame, now);
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                self.ws = None;
                self.link.lock().call.handle_ws_closed(None, now);
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Play(play) => {
                let PlayCommand { source, options, done } = *play;
                self.stop_playback(Some(Error::InvalidArgument("replaced by a new source".into())));
                if let Some(playback) = Playback::start(source, options, done, self.events.clone())
                {
                    match self.link.play(playback) {
                        Ok(Some(replaced)) => replaced.finish(Some(Error::InvalidArgument(
                            "replaced by a new source".into(),
                        ))),
                        Ok(None) => {}
                        Err(e) => {
                            let _ = self.events.try_send(VoiceEvent::Error(e.to_string()));
                        }
                    }
                }
            }
            Command::Pause => {
                if let Some(p) = self.link.lock().playback_mut() {
                    p.set_paused(true);
                }
            }
            Command::Resume => {
                if let Some(p) = self.link.lock().playback_mut() {
                    p.set_paused(false);
                }
            }
            Command::Stop => self.stop_playback(None),
            Command::Listen { sink, reply } => {
                if self.sink.is_some() {
                    let _ = reply.send(Err(Error::InvalidArgument("already listening".into())));
                } else {
                    match spawn_sink_thread(sink) {
                        Ok(tx) => {
                            self.sink = Some(tx);
                            self.link.lock().call.set_listening(true);
                            let _ = reply.send(Ok(()));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                }
            }
            Command::StopListening { reply } => {
                self.link.lock().call.set_listening(false);
                match self.sink.take() {
                    Some(sink) => {
                        let (tx, rx) = oneshot::channel();
                        if sink.send(SinkMsg::Stop(tx)).is_ok() {
                            let _ = reply.send(rx.await.unwrap_or(Err(Error::Disconnected)));
                        } else {
                            let _ = reply.send(Err(Error::Disconnected));
                        }
                    }
                    None => {
                        let _ = reply.send(Ok(()));
                    }
                }
            }
            Command::Stats { reply } => {
                let stats = self.link.lock().call.stats();
                let _ = reply.send(stats);
            }
            Command::UpdateServer { info } => self.move_server(*info).await,
            Command::Disconnect { reply } => {
                self.link.lock().call.close(Instant::now());
                let _ = self.drain().await;
                let _ = reply.send(());
                return true;
            }
        }
        false
    }

    fn stop_playback(&mut self, error: Option<Error>) {
        let playback = {
            let mut conn = self.link.lock();
            let playback = conn.take_playback();
            if playback.as_ref().is_some_and(Playback::is_speaking) {
                conn.call.set_speaking(false, Instant::now());
            }
            playback
        };
        if let Some(p) = playback {
            p.finish(error);
        }
    }

    fn on_timeout(&mut self) {
        let now = Instant::now();
        // A report with 31 blocks is 772 bytes before encryption adds at most 44.
        let mut buf = [0u8; REPORT_MAX];
        let report = {
            let mut conn = self.link.lock();
            conn.call.handle_timeout(now);
            // Receiver reports while listening (sender reports go out with the audio).
            if conn.is_playing() {
                None
            } else {
                conn.call.poll_report(now, std::time::SystemTime::now, &mut buf).ok().flatten()
            }
        };
        if let Some((to, n)) = report {
            self.udp.send_to(&mut self.link.lock(), &buf[..n], to);
        }
    }

    /// Carries out the core's outputs. Returns false when the connection is over.
    async fn drain(&mut self) -> bool {
        loop {
            let next = self.link.lock().call.poll_output();
            let Some(o) = next else { break };
            match o {
                Output::Ws(t) => {
                    if let Some(ws) = self.ws.as_mut() {
                        let msg = match t {
                            Transmit::Text(s) => Message::Text(Utf8Bytes::from(s)),
                            Transmit::Binary(b) => Message::Binary(Bytes::from(b)),
                            Transmit::Close(f) => Message::Close(Some(
                                tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                    code: f.code.0.into(),
                                    reason: Utf8Bytes::from(f.reason),
                                },
                            )),
                        };
                        if ws.send(msg).await.is_err() {
                            self.ws = None;
                        }
                    }
                }
                Output::Udp { to, data } => {
                    self.udp.send_to(&mut self.link.lock(), &data, to);
                }
                Output::Event(e) => {
                    if matches!(e, VoiceEvent::Connected { .. })
                        && let Some(r) = self.ready.take()
                    {
                        let _ = r.send(Ok(()));
                    }
                    let _ = self.events.try_send(e);
                }
                Output::Media(p) => {
                    let now = p.received_at;
                    if let Some(sink) = self.sink.as_ref() {
                        if sink.try_send(SinkMsg::Packet(p)).is_err() {
                            self.sink_drops += 1;
                        }
                        let _ = sink.try_send(SinkMsg::Tick(now));
                    }
                }
                Output::SocketClosed { action, code, reason } => {
                    if !self.on_socket_closed(action, code, reason).await {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// A server move (a new `VOICE_SERVER_UPDATE`): leave the old endpoint and identify anew on
    /// the new one. Playback waits until the new session is established, then continues.
    async fn move_server(&mut self, info: ConnectionInfo) {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
        let _ = self.events.try_send(VoiceEvent::Reconnecting { code: 0, resume: false });
        self.info = info.clone();
        for attempt in 0..RECONNECT_ATTEMPTS {
            let query = self.link.lock().call.gateway_query();
            // Boxed: the handshake future is large and rare; inline, it would size every
            // connection's task.
            match Box::pin(open_ws(&self.info, &self.config.transport, &query)).await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    if self.link.lock().call.reconnect(Some(info), Instant::now()).is_ok() {
                        return;
                    }
                    break;
                }
                Err(e) => {
                    tracing::debug!("server move attempt {attempt}: {e}");
                    tokio::time::sleep(Duration::from_millis(100 * (1 << attempt))).await;
                }
            }
        }
        let _ = self.events.try_send(VoiceEvent::Disconnected {
            code: 0,
            reason: "could not reach the new voice server".into(),
        });
    }

    /// Reconnects after the gateway socket ended. Returns false when the connection is over.
    async fn on_socket_closed(&mut self, action: CloseAction, code: u16, reason: String) -> bool {
        self.ws = None;
        let resume = match action {
            CloseAction::Resume => true,
            CloseAction::Reconnect => false,
            _ => {
                if let Some(r) = self.ready.take() {
                    let _ = r.send(Err(Error::Closed { code, reason: reason.clone() }));
                }
                let _ = self.events.try_send(VoiceEvent::Disconnected { code, reason });
                return false;
            }
        };
        let _ = self.events.try_send(VoiceEvent::Reconnecting { code, resume });
        for attempt in 0..RECONNECT_ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(100 * (1 << attempt))).await;
            let query = self.link.lock().call.gateway_query();
            // Boxed: the handshake future is large and rare; inline, it would size every
            // connection's task.
            match Box::pin(open_ws(&self.info, &self.config.transport, &query)).await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    let now = Instant::now();
                    let mut conn = self.link.lock();
                    let r =
                        if resume { conn.call.resume(now) } else { conn.call.reconnect(None, now) };
                    drop(conn);
                    if r.is_ok() {
                        return true;
                    }
                }
                Err(e) => tracing::debug!("reconnect attempt {attempt}: {e}"),
            }
        }
        let _ = self
            .events
            .try_send(VoiceEvent::Disconnected { code, reason: "could not reconnect".into() });
        false
    }
}

async fn next_ws(ws: &mut Option<Ws>) -> Option<Result<Message, String>> {
    match ws.as_mut() {
        Some(ws) => ws.next().await.map(|r| r.map_err(|e| e.to_string())),
        None => std::future::pending().await,
    }
}
