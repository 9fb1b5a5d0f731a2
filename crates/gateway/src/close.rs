//! Voice close codes and what each means for the client (protocol.md 3).

use std::fmt;

/// A WebSocket close code as used by the voice gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: going away.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1006: abnormal closure (no close frame; the transport dropped).
    pub const ABNORMAL: Self = Self(1006);
    /// 1009: message too big.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 4000: sent by a voxwire client that closes a socket it wants to resume (heartbeat
    /// timeout, server flood). Not a gateway-defined code; it only has to be neither 1000 nor
    /// 1001 so that the session stays resumable.
    pub const CLIENT_RESUME: Self = Self(4000);
    /// 4001: unknown opcode.
    pub const UNKNOWN_OPCODE: Self = Self(4001);
    /// 4002: failed to decode payload.
    pub const DECODE_ERROR: Self = Self(4002);
    /// 4003: not authenticated (payload before Identify).
    pub const NOT_AUTHENTICATED: Self = Self(4003);
    /// 4004: authentication failed.
    pub const AUTHENTICATION_FAILED: Self = Self(4004);
    /// 4005: already authenticated.
    pub const ALREADY_AUTHENTICATED: Self = Self(4005);
    /// 4006: session no longer valid.
    pub const SESSION_INVALID: Self = Self(4006);
    /// 4009: session timeout.
    pub const SESSION_TIMEOUT: Self = Self(4009);
    /// 4011: server not found.
    pub const SERVER_NOT_FOUND: Self = Self(4011);
    /// 4012: unknown protocol.
    pub const UNKNOWN_PROTOCOL: Self = Self(4012);
    /// 4013: WebRTC crashed (community-documented).
    pub const WEBRTC_CRASHED: Self = Self(4013);
    /// 4014: disconnected (kicked, moved, server change).
    pub const DISCONNECTED: Self = Self(4014);
    /// 4015: voice server crashed; resume.
    pub const VOICE_SERVER_CRASHED: Self = Self(4015);
    /// 4016: unknown encryption mode.
    pub const UNKNOWN_ENCRYPTION_MODE: Self = Self(4016);
    /// 4017: E2EE/DAVE required.
    pub const E2EE_REQUIRED: Self = Self(4017);
    /// 4020: bad request.
    pub const BAD_REQUEST: Self = Self(4020);
    /// 4021: rate limited.
    pub const RATE_LIMITED: Self = Self(4021);
    /// 4022: call terminated.
    pub const CALL_TERMINATED: Self = Self(4022);

    /// What a client should do after the server (or the transport) closed with this code.
    /// A 1000 that the client initiated itself is [`CloseAction::Stop`]; this function sees
    /// only the code and treats every code below 4000 as a transport drop, as discord.js does.
    pub const fn action(self) -> CloseAction {
        match self.0 {
            0..=3999 | 4000 | 4013 | 4015 => CloseAction::Resume,
            4014 => CloseAction::AwaitServerUpdate,
            4012 | 4016 | 4017 | 4020 | 4021 | 4022 => CloseAction::Stop,
            _ => CloseAction::Reconnect,
        }
    }

    /// Whether a session closed by this code can be resumed.
    pub const fn is_resumable(self) -> bool {
        matches!(self.action(), CloseAction::Resume)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The client's reaction to a close (protocol.md 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseAction {
    /// Open a new socket and send op 7 Resume; keep UDP, SSRC, key and DAVE state.
    Resume,
    /// Open a new socket and Identify again (new session state; for 4004/4006/4009/4011 fresh
    /// credentials from the main gateway).
    Reconnect,
    /// Do not reconnect on your own: wait for a new `VOICE_SERVER_UPDATE` (4014).
    AwaitServerUpdate,
    /// Do not reconnect: the close is final or a configuration error (4012, 4016, 4017, 4020,
    /// 4021, 4022, or our own normal close).
    Stop,
}

/// A close frame: code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The code.
    pub code: CloseCode,
    /// Human-readable reason (at most 123 bytes on the wire; longer ones are cut by the
    /// WebSocket layer).
    pub reason: String,
}

impl CloseFrame {
    /// A close frame.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_actions() {
        assert_eq!(CloseCode::ABNORMAL.action(), CloseAction::Resume);
        assert_eq!(CloseCode::VOICE_SERVER_CRASHED.action(), CloseAction::Resume);
        assert_eq!(CloseCode::SESSION_INVALID.action(), CloseAction::Reconnect);
        assert_eq!(CloseCode::SESSION_TIMEOUT.action(), CloseAction::Reconnect);
        assert_eq!(CloseCode::AUTHENTICATION_FAILED.action(), CloseAction::Reconnect);
        assert_eq!(CloseCode::DISCONNECTED.action(), CloseAction::AwaitServerUpdate);
        assert_eq!(CloseCode::RATE_LIMITED.action(), CloseAction::Stop);
        assert_eq!(CloseCode::CALL_TERMINATED.action(), CloseAction::Stop);
        assert_eq!(CloseCode::E2EE_REQUIRED.action(), CloseAction::Stop);
        assert!(!CloseCode::SESSION_INVALID.is_resumable());
        assert!(CloseCode::WEBRTC_CRASHED.is_resumable());
    }
}
