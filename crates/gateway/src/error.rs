//! The crate's one error type.

use crate::close::CloseCode;
use crate::types::Opcode;

/// Everything that can go wrong when parsing, encoding or driving a voice-gateway connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A binary frame is shorter than its structure requires.
    #[error("truncated {what}: need {expected} bytes, have {actual}")]
    Truncated {
        /// Which structure was being read.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
    /// A message is larger than the configured limit. Nothing was parsed.
    #[error("message of {actual} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// The limit in force.
        limit: usize,
        /// The size of the message.
        actual: usize,
    },
    /// The text is not a JSON gateway envelope (`{"op": int, "d": ...}`).
    #[error("invalid gateway envelope: {source}")]
    Envelope {
        /// What `serde_json` reported.
        #[source]
        source: serde_json::Error,
    },
    /// The envelope is fine but the payload of a known opcode does not have its documented shape.
    #[error("invalid payload for opcode {op}: {source}")]
    Payload {
        /// The opcode whose payload failed.
        op: Opcode,
        /// What `serde_json` reported.
        #[source]
        source: serde_json::Error,
    },
    /// A field holds a value outside its documented range.
    #[error("field `{field}` out of range: {value}")]
    OutOfRange {
        /// Field name.
        field: &'static str,
        /// The offending value, rendered.
        value: String,
    },
    /// Encoding a message to JSON failed.
    #[error("cannot encode opcode {op}: {source}")]
    Encode {
        /// The opcode being encoded.
        op: Opcode,
        /// What `serde_json` reported.
        #[source]
        source: serde_json::Error,
    },
    /// A caller buffer is too small for the frame being written.
    #[error("buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A frame payload is too large for its length field or the configured limit.
    #[error("payload of {len} bytes is too large for {what}")]
    PayloadTooLarge {
        /// Which structure.
        what: &'static str,
        /// Payload length.
        len: usize,
    },
    /// The call is not valid in the connection's current state.
    #[error("{action} is not valid while the connection is {state}")]
    InvalidState {
        /// What the caller tried.
        action: &'static str,
        /// The state the connection was in.
        state: &'static str,
    },
    /// The peer sent more messages than the configured rate allows, or more events piled up
    /// than the caller drained. The connection has been closed with `code`.
    #[error("flood: {what}; closing with {code}")]
    Flood {
        /// What overflowed.
        what: &'static str,
        /// The close code sent (or reported) because of it.
        code: CloseCode,
    },
    /// The peer sent a message that is not valid in the connection's current state. The
    /// message was ignored.
    #[error("unexpected opcode {op} while the connection is {state}")]
    UnexpectedMessage {
        /// The opcode received.
        op: Opcode,
        /// The state the connection was in.
        state: &'static str,
    },
    /// A resume could not be honoured; the socket has been closed with 4006.
    #[error("resume refused: {reason}")]
    ResumeRefused {
        /// Why.
        reason: &'static str,
    },
    /// The connection is closed; nothing more can be handled or sent.
    #[error("connection closed")]
    Closed,
}
