//! What a connection needs: where to connect, how, and how to encode.

use std::sync::Arc;
use std::time::Duration;

use voxwire_crypto::transport::TransportMode;

/// The credentials of one voice connection, as Discord's main gateway hands them out in
/// `VOICE_STATE_UPDATE` (`session_id`) and `VOICE_SERVER_UPDATE` (`endpoint`, `token`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// `host[:port]` of the voice gateway, without a scheme (a `wss://` prefix is stripped).
    pub endpoint: String,
    /// The voice token.
    pub token: String,
    /// The session id.
    pub session_id: String,
    /// The guild id (the channel id for DM calls).
    pub guild_id: u64,
    /// The voice channel id (the DAVE group id).
    pub channel_id: u64,
    /// The own user id.
    pub user_id: u64,
}

impl ConnectionInfo {
    /// The endpoint without a scheme or trailing slash.
    pub fn host(&self) -> &str {
        let e = self.endpoint.trim();
        let e = e.strip_prefix("wss://").or_else(|| e.strip_prefix("ws://")).unwrap_or(e);
        e.trim_end_matches('/')
    }
}

/// How to reach the voice gateway.
#[derive(Clone, Debug, Default)]
pub enum Transport {
    /// `wss://` with the public web PKI roots (Discord).
    #[default]
    Tls,
    /// `wss://` trusting exactly these PEM certificates (a local voxwire server).
    TlsTrusting(Arc<str>),
    /// Plain `ws://` (a local server started with `--plain`).
    Plain,
}

/// Settings of a voice connection, built with [`VoiceConfig::new`] and the `with_*` methods.
#[derive(Clone, Debug)]
pub struct VoiceConfig {
    pub(crate) transport: Transport,
    pub(crate) modes: Vec<TransportMode>,
    pub(crate) dave: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) event_capacity: usize,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceConfig {
    /// Defaults: TLS with web PKI roots, AES-256-GCM preferred over XChaCha20-Poly1305, DAVE on,
    /// 20 s to connect.
    pub fn new() -> Self {
        Self {
            transport: Transport::Tls,
            modes: vec![
                TransportMode::AeadAes256GcmRtpsize,
                TransportMode::AeadXChaCha20Poly1305Rtpsize,
            ],
            dave: true,
            connect_timeout: Duration::from_secs(20),
            event_capacity: 1024,
        }
    }

    /// How to reach the gateway.
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Transport modes this client accepts, in order of preference.
    #[must_use]
    pub fn with_modes(mut self, modes: Vec<TransportMode>) -> Self {
        self.modes = modes;
        self
    }

    /// Whether to offer DAVE end-to-end encryption (Discord requires it in most channels).
    #[must_use]
    pub fn with_dave(mut self, dave: bool) -> Self {
        self.dave = dave;
        self
    }

    /// How long [`crate::VoiceConnection::connect`] may take.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// Opus encoder application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Application {
    /// Music and general audio.
    #[default]
    Audio,
    /// Speech.
    Voip,
    /// Lowest latency.
    LowDelay,
}

/// Opus bandpass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bandwidth {
    /// 4 kHz.
    Narrow,
    /// 6 kHz.
    Medium,
    /// 8 kHz.
    Wide,
    /// 12 kHz.
    Superwide,
    /// 20 kHz.
    #[default]
    Full,
}

/// Opus signal hint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signal {
    /// Let the encoder decide.
    #[default]
    Auto,
    /// Speech.
    Voice,
    /// Music.
    Music,
}

/// How a PCM source is encoded (ignored for Opus sources, which pass through).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayOptions {
    /// Encoder application.
    pub application: Application,
    /// Bitrate in kbit/s, 16..=512.
    pub bitrate_kbps: u32,
    /// In-band forward error correction.
    pub fec: bool,
    /// Expected packet loss in percent, 0..=100 (used with FEC).
    pub expected_packet_loss: f32,
    /// Bandpass.
    pub bandwidth: Bandwidth,
    /// Signal hint.
    pub signal: Signal,
}

impl Default for PlayOptions {
    fn default() -> Self {
        Self {
            application: Application::Audio,
            bitrate_kbps: 64,
            fec: true,
            expected_packet_loss: 0.0,
            bandwidth: Bandwidth::Full,
            signal: Signal::Auto,
        }
    }
}

impl PlayOptions {
    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        if !(16..=512).contains(&self.bitrate_kbps) {
            return Err(crate::Error::InvalidArgument(format!(
                "bitrate {} kbit/s is outside 16..=512",
                self.bitrate_kbps
            )));
        }
        if !(0.0..=100.0).contains(&self.expected_packet_loss) {
            return Err(crate::Error::InvalidArgument(
                "expected packet loss must be within 0..=100 %".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_host_strips_scheme_and_slash() {
        let mut i = ConnectionInfo {
            endpoint: "wss://example.discord.media:443/".into(),
            token: String::new(),
            session_id: String::new(),
            guild_id: 1,
            channel_id: 2,
            user_id: 3,
        };
        assert_eq!(i.host(), "example.discord.media:443");
        i.endpoint = "127.0.0.1:9000".into();
        assert_eq!(i.host(), "127.0.0.1:9000");
    }

    #[test]
    fn play_options_are_checked() {
        assert!(PlayOptions::default().validate().is_ok());
        assert!(PlayOptions { bitrate_kbps: 8, ..PlayOptions::default() }.validate().is_err());
        assert!(
            PlayOptions { expected_packet_loss: 101.0, ..PlayOptions::default() }
                .validate()
                .is_err()
        );
    }
}
