//! The client's one error type; lower crates' errors are wrapped.

/// Everything that can go wrong in a voice connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket failed.
    #[error("i/o error while {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// TLS setup or the TLS handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(String),
    /// The voice gateway protocol failed.
    #[error(transparent)]
    Gateway(#[from] voxwire_gateway::Error),
    /// Transport or DAVE encryption failed.
    #[error(transparent)]
    Crypto(#[from] voxwire_crypto::Error),
    /// An RTP packet could not be built.
    #[error(transparent)]
    Rtp(#[from] voxwire_rtp::Error),
    /// A source failed.
    #[error(transparent)]
    Source(#[from] voxwire_sources::Error),
    /// A sink failed.
    #[error(transparent)]
    Sink(#[from] voxwire_sinks::Error),
    /// Opus encoding or decoding failed.
    #[error("Opus: {0}")]
    Opus(String),
    /// The server closed the connection for good.
    #[error("the voice server closed the connection: {code} {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Connecting took too long.
    #[error("timed out while {0}")]
    Timeout(&'static str),
    /// The connection has ended.
    #[error("the voice connection has ended")]
    Disconnected,
    /// A value is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The source's code panicked while it was read; its playback ended, the connection and
    /// every other playback go on.
    #[error("the source panicked: {0}")]
    SourcePanicked(String),
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
