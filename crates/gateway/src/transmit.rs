//! What the state machines hand to the WebSocket layer.

use crate::close::{CloseAction, CloseCode, CloseFrame};

/// One WebSocket message (or the close) to send, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// A text message (JSON).
    Text(String),
    /// A binary message (DAVE ops 25-30).
    Binary(Vec<u8>),
    /// Send this close frame and close the socket. Nothing follows it on this socket.
    Close(CloseFrame),
}

impl Transmit {
    /// Payload size in bytes (the close reason for a close).
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) => b.len(),
            Self::Close(c) => c.reason.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Who ended a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// This side sent the close (a [`Transmit::Close`] was emitted).
    Local,
    /// The peer sent a close frame.
    Remote,
    /// The socket dropped without a close frame (reported as code 1006).
    Transport,
}

/// Why and how a socket ended, as reported to the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReason {
    /// The close code (1006 for a transport drop).
    pub code: CloseCode,
    /// The close reason text.
    pub reason: String,
    /// Who ended it.
    pub initiator: Initiator,
    /// What to do next (client: protocol.md 3; server: `Resume` means the session may be
    /// resumed on a new socket, `Stop` that it is over).
    pub action: CloseAction,
}

/// A fixed-window message counter used to refuse floods.
#[derive(Clone, Debug)]
pub(crate) struct RateWindow {
    pub(crate) limit: u32,
    pub(crate) window: std::time::Duration,
    start: Option<std::time::Instant>,
    count: u32,
}

impl RateWindow {
    pub(crate) fn new(limit: u32, window: std::time::Duration) -> Self {
        Self { limit, window, start: None, count: 0 }
    }

    /// Counts one message; false when the limit for the current window is exceeded.
    pub(crate) fn admit(&mut self, now: std::time::Instant) -> bool {
        match self.start {
            Some(start) if now.saturating_duration_since(start) < self.window => {}
            _ => {
                self.start = Some(now);
                self.count = 0;
            }
        }
        self.count = self.count.saturating_add(1);
        self.count <= self.limit
    }
}
