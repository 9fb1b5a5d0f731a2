//! Transport encryption modes: names, per-mode layout facts, and negotiation.
#![expect(deprecated, reason = "the deprecated modes are still named, parsed and described here")]

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Bytes of the AEAD or Poly1305 tag in every mode.
pub const TAG_LEN: usize = 16;
/// Bytes of the nonce suffix that the counter-based modes append to each packet.
pub const NONCE_SUFFIX_LEN: usize = 4;
/// Bytes of the random nonce that [`TransportMode::XSalsa20Poly1305Suffix`] appends.
pub(crate) const XSALSA_NONCE_LEN: usize = 24;
/// Bytes of the transport key (the Session Description's `secret_key`).
pub const KEY_LEN: usize = 32;
/// Bytes of the clear RTCP header in every mode: V/P/RC, PT, length, sender SSRC.
pub const RTCP_CLEAR_LEN: usize = 8;
/// Bytes of the fixed RTP header.
pub(crate) const RTP_FIXED_LEN: usize = voxwire_rtp::FIXED_HEADER_LEN;

/// A transport encryption mode, as named in Ready's `modes` and Select Protocol's `mode`.
///
/// Only the two rtpsize AEAD modes are accepted by Discord today. The others were discontinued
/// on 2024-11-18 and are kept, deprecated, to read old captures and to let the local server talk
/// to old clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportMode {
    /// `aead_aes256_gcm_rtpsize`: AES-256-GCM, AAD = the RTP header up to and including the
    /// extension preamble, 4-byte nonce suffix. Preferred when offered.
    AeadAes256GcmRtpsize,
    /// `aead_xchacha20_poly1305_rtpsize`: XChaCha20-Poly1305 (IETF, 24-byte nonce), same layout.
    /// Always offered by Discord.
    AeadXChaCha20Poly1305Rtpsize,
    /// `xsalsa20_poly1305_lite_rtpsize`: secretbox (`MAC || ct`), rtpsize clear header (not
    /// authenticated), 4-byte nonce suffix.
    #[deprecated(note = "discontinued by Discord on 2024-11-18; for old captures and tests only")]
    XSalsa20Poly1305LiteRtpsize,
    /// `aead_aes256_gcm`: AES-256-GCM over everything after the 12-byte fixed header, 4-byte
    /// nonce suffix.
    #[deprecated(note = "discontinued by Discord on 2024-11-18; for old captures and tests only")]
    AeadAes256Gcm,
    /// `xsalsa20_poly1305`: secretbox, nonce = the clear header padded with zeros, nothing
    /// appended.
    #[deprecated(note = "discontinued by Discord on 2024-11-18; for old captures and tests only")]
    XSalsa20Poly1305,
    /// `xsalsa20_poly1305_suffix`: secretbox, 24-byte nonce appended to each packet.
    #[deprecated(note = "discontinued by Discord on 2024-11-18; for old captures and tests only")]
    XSalsa20Poly1305Suffix,
    /// `xsalsa20_poly1305_lite`: secretbox, 4-byte nonce suffix.
    #[deprecated(note = "discontinued by Discord on 2024-11-18; for old captures and tests only")]
    XSalsa20Poly1305Lite,
}

/// The cipher a mode runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Aes256Gcm,
    XChaCha20Poly1305,
    XSalsa20Poly1305,
}

/// Where the nonce of a packet comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NonceSource {
    /// A 4-byte counter appended to the packet.
    Suffix4,
    /// 24 bytes appended to the packet.
    Suffix24,
    /// The clear header itself, zero-padded (nothing appended).
    Header,
}

impl TransportMode {
    /// Every mode, current ones first, in the default preference order.
    pub const ALL: [Self; 7] = [
        Self::AeadAes256GcmRtpsize,
        Self::AeadXChaCha20Poly1305Rtpsize,
        Self::XSalsa20Poly1305LiteRtpsize,
        Self::AeadAes256Gcm,
        Self::XSalsa20Poly1305Lite,
        Self::XSalsa20Poly1305Suffix,
        Self::XSalsa20Poly1305,
    ];

    /// The default preference of [`TransportMode::negotiate`]: AES-256-GCM first (Discord's
    /// documented preference, and about twice as fast as XChaCha20-Poly1305 on CPUs with AES
    /// instructions), then XChaCha20-Poly1305 (which Discord always offers).
    pub const PREFERENCE: [Self; 2] =
        [Self::AeadAes256GcmRtpsize, Self::AeadXChaCha20Poly1305Rtpsize];

    /// The wire name, as in Ready's `modes` and Select Protocol's `mode`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AeadAes256GcmRtpsize => "aead_aes256_gcm_rtpsize",
            Self::AeadXChaCha20Poly1305Rtpsize => "aead_xchacha20_poly1305_rtpsize",
            Self::XSalsa20Poly1305LiteRtpsize => "xsalsa20_poly1305_lite_rtpsize",
            Self::AeadAes256Gcm => "aead_aes256_gcm",
            Self::XSalsa20Poly1305 => "xsalsa20_poly1305",
            Self::XSalsa20Poly1305Suffix => "xsalsa20_poly1305_suffix",
            Self::XSalsa20Poly1305Lite => "xsalsa20_poly1305_lite",
        }
    }

    /// Whether Discord discontinued this mode (2024-11-18). [`negotiate`](Self::negotiate) never
    /// picks one of these.
    pub const fn is_deprecated(self) -> bool {
        !matches!(self, Self::AeadAes256GcmRtpsize | Self::AeadXChaCha20Poly1305Rtpsize)
    }

    /// Whether the clear RTP header extends over the CSRCs and the extension preamble (the
    /// `_rtpsize` modes) rather than only the 12-byte fixed header.
    pub const fn is_rtpsize(self) -> bool {
        matches!(
            self,
            Self::AeadAes256GcmRtpsize
                | Self::AeadXChaCha20Poly1305Rtpsize
                | Self::XSalsa20Poly1305LiteRtpsize
        )
    }

    /// Whether the clear header is authenticated (used as AAD). False for the secretbox modes.
    pub const fn authenticates_header(self) -> bool {
        matches!(self.algorithm(), Algorithm::Aes256Gcm | Algorithm::XChaCha20Poly1305)
    }

    /// Bytes that encryption adds to a packet (RTP and RTCP alike): tag plus appended nonce.
    pub const fn overhead(self) -> usize {
        TAG_LEN
            + match self.nonce_source() {
                NonceSource::Suffix4 => NONCE_SUFFIX_LEN,
                NonceSource::Suffix24 => XSALSA_NONCE_LEN,
                NonceSource::Header => 0,
            }
    }

    pub(crate) const fn algorithm(self) -> Algorithm {
        match self {
            Self::AeadAes256GcmRtpsize | Self::AeadAes256Gcm => Algorithm::Aes256Gcm,
            Self::AeadXChaCha20Poly1305Rtpsize => Algorithm::XChaCha20Poly1305,
            Self::XSalsa20Poly1305LiteRtpsize
            | Self::XSalsa20Poly1305
            | Self::XSalsa20Poly1305Suffix
            | Self::XSalsa20Poly1305Lite => Algorithm::XSalsa20Poly1305,
        }
    }

    pub(crate) const fn nonce_source(self) -> NonceSource {
        match self {
            Self::XSalsa20Poly1305 => NonceSource::Header,
            Self::XSalsa20Poly1305Suffix => NonceSource::Suffix24,
            _ => NonceSource::Suffix4,
        }
    }

    /// Picks the mode to select from the server's offered `modes`, by
    /// [`PREFERENCE`](Self::PREFERENCE). Unknown and deprecated names are ignored.
    ///
    /// ```
    /// use voxwire_crypto::transport::TransportMode;
    /// let offered = ["aead_xchacha20_poly1305_rtpsize", "aead_aes256_gcm_rtpsize", "xsalsa20_poly1305"];
    /// assert_eq!(TransportMode::negotiate(offered)?, TransportMode::AeadAes256GcmRtpsize);
    /// # Ok::<(), voxwire_crypto::Error>(())
    /// ```
    pub fn negotiate<I, S>(offered: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::negotiate_with(offered, &Self::PREFERENCE)
    }

    /// Picks the first mode of `preference` that the server offers. Deprecated modes are picked
    /// only if `preference` names them (the local server's tests do).
    pub fn negotiate_with<I, S>(offered: I, preference: &[Self]) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        // Rank = index in `preference`; the lowest rank offered wins, whatever the offer order.
        let mut best: Option<usize> = None;
        for name in offered {
            let Ok(mode) = name.as_ref().parse::<Self>() else { continue };
            if let Some(rank) = preference.iter().position(|&p| p == mode) {
                best = Some(best.map_or(rank, |b| b.min(rank)));
            }
        }
        best.and_then(|rank| preference.get(rank).copied()).ok_or(Error::NoCommonMode)
    }
}

impl FromStr for TransportMode {
    type Err = Error;

    /// Parses a wire name exactly (names are lower-case ASCII on the wire).
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| Error::UnknownMode { name: s.to_owned() })
    }
}

impl fmt::Display for TransportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in TransportMode::ALL {
            assert_eq!(m.name().parse::<TransportMode>().unwrap(), m);
            assert_eq!(m.to_string(), m.name());
        }
        assert!(matches!(
            "AEAD_AES256_GCM_RTPSIZE".parse::<TransportMode>(),
            Err(Error::UnknownMode { .. })
        ));
    }

    #[test]
    fn negotiation_prefers_aes_then_xchacha_and_ignores_deprecated() {
        let m = TransportMode::negotiate(["xsalsa20_poly1305", "aead_xchacha20_poly1305_rtpsize"])
            .unwrap();
        assert_eq!(m, TransportMode::AeadXChaCha20Poly1305Rtpsize);
        let m = TransportMode::negotiate([
            "aead_xchacha20_poly1305_rtpsize",
            "bogus",
            "aead_aes256_gcm_rtpsize",
        ])
        .unwrap();
        assert_eq!(m, TransportMode::AeadAes256GcmRtpsize);
        assert!(matches!(
            TransportMode::negotiate([
                "xsalsa20_poly1305",
                "xsalsa20_poly1305_lite",
                "aead_aes256_gcm"
            ]),
            Err(Error::NoCommonMode)
        ));
        assert!(matches!(TransportMode::negotiate(Vec::<String>::new()), Err(Error::NoCommonMode)));
    }

    #[test]
    fn negotiate_with_custom_preference() {
        let pref =
            [TransportMode::XSalsa20Poly1305Lite, TransportMode::AeadXChaCha20Poly1305Rtpsize];
        let m = TransportMode::negotiate_with(
            ["aead_xchacha20_poly1305_rtpsize", "xsalsa20_poly1305_lite"],
            &pref,
        )
        .unwrap();
        assert_eq!(m, TransportMode::XSalsa20Poly1305Lite);
    }

    #[test]
    fn overheads_match_protocol_table() {
        assert_eq!(TransportMode::AeadAes256GcmRtpsize.overhead(), 20);
        assert_eq!(TransportMode::AeadXChaCha20Poly1305Rtpsize.overhead(), 20);
        assert_eq!(TransportMode::XSalsa20Poly1305LiteRtpsize.overhead(), 20);
        assert_eq!(TransportMode::AeadAes256Gcm.overhead(), 20);
        assert_eq!(TransportMode::XSalsa20Poly1305.overhead(), 16);
        assert_eq!(TransportMode::XSalsa20Poly1305Suffix.overhead(), 40);
        assert_eq!(TransportMode::XSalsa20Poly1305Lite.overhead(), 20);
        assert!(!TransportMode::AeadAes256GcmRtpsize.is_deprecated());
        assert!(TransportMode::XSalsa20Poly1305Lite.is_deprecated());
    }
}
