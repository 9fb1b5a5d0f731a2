//! The video codecs Discord negotiates.

use core::fmt;
use core::str::FromStr;

/// A video codec, as named in the voice gateway's Select Protocol `codecs` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// H.264 / AVC, RTP payload format RFC 6184.
    H264,
    /// H.265 / HEVC, RTP payload format RFC 7798.
    H265,
    /// VP8, RTP payload format RFC 7741.
    Vp8,
    /// VP9, RTP payload format RFC 9628.
    Vp9,
    /// AV1, RTP payload format of the Alliance for Open Media.
    Av1,
}

impl Codec {
    /// Every codec, in declaration order.
    pub const ALL: [Self; 5] = [Self::H264, Self::H265, Self::Vp8, Self::Vp9, Self::Av1];

    /// The name used by the voice gateway (`"H264"`, `"H265"`, `"VP8"`, `"VP9"`, `"AV1"`), which
    /// is also the SDP `rtpmap` encoding name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::H264 => "H264",
            Self::H265 => "H265",
            Self::Vp8 => "VP8",
            Self::Vp9 => "VP9",
            Self::Av1 => "AV1",
        }
    }

    /// The media type (`"video/H264"`, …).
    pub const fn mime(self) -> &'static str {
        match self {
            Self::H264 => "video/H264",
            Self::H265 => "video/H265",
            Self::Vp8 => "video/VP8",
            Self::Vp9 => "video/VP9",
            Self::Av1 => "video/AV1",
        }
    }

    /// Looks a codec up by gateway name or media type, ignoring ASCII case (`"h264"`,
    /// `"video/VP8"`, `"HEVC"` for H265).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.strip_prefix("video/").or_else(|| name.strip_prefix("VIDEO/")).unwrap_or(name);
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(n))
            .or_else(|| n.eq_ignore_ascii_case("HEVC").then_some(Self::H265))
    }

    /// `true` for H264 and H265, whose Annex B framing DAVE rewrites and checks for start codes.
    pub const fn is_h26x(self) -> bool {
        matches!(self, Self::H264 | Self::H265)
    }

    /// RTP clock rate: 90 kHz for every video codec.
    pub const fn clock_rate(self) -> u32 {
        90_000
    }

    /// The payload types voxwire announces (protocol.md 6.3): `(media, rtx)`.
    pub const fn default_payload_types(self) -> (u8, u8) {
        match self {
            Self::Av1 => (101, 102),
            Self::H265 => (103, 104),
            Self::H264 => (105, 106),
            Self::Vp8 => (107, 108),
            Self::Vp9 => (109, 110),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The string named no known video codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown video codec {0:?}")]
pub struct UnknownCodec(pub String);

impl FromStr for Codec {
    type Err = UnknownCodec;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownCodec(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Codec::ALL {
            assert_eq!(Codec::from_name(c.name()), Some(c));
            assert_eq!(Codec::from_name(c.mime()), Some(c));
            assert_eq!(c.name().to_ascii_lowercase().parse::<Codec>().unwrap(), c);
            assert_eq!(c.to_string(), c.name());
        }
        assert_eq!(Codec::from_name("hevc"), Some(Codec::H265));
        assert!("opus".parse::<Codec>().is_err());
        assert!(Codec::H265.is_h26x() && !Codec::Av1.is_h26x());
    }
}
