//! The tokio driver: one task owns the [`Hub`] by value and `select!`s over the UDP socket, its
//! next deadline and a command channel; one task per TCP connection does TLS, HTTP and the
//! WebSocket, and talks to the hub through that channel.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame as WsCloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use voxwire_gateway::{CloseCode, CloseFrame, GatewayVersion, Transmit};
use voxwire_netsim::NetsimConfig;

use crate::http::{self, Rewind};
use crate::hub::{ChannelInfo, ConnId, Hub, JoinInfo, MAX_DATAGRAM, Output};

/// Largest WebSocket message a client may send.
const MAX_WS_MESSAGE: usize = 64 * 1024;
/// Messages queued towards one WebSocket before the client is considered stuck and cut off.
const WS_QUEUE: usize = 1024;
/// Time allowed for TLS and the HTTP request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum Command {
    WsOpen {
        conn: ConnId,
        version: GatewayVersion,
        out: mpsc::Sender<Transmit>,
    },
    WsText {
        conn: ConnId,
        text: String,
    },
    WsBinary {
        conn: ConnId,
        data: Vec<u8>,
    },
    WsClosed {
        conn: ConnId,
        frame: Option<CloseFrame>,
    },
    Join {
        guild: u64,
        channel: u64,
        user: u64,
        reply: oneshot::Sender<Result<JoinInfo, String>>,
    },
    ChannelInfo {
        guild: u64,
        channel: u64,
        reply: oneshot::Sender<Option<ChannelInfo>>,
    },
    Impair {
        guild: u64,
        channel: u64,
        user: Option<u64>,
        config: Option<Box<NetsimConfig>>,
        seed: u64,
        reply: oneshot::Sender<usize>,
    },
    Drop {
        guild: u64,
        channel: u64,
        user: u64,
        code: u16,
        reply: oneshot::Sender<bool>,
    },
    Shutdown,
}

/// Runs the hub until [`Command::Shutdown`] or until every sender is gone.
pub(crate) async fn run_hub(mut hub: Hub, udp: UdpSocket, mut rx: mpsc::Receiver<Command>) {
    let mut conns: std::collections::HashMap<ConnId, mpsc::Sender<Transmit>> =
        std::collections::HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        let deadline = hub.poll_timeout();
        tokio::select! {
            cmd = rx.recv() => {
                let now = Instant::now();
                match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::WsOpen { conn, version, out }) => {
                        conns.insert(conn, out);
                        hub.handle_ws_open(conn, version, now);
                    }
                    Some(Command::WsText { conn, text }) => hub.handle_ws_text(conn, &text, now),
                    Some(Command::WsBinary { conn, data }) => hub.handle_ws_binary(conn, &data, now),
                    Some(Command::WsClosed { conn, frame }) => {
                        conns.remove(&conn);
                        hub.handle_ws_closed(conn, frame, now);
                    }
                    Some(Command::Join { guild, channel, user, reply }) => {
                        let _ = reply.send(hub.join(guild, channel, user, now).map_err(|e| e.to_string()));
                    }
                    Some(Command::ChannelInfo { guild, channel, reply }) => {
                        let _ = reply.send(hub.channel_info(guild, channel));
                    }
                    Some(Command::Impair { guild, channel, user, config, seed, reply }) => {
                        let _ = reply.send(hub.set_impairment(guild, channel, user, config.map(|c| *c), seed));
                    }
                    Some(Command::Drop { guild, channel, user, code, reply }) => {
                        let _ = reply.send(hub.drop_connection(guild, channel, user, CloseCode(code), now));
                    }
                }
            }
            r = udp.recv_from(&mut buf) => {
                match r {
                    Ok((n, from)) if n <= MAX_DATAGRAM => hub.handle_udp(from, &buf[..n], Instant::now()),
                    Ok(_) => {}
                    Err(e) => tracing::debug!("udp receive: {e}"),
                }
            }
            () = sleep_until(deadline) => hub.handle_timeout(Instant::now()),
        }
        while let Some(o) = hub.poll_output() {
            match o {
                Output::Ws { conn, transmit } => {
                    let stuck = conns.get(&conn).is_some_and(|tx| tx.try_send(transmit).is_err());
                    if stuck {
                        // A client that does not read its socket is cut off; dropping the sender
                        // ends its connection task.
                        conns.remove(&conn);
                    }
                }
                Output::Udp { to, data } => {
                    if let Err(e) = udp.send_to(&data, to).await {
                        tracing::debug!("udp send to {to}: {e}");
                    }
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Accepts TCP connections until the hub is gone.
pub(crate) async fn run_listener(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    hub: mpsc::Sender<Command>,
) {
    let mut next: ConnId = 1;
    loop {
        let Ok((tcp, peer)) = listener.accept().await else { continue };
        if hub.is_closed() {
            return;
        }
        let _ = tcp.set_nodelay(true);
        let conn = next;
        next += 1;
        let (hub, tls) = (hub.clone(), tls.clone());
        tokio::spawn(async move {
            if let Err(e) = serve_connection(tcp, tls, conn, hub).await {
                tracing::debug!("connection {conn} from {peer}: {e}");
            }
        });
    }
}

async fn serve_connection(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    conn: ConnId,
    hub: mpsc::Sender<Command>,
) -> Result<(), String> {
    match tls {
        Some(acceptor) => {
            let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                .await
                .map_err(|_| "TLS handshake timed out".to_owned())?
                .map_err(|e| format!("TLS handshake: {e}"))?;
            serve_stream(stream, conn, hub).await
        }
        None => serve_stream(tcp, conn, hub).await,
    }
}

async fn serve_stream<S>(
    mut stream: S,
    conn: ConnId,
    hub: mpsc::Sender<Command>,
) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let req = match tokio::time::timeout(HANDSHAKE_TIMEOUT, http::read_request(&mut stream)).await {
        Err(_) => return Err("request head timed out".into()),
        Ok(Err(e)) => {
            let status = match e {
                http::HttpError::HeadTooLarge | http::HttpError::BodyTooLarge => 413,
                _ => 400,
            };
            let _ =
                http::respond(&mut stream, status, "text/plain", e.to_string().as_bytes()).await;
            return Err(e.to_string());
        }
        Ok(Ok(r)) => r,
    };
    if req.websocket {
        let Some(version) = gateway_version(&req.query) else {
            let body = b"the voice gateway needs ?v=4 or later";
            let _ = http::respond(&mut stream, 400, "text/plain", body).await;
            return Err("bad gateway version".into());
        };
        return serve_websocket(Rewind::new(req.raw, stream), version, conn, hub).await;
    }
    let (status, body) = crate::control::route(&req, &hub).await;
    http::respond(&mut stream, status, "application/json", body.as_bytes())
        .await
        .map_err(|e| e.to_string())
}

fn gateway_version(query: &str) -> Option<GatewayVersion> {
    GatewayVersion::from_query(query)
}

async fn serve_websocket<S>(
    stream: S,
    version: GatewayVersion,
    conn: ConnId,
    hub: mpsc::Sender<Command>,
) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_WS_MESSAGE))
        .max_frame_size(Some(MAX_WS_MESSAGE));
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config))
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    let (mut sink, mut source) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Transmit>(WS_QUEUE);
    hub.send(Command::WsOpen { conn, version, out: out_tx }).await.map_err(|_| "server stopped")?;
    let mut close: Option<CloseFrame> = None;
    loop {
        tokio::select! {
            msg = source.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if hub.send(Command::WsText { conn, text: t.as_str().to_owned() }).await.is_err() { break; }
                }
                Some(Ok(Message::Binary(b))) => {
                    if hub.send(Command::WsBinary { conn, data: b.to_vec() }).await.is_err() { break; }
                }
                Some(Ok(Message::Close(f))) => {
                    close = f.map(|f| CloseFrame { code: CloseCode(u16::from(f.code)), reason: f.reason.as_str().to_owned() });
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            t = out_rx.recv() => match t {
                Some(Transmit::Text(t)) => { if sink.send(Message::Text(Utf8Bytes::from(t))).await.is_err() { break; } }
                Some(Transmit::Binary(b)) => { if sink.send(Message::Binary(Bytes::from(b))).await.is_err() { break; } }
                Some(Transmit::Close(f)) => {
                    let frame = WsCloseFrame { code: WsCloseCode::from(f.code.0), reason: Utf8Bytes::from(f.reason.clone()) };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    let _ = sink.flush().await;
                    close = Some(f);
                    break;
                }
                // The hub dropped us (a stuck client): end the socket with a policy close.
                None => {
                    let frame = WsCloseFrame { code: WsCloseCode::Policy, reason: Utf8Bytes::from_static("too slow") };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            },
        }
    }
    let _ = hub.send(Command::WsClosed { conn, frame: close }).await;
    Ok(())
}

/// Shared, immutable facts about a running server.
#[derive(Debug)]
pub(crate) struct Info {
    pub(crate) gateway: SocketAddr,
    pub(crate) udp: SocketAddr,
    pub(crate) ca_pem: Option<String>,
}

pub(crate) type SharedInfo = Arc<Info>;
