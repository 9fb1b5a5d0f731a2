//! The server's one error type.

/// Everything that can go wrong starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket could not be bound or used.
    #[error("i/o error on {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be generated or loaded.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The server has stopped.
    #[error("the server has stopped")]
    Stopped,
}
