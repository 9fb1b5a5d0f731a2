//! What a connection reports.

use std::time::Duration;

/// Something that happened on a voice connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoiceEvent {
    /// The session is established: transport keys are in place.
    Connected {
        /// Own audio SSRC.
        ssrc: u32,
        /// Negotiated transport mode.
        mode: String,
        /// DAVE protocol version of the call (0 = transport encryption only).
        dave_protocol_version: u16,
    },
    /// A user's speaking state (and the SSRC→user mapping) changed.
    Speaking {
        /// The user.
        user_id: u64,
        /// Their audio SSRC.
        ssrc: u32,
        /// Speaking flags (1 microphone, 2 soundshare, 4 priority).
        flags: u32,
    },
    /// A user joined the call.
    UserJoined(u64),
    /// A user left the call.
    UserLeft(u64),
    /// DAVE can encrypt: the MLS group is established.
    DaveReady,
    /// A new DAVE epoch: new keys and a new privacy code.
    DaveEpoch {
        /// MLS epoch.
        epoch: u64,
        /// The 30-digit voice privacy code.
        privacy_code: String,
    },
    /// A DAVE transition was executed.
    DaveTransition {
        /// Its id.
        transition_id: u16,
        /// The protocol version now in force.
        protocol_version: u16,
    },
    /// The gateway socket dropped and the session was resumed.
    Resumed,
    /// The gateway socket dropped; reconnecting.
    Reconnecting {
        /// Close code.
        code: u16,
        /// Whether the session is resumed (true) or identified anew (false).
        resume: bool,
    },
    /// Playback of a source ended.
    PlaybackFinished {
        /// The error that ended it, if any.
        error: Option<String>,
    },
    /// A recoverable problem.
    Error(String),
    /// The connection ended for good.
    Disconnected {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
}

/// Counters of one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallStats {
    /// Own audio SSRC.
    pub ssrc: u32,
    /// Negotiated transport mode.
    pub mode: Option<String>,
    /// DAVE protocol version.
    pub dave_protocol_version: u16,
    /// DAVE epoch.
    pub dave_epoch: u64,
    /// The voice privacy code of the current epoch.
    pub privacy_code: Option<String>,
    /// Round trip of the last heartbeat.
    pub gateway_latency: Option<Duration>,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTCP sender reports sent.
    pub reports_sent: u64,
    /// RTP packets received and decrypted.
    pub packets_received: u64,
    /// RTCP packets received.
    pub rtcp_received: u64,
    /// Datagrams that failed transport decryption.
    pub decrypt_failures: u64,
    /// Frames that failed or were dropped by DAVE.
    pub dave_failures: u64,
    /// Frames the DAVE session dropped (held too long, replays, ...).
    pub dave_dropped: u64,
    /// Frames played out of the jitter buffers.
    pub frames_received: u64,
    /// Frames declared lost by the jitter buffers.
    pub frames_lost: u64,
    /// Datagrams ignored (unknown kinds, too large).
    pub udp_ignored: u64,
    /// Per remote stream (per user), while listening.
    pub streams: Vec<StreamStats>,
}

/// Receive statistics of one remote audio stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStats {
    /// The stream's SSRC.
    pub ssrc: u32,
    /// Its user, once mapped (op 5).
    pub user_id: Option<u64>,
    /// The jitter buffer's counters (received, duplicates, late, played, lost, ...) and its
    /// current and target playout delay.
    pub jitter: voxwire_jitter::JitterStats,
}

/// Statistics of one playback, as seed 002's player reports them.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PlayerStats {
    /// Frames sent.
    pub frames_sent: u64,
    /// Silence frames sent after the source ended or paused.
    pub silence_frames: u64,
    /// Ticks at which no frame was ready (the source was too slow).
    pub underruns: u64,
    /// Ticks that fired more than 5 ms after their deadline.
    pub late_ticks: u64,
    /// Mean time to build, encrypt and send one packet.
    pub send_time_mean: Duration,
    /// Longest time to build, encrypt and send one packet.
    pub send_time_max: Duration,
    /// 95th percentile of the interval between consecutive sends (0.4 ms resolution).
    pub interval_p95: Duration,
}
