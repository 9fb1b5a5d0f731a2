//! The minimum of HTTP/1.1 the listener needs: one request per connection, bounded head and body,
//! and either a JSON response or a hand-over to the WebSocket handshake.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Largest request head accepted.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// Largest request body accepted (control API bodies are small JSON objects).
pub(crate) const MAX_BODY: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

/// A parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) websocket: bool,
    pub(crate) body: Vec<u8>,
    /// Every byte read from the socket so far (head and any body), for replay to the WebSocket
    /// handshake.
    pub(crate) raw: Vec<u8>,
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("connection closed before the request was complete")]
    Closed,
    #[error("request head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("request body larger than {MAX_BODY} bytes")]
    BodyTooLarge,
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// Reads one request (head, and body when `Content-Length` says so).
pub(crate) async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> Result<Request, HttpError> {
    let mut raw = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(HttpError::Closed);
        }
        raw.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&raw) {
            Ok(httparse::Status::Partial) => {
                if raw.len() > MAX_HEAD {
                    return Err(HttpError::HeadTooLarge);
                }
            }
            Ok(httparse::Status::Complete(head_len)) => {
                let method = req.method.unwrap_or("").to_owned();
                let target = req.path.unwrap_or("/");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let websocket =
                    header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
                let content_length = match header("content-length") {
                    Some(v) => v
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| HttpError::Malformed("content-length".into()))?,
                    None => 0,
                };
                if content_length > MAX_BODY {
                    return Err(HttpError::BodyTooLarge);
                }
                let (path, query) = (path.to_owned(), query.to_owned());
                while raw.len() < head_len + content_length {
                    let n = s.read(&mut chunk).await?;
                    if n == 0 {
                        return Err(HttpError::Closed);
                    }
                    raw.extend_from_slice(&chunk[..n]);
                }
                let body =
                    raw.get(head_len..head_len + content_length).unwrap_or_default().to_vec();
                return Ok(Request { method, path, query, websocket, body, raw });
            }
            Err(e) => return Err(HttpError::Malformed(e.to_string())),
        }
    }
}

/// Writes a complete response and flushes it.
pub(crate) async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await
}

/// A stream that first yields bytes already read from `inner`, then reads from `inner`. Used to
/// hand a connection whose request head was read here to the WebSocket handshake.
pub(crate) struct Rewind<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Rewind<S> {
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self { prefix, pos: 0, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pos < self.prefix.len() {
            let rest = &self.prefix[self.pos..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_head_and_body() {
        let req = b"POST /v1/voice/join?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}";
        let mut s = &req[..];
        let r = read_request(&mut s).await.unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/v1/voice/join", "x=1")
        );
        assert_eq!(r.body, b"{}");
        assert!(!r.websocket);
    }

    #[tokio::test]
    async fn detects_upgrade_and_keeps_raw_bytes() {
        let req =
            b"GET /?v=8 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        let mut s = &req[..];
        let r = read_request(&mut s).await.unwrap();
        assert!(r.websocket);
        assert_eq!(r.query, "v=8");
        assert_eq!(r.raw, req);
    }

    #[tokio::test]
    async fn rejects_oversized_and_truncated_requests() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD + 10));
        let mut s = big.as_bytes();
        assert!(matches!(read_request(&mut s).await, Err(HttpError::HeadTooLarge)));
        let body = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        let mut s = body.as_bytes();
        assert!(matches!(read_request(&mut s).await, Err(HttpError::BodyTooLarge)));
        let mut s = &b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}"[..];
        assert!(matches!(read_request(&mut s).await, Err(HttpError::Closed)));
        let mut s = &b"\x00\x01garbage\r\n\r\n"[..];
        assert!(matches!(read_request(&mut s).await, Err(HttpError::Malformed(_))));
    }

    #[tokio::test]
    async fn rewind_replays_prefix_then_inner() {
        let inner = &b"world"[..];
        let mut r = Rewind::new(b"hello ".to_vec(), inner);
        let mut out = String::new();
        r.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello world");
    }
}
