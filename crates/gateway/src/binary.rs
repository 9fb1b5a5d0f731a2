//! Binary WebSocket frames: the DAVE MLS opcodes 25-30 (protocol.md 2.1, 2.3.21-31).
//!
//! Layout: server to client `[u16 seq (BE), only on v8+] || u8 opcode || payload`; client to
//! server `u8 opcode || payload`. The views borrow the input and are validated in `parse`, so
//! their fields cannot fail. MLS structures inside the payload are not decoded here; they go
//! to the MLS session (voxwire-crypto) as they are.

use crate::error::Error;
use crate::types::{Opcode, Seq, TransitionId};

/// Op 27 `operation_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProposalsOperation(pub u8);

impl ProposalsOperation {
    /// 0: append proposals (`MLSMessage proposal_messages<V>`).
    pub const APPEND: Self = Self(0);
    /// 1: revoke proposals (`ProposalRef proposal_refs<V>`).
    pub const REVOKE: Self = Self(1);
}

/// A server-to-client binary DAVE message, borrowing the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerDave<'a> {
    /// Op 25: a TLS-encoded `ExternalSender`.
    ExternalSender(&'a [u8]),
    /// Op 27: append or revoke proposals.
    Proposals {
        /// Append (0) or revoke (1); other values are passed through for the MLS layer to reject.
        operation: ProposalsOperation,
        /// The vector that follows (`proposal_messages<V>` or `proposal_refs<V>`).
        data: &'a [u8],
    },
    /// Op 29: `u16 transition_id || MLSMessage commit`.
    AnnounceCommitTransition {
        /// The transition id.
        transition_id: TransitionId,
        /// The commit `MLSMessage`.
        commit: &'a [u8],
    },
    /// Op 30: `u16 transition_id || Welcome`.
    Welcome {
        /// The transition id.
        transition_id: TransitionId,
        /// The bare TLS-encoded Welcome.
        welcome: &'a [u8],
    },
    /// Any other binary opcode, payload as is.
    Unknown {
        /// The opcode.
        op: Opcode,
        /// Everything after the opcode byte.
        payload: &'a [u8],
    },
}

/// A parsed server-to-client binary frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerBinary<'a> {
    /// The sequence number (v8+ only).
    pub seq: Option<Seq>,
    /// The message.
    pub message: ServerDave<'a>,
}

/// A client-to-server binary DAVE message, borrowing the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientDave<'a> {
    /// Op 26: a bare TLS-encoded `KeyPackage`.
    KeyPackage(&'a [u8]),
    /// Op 28: `MLSMessage commit` optionally followed by a bare `Welcome`.
    CommitWelcome(&'a [u8]),
    /// Any other binary opcode, payload as is.
    Unknown {
        /// The opcode.
        op: Opcode,
        /// Everything after the opcode byte.
        payload: &'a [u8],
    },
}

fn split_u16<'a>(what: &'static str, data: &'a [u8]) -> Result<(u16, &'a [u8]), Error> {
    match data {
        [a, b, rest @ ..] => Ok((u16::from_be_bytes([*a, *b]), rest)),
        _ => Err(Error::Truncated { what, expected: 2, actual: data.len() }),
    }
}

fn split_u8<'a>(what: &'static str, data: &'a [u8]) -> Result<(u8, &'a [u8]), Error> {
    match data {
        [a, rest @ ..] => Ok((*a, rest)),
        [] => Err(Error::Truncated { what, expected: 1, actual: 0 }),
    }
}

impl<'a> ServerBinary<'a> {
    /// Parses a binary WebSocket message from a server. `with_seq` is true for v8+ connections
    /// ([`crate::GatewayVersion::has_seq`]).
    pub fn parse(data: &'a [u8], with_seq: bool) -> Result<Self, Error> {
        let (seq, rest) = if with_seq {
            let (s, rest) = split_u16("binary frame sequence number", data)?;
            (Some(Seq(s)), rest)
        } else {
            (None, data)
        };
        let (op, payload) = split_u8("binary frame opcode", rest)?;
        let op = Opcode(op);
        let message = match op {
            Opcode::DAVE_MLS_EXTERNAL_SENDER => ServerDave::ExternalSender(payload),
            Opcode::DAVE_MLS_PROPOSALS => {
                let (operation, data) = split_u8("op 27 operation_type", payload)?;
                ServerDave::Proposals { operation: ProposalsOperation(operation), data }
            }
            Opcode::DAVE_MLS_ANNOUNCE_COMMIT_TRANSITION => {
                let (tid, commit) = split_u16("op 29 transition_id", payload)?;
                ServerDave::AnnounceCommitTransition { transition_id: TransitionId(tid), commit }
            }
            Opcode::DAVE_MLS_WELCOME => {
                let (tid, welcome) = split_u16("op 30 transition_id", payload)?;
                ServerDave::Welcome { transition_id: TransitionId(tid), welcome }
            }
            _ => ServerDave::Unknown { op, payload },
        };
        Ok(Self { seq, message })
    }
}

impl ServerDave<'_> {
    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::ExternalSender(_) => Opcode::DAVE_MLS_EXTERNAL_SENDER,
            Self::Proposals { .. } => Opcode::DAVE_MLS_PROPOSALS,
            Self::AnnounceCommitTransition { .. } => Opcode::DAVE_MLS_ANNOUNCE_COMMIT_TRANSITION,
            Self::Welcome { .. } => Opcode::DAVE_MLS_WELCOME,
            Self::Unknown { op, .. } => *op,
        }
    }

    /// Bytes the frame takes, with or without the sequence number.
    pub fn calculate_size(&self, with_seq: bool) -> usize {
        let body = match self {
            Self::ExternalSender(p) | Self::Unknown { payload: p, .. } => p.len(),
            Self::Proposals { data, .. } => 1 + data.len(),
            Self::AnnounceCommitTransition { commit: p, .. } | Self::Welcome { welcome: p, .. } => {
                2 + p.len()
            }
        };
        if with_seq { 3 + body } else { 1 + body }
    }

    /// Writes the frame into `buf`, with `seq` when given; returns the bytes written.
    pub fn write(&self, seq: Option<Seq>, buf: &mut [u8]) -> Result<usize, Error> {
        let needed = self.calculate_size(seq.is_some());
        let available = buf.len();
        let out = buf.get_mut(..needed).ok_or(Error::BufferTooSmall { needed, available })?;
        let mut w = Writer { buf: out, pos: 0 };
        if let Some(seq) = seq {
            w.put(&seq.0.to_be_bytes());
        }
        w.put(&[self.opcode().0]);
        match self {
            Self::ExternalSender(p) | Self::Unknown { payload: p, .. } => w.put(p),
            Self::Proposals { operation, data } => {
                w.put(&[operation.0]);
                w.put(data);
            }
            Self::AnnounceCommitTransition { transition_id, commit: p }
            | Self::Welcome { transition_id, welcome: p } => {
                w.put(&transition_id.0.to_be_bytes());
                w.put(p);
            }
        }
        Ok(w.pos)
    }

    /// Writes the frame into a new vector.
    pub fn to_vec(&self, seq: Option<Seq>) -> Vec<u8> {
        let mut v = vec![0; self.calculate_size(seq.is_some())];
        let n = self.write(seq, &mut v).unwrap_or(0);
        v.truncate(n);
        v
    }
}

impl<'a> ClientDave<'a> {
    /// Parses a binary WebSocket message from a client (no sequence number).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (op, payload) = split_u8("binary frame opcode", data)?;
        let op = Opcode(op);
        Ok(match op {
            Opcode::DAVE_MLS_KEY_PACKAGE => Self::KeyPackage(payload),
            Opcode::DAVE_MLS_COMMIT_WELCOME => Self::CommitWelcome(payload),
            _ => Self::Unknown { op, payload },
        })
    }

    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::KeyPackage(_) => Opcode::DAVE_MLS_KEY_PACKAGE,
            Self::CommitWelcome(_) => Opcode::DAVE_MLS_COMMIT_WELCOME,
            Self::Unknown { op, .. } => *op,
        }
    }

    /// The payload after the opcode byte.
    pub fn payload(&self) -> &'a [u8] {
        match *self {
            Self::KeyPackage(p) | Self::CommitWelcome(p) | Self::Unknown { payload: p, .. } => p,
        }
    }

    /// Bytes the frame takes.
    pub fn calculate_size(&self) -> usize {
        1 + self.payload().len()
    }

    /// Writes the frame into `buf`; returns the bytes written.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let needed = self.calculate_size();
        let available = buf.len();
        let out = buf.get_mut(..needed).ok_or(Error::BufferTooSmall { needed, available })?;
        let mut w = Writer { buf: out, pos: 0 };
        w.put(&[self.opcode().0]);
        w.put(self.payload());
        Ok(w.pos)
    }

    /// Writes the frame into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.calculate_size()];
        let n = self.write(&mut v).unwrap_or(0);
        v.truncate(n);
        v
    }
}

/// Copies into a buffer already checked to be exactly the right size.
struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_frame_with_and_without_seq() {
        let frame = [0x01, 0x02, 29, 0x00, 0x07, 0xAA, 0xBB];
        let parsed = ServerBinary::parse(&frame, true).unwrap();
        assert_eq!(parsed.seq, Some(Seq(0x0102)));
        assert_eq!(
            parsed.message,
            ServerDave::AnnounceCommitTransition {
                transition_id: TransitionId(7),
                commit: &[0xAA, 0xBB]
            }
        );
        let v4 = ServerBinary::parse(&frame[2..], false).unwrap();
        assert_eq!(v4.seq, None);
        assert_eq!(v4.message, parsed.message);
    }

    #[test]
    fn truncation_is_reported_with_sizes() {
        assert!(matches!(
            ServerBinary::parse(&[0x00], true),
            Err(Error::Truncated { expected: 2, actual: 1, .. })
        ));
        assert!(matches!(
            ServerBinary::parse(&[0, 1], true),
            Err(Error::Truncated { expected: 1, actual: 0, .. })
        ));
        assert!(matches!(
            ServerBinary::parse(&[0, 1, 30, 9], true),
            Err(Error::Truncated { expected: 2, actual: 1, .. })
        ));
        assert!(matches!(
            ServerBinary::parse(&[27], false),
            Err(Error::Truncated { expected: 1, actual: 0, .. })
        ));
        assert!(matches!(ClientDave::parse(&[]), Err(Error::Truncated { .. })));
    }

    #[test]
    fn write_rejects_small_buffer() {
        let m = ServerDave::Welcome { transition_id: TransitionId(1), welcome: &[1, 2, 3] };
        let mut buf = [0u8; 7];
        assert!(matches!(
            m.write(Some(Seq(1)), &mut buf),
            Err(Error::BufferTooSmall { needed: 8, available: 7 })
        ));
        let mut buf = [0u8; 8];
        assert_eq!(m.write(Some(Seq(1)), &mut buf).unwrap(), 8);
        assert_eq!(buf, [0, 1, 30, 0, 1, 1, 2, 3]);
    }

    #[test]
    fn client_key_package_has_no_seq() {
        let v = ClientDave::KeyPackage(&[9, 9]).to_vec();
        assert_eq!(v, [26, 9, 9]);
        assert_eq!(ClientDave::parse(&v).unwrap(), ClientDave::KeyPackage(&[9, 9]));
    }
}
