//! The tokio driver: one task per connection owns the [`Call`] core by value and `select!`s over
//! the WebSocket, the UDP socket, the core's next deadline, the playback clock and a command
//! channel. Sources are read and encoded on a player thread, sinks run on a sink thread: the
//! async task only moves bytes.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use voxwire_gateway::{CloseAction, CloseCode, CloseFrame, Transmit};
use voxwire_sinks::{MediaPacket, Sink};
use voxwire_sources::MediaSource;

use crate::call::{Call, MAX_DATAGRAM, Output, SILENCE_FRAME};
use crate::config::Transport;
use crate::events::{CallStats, PlayerStats, VoiceEvent};
use crate::player::{self, PlayerMsg};
use crate::{ConnectionInfo, Error, PlayOptions, VoiceConfig};

/// The playback clock.
const FRAME: Duration = Duration::from_millis(20);
/// Silence frames sent when playback stops (docs/protocol.md 4.6).
const SILENCE_FRAMES: u8 = 5;
/// Packets queued towards the sink thread.
const SINK_QUEUE: usize = 4096;
/// Reconnect attempts before giving up.
const RECONNECT_ATTEMPTS: u32 = 5;

pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Ws = WebSocketStream<Box<dyn Io>>;

pub(crate) enum Command {
    Play {
        source: Box<dyn MediaSource>,
        options: PlayOptions,
        done: oneshot::Sender<Result<PlayerStats, Error>>,
    },
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
        info: ConnectionInfo,
    },
    Disconnect {
        reply: oneshot::Sender<()>,
    },
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
    // Voice gateway messages are small: tungstenite's default 128 KiB read buffer is zero-filled
    // on every read and would stay resident per connection.
    let config = WebSocketConfig::default().read_buffer_size(4096).max_message_size(Some(1 << 20));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| Error::WebSocket(e.to_string()))?;
    Ok(ws)
}

fn tls_config(transport: &Transport) -> Result<Arc<rustls::ClientConfig>, Error> {
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

struct Playback {
    rx: Receiver<PlayerMsg>,
    done: Option<oneshot::Sender<Result<PlayerStats, Error>>>,
    next_tick: Instant,
    paused: bool,
    /// Set once the source is over: `Some(None)` when it ended, `Some(Some(e))` when it failed.
    #[expect(clippy::option_option, reason = "not finished / ended / failed, documented above")]
    finished: Option<Option<Error>>,
    silence_left: u8,
    speaking: bool,
    stats: PlayerStats,
    send_total: Duration,
    last_send: Option<Instant>,
    /// Send intervals in 0.2 ms buckets up to 102.4 ms (the last bucket takes the rest): bounded
    /// however long the playback runs.
    intervals: Box<[u32; INTERVAL_BUCKETS]>,
    /// Frames read ahead from the player thread, which hands them over in batches.
    pending: std::collections::VecDeque<Vec<u8>>,
}

const INTERVAL_BUCKETS: usize = 512;
const INTERVAL_BUCKET: Duration = Duration::from_micros(200);

impl Playback {
    fn finish(&mut self, events: &mpsc::Sender<VoiceEvent>) {
        let error = self.finished.take().flatten();
        if self.stats.frames_sent > 0 {
            self.stats.send_time_mean = self.send_total
                / u32::try_from(self.stats.frames_sent + self.stats.silence_frames)
                    .unwrap_or(u32::MAX)
                    .max(1);
        }
        let total: u64 = self.intervals.iter().map(|&n| u64::from(n)).sum();
        if total > 0 {
            let mut seen = 0u64;
            for (i, &n) in self.intervals.iter().enumerate() {
                seen += u64::from(n);
                if seen * 100 >= total * 95 {
                    self.stats.interval_p95 =
                        INTERVAL_BUCKET * u32::try_from(i + 1).unwrap_or(u32::MAX);
                    break;
                }
            }
        }
        let _ = events.try_send(VoiceEvent::PlaybackFinished {
            error: error.as_ref().map(ToString::to_string),
        });
        if let Some(done) = self.done.take() {
            let _ = done.send(match error {
                Some(e) => Err(e),
                None => Ok(self.stats.clone()),
            });
        }
    }
}

pub(crate) struct Driver {
    call: Call,
    ws: Option<Ws>,
    udp: UdpSocket,
    info: ConnectionInfo,
    config: VoiceConfig,
    events: mpsc::Sender<VoiceEvent>,
    sink: Option<SyncSender<SinkMsg>>,
    playback: Option<Playback>,
    ready: Option<oneshot::Sender<Result<(), Error>>>,
    packet: Vec<u8>,
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
        let udp = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
            .await
            .map_err(|source| Error::Io { what: "binding the UDP socket", source })?;
        Ok(Self {
            call,
            ws: Some(ws),
            udp,
            info,
            config,
            events,
            sink: None,
            playback: None,
            ready: Some(ready),
            packet: vec![0; MAX_DATAGRAM + 64],
            sink_drops: 0,
        })
    }

    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut udp_buf = vec![0u8; MAX_DATAGRAM + 1];
        loop {
            let deadline = self.call.poll_timeout();
            let tick = self.playback.as_ref().map(|p| p.next_tick);
            let stop = tokio::select! {
                msg = next_ws(&mut self.ws) => { self.on_ws(msg); false }
                r = self.udp.recv_from(&mut udp_buf) => {
                    if let Ok((n, _)) = r && n <= MAX_DATAGRAM {
                        self.call.handle_udp(&udp_buf[..n], Instant::now());
                    }
                    false
                }
                cmd = commands.recv() => match cmd {
                    None => { self.call.close(Instant::now()); true }
                    Some(c) => self.on_command(c).await,
                },
                () = sleep_until(tick) => { self.on_tick().await; false }
                () = sleep_until(deadline) => { self.on_timeout().await; false }
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
            Some(Ok(Message::Text(t))) => self.call.handle_ws_text(t.as_str(), now),
            Some(Ok(Message::Binary(b))) => self.call.handle_ws_binary(&b, now),
            Some(Ok(Message::Close(f))) => {
                self.ws = None;
                let frame = f.map(|f| CloseFrame {
                    code: CloseCode(u16::from(f.code)),
                    reason: f.reason.as_str().to_owned(),
                });
                self.call.handle_ws_closed(frame, now);
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                self.ws = None;
                self.call.handle_ws_closed(None, now);
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Play { source, options, done } => {
                self.stop_playback(Some(Error::InvalidArgument("replaced by a new source".into())));
                match player::spawn(source, options) {
                    Ok((rx, _thread)) => {
                        self.playback = Some(Playback {
                            rx,
                            done: Some(done),
                            next_tick: Instant::now() + FRAME,
                            paused: false,
                            finished: None,
                            silence_left: SILENCE_FRAMES,
                            speaking: false,
                            stats: PlayerStats::default(),
                            send_total: Duration::ZERO,
                            last_send: None,
                            intervals: Box::new([0; INTERVAL_BUCKETS]),
                            pending: std::collections::VecDeque::with_capacity(player::BATCH),
                        });
                    }
                    Err(e) => {
                        let _ = done.send(Err(e));
                    }
                }
            }
            Command::Pause => {
                if let Some(p) = self.playback.as_mut() {
                    p.paused = true;
                    p.silence_left = SILENCE_FRAMES;
                }
            }
            Command::Resume => {
                if let Some(p) = self.playback.as_mut() {
                    p.paused = false;
                    p.silence_left = SILENCE_FRAMES;
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
                            self.call.set_listening(true);
                            let _ = reply.send(Ok(()));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                }
            }
            Command::StopListening { reply } => {
                self.call.set_listening(false);
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
                let _ = reply.send(self.call.stats());
            }
            Command::UpdateServer { info } => self.move_server(info).await,
            Command::Disconnect { reply } => {
                self.call.close(Instant::now());
                let _ = self.drain().await;
                let _ = reply.send(());
                return true;
            }
        }
        false
    }

    fn stop_playback(&mut self, error: Option<Error>) {
        if let Some(mut p) = self.playback.take() {
            p.finished = Some(error);
            if p.speaking {
                self.call.set_speaking(false, Instant::now());
            }
            p.finish(&self.events);
        }
    }

    async fn on_timeout(&mut self) {
        let now = Instant::now();
        self.call.handle_timeout(now);
        // Receiver reports while listening (sender reports go out from the playback tick).
        if self.playback.is_none()
            && let Ok(Some((to, n))) =
                self.call.poll_report(now, std::time::SystemTime::now(), &mut self.packet)
        {
            let _ = self.udp.send_to(&self.packet[..n], to).await;
        }
    }

    /// One 20 ms tick of the playback clock.
    async fn on_tick(&mut self) {
        let now = Instant::now();
        let Some(p) = self.playback.as_mut() else { return };
        if now > p.next_tick + Duration::from_millis(5) {
            p.stats.late_ticks += 1;
        }
        // Deadlines, not sleeps added up: the clock never drifts; after a long stall it resyncs.
        p.next_tick += FRAME;
        if p.next_tick + FRAME * 5 < now {
            p.next_tick = now + FRAME;
        }
        // With DAVE, nothing can be sent until the group exists: wait for it.
        if !self.call.can_send() {
            return;
        }
        let frame: Option<Vec<u8>> = if p.finished.is_some() || p.paused {
            if p.silence_left > 0 {
                p.silence_left -= 1;
                p.stats.silence_frames += 1;
                Some(SILENCE_FRAME.to_vec())
            } else {
                None
            }
        } else {
            if p.pending.is_empty() {
                match p.rx.try_recv() {
                    Ok(PlayerMsg::Frames(batch)) => p.pending.extend(batch),
                    Ok(PlayerMsg::End) | Err(TryRecvError::Disconnected) => p.finished = Some(None),
                    Ok(PlayerMsg::Failed(e)) => p.finished = Some(Some(e)),
                    Err(TryRecvError::Empty) => p.stats.underruns += 1,
                }
            }
            if let Some(f) = p.pending.pop_front() {
                p.stats.frames_sent += 1;
                Some(f)
            } else if p.finished.is_some() {
                // The source is over: the first of the five silence frames goes out now.
                p.silence_left = SILENCE_FRAMES - 1;
                p.stats.silence_frames += 1;
                Some(SILENCE_FRAME.to_vec())
            } else {
                None
            }
        };
        let Some(frame) = frame else {
            if p.paused && p.speaking && p.silence_left == 0 {
                p.speaking = false;
                self.call.set_speaking(false, now);
            }
            self.call.skip_frame();
            return;
        };
        if !p.speaking && p.finished.is_none() {
            p.speaking = true;
            self.call.set_speaking(true, now);
        }
        let started = Instant::now();
        match self.call.build_audio(&frame, &mut self.packet) {
            Ok(Some((to, n))) => {
                let _ = self.udp.send_to(&self.packet[..n], to).await;
            }
            Ok(None) => {}
            Err(e) => {
                let _ = self.events.try_send(VoiceEvent::Error(format!("sending audio: {e}")));
            }
        }
        if let Ok(Some((to, n))) =
            self.call.poll_report(started, std::time::SystemTime::now(), &mut self.packet)
        {
            let _ = self.udp.send_to(&self.packet[..n], to).await;
        }
        let Some(p) = self.playback.as_mut() else { return };
        let took = started.elapsed();
        p.send_total += took;
        p.stats.send_time_max = p.stats.send_time_max.max(took);
        if let Some(last) = p.last_send.replace(started) {
            let gap = started.saturating_duration_since(last);
            let bucket = usize::try_from(gap.as_micros() / INTERVAL_BUCKET.as_micros())
                .unwrap_or(usize::MAX);
            p.intervals[bucket.min(INTERVAL_BUCKETS - 1)] += 1;
        }
        if p.finished.is_some() && p.silence_left == 0 {
            if p.speaking {
                p.speaking = false;
                self.call.set_speaking(false, now);
            }
            if let Some(mut p) = self.playback.take() {
                p.finish(&self.events);
            }
        }
    }

    /// Carries out the core's outputs. Returns false when the connection is over.
    async fn drain(&mut self) -> bool {
        while let Some(o) = self.call.poll_output() {
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
                    let _ = self.udp.send_to(&data, to).await;
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
            match open_ws(&self.info, &self.config.transport, &self.call.gateway_query()).await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    if self.call.reconnect(Some(info), Instant::now()).is_ok() {
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
            match open_ws(&self.info, &self.config.transport, &self.call.gateway_query()).await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    let now = Instant::now();
                    let r =
                        if resume { self.call.resume(now) } else { self.call.reconnect(None, now) };
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
