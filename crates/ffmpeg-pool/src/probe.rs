//! `ffprobe` JSON into typed structures.
//!
//! `ffprobe -print_format json -show_format -show_streams` prints most numbers as strings
//! (`"sample_rate": "48000"`, `"duration": "3.000000"`) and omits what it does not know, so every
//! field here is an `Option` and unparsable numbers become `None` rather than errors.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::input::Input;
use crate::process::{Supervised, ToolsConfig};

/// What a stream carries (`codec_type`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecType {
    /// Audio.
    Audio,
    /// Video.
    Video,
    /// Subtitles.
    Subtitle,
    /// Opaque data.
    Data,
    /// Attachments (fonts, cover art files).
    Attachment,
    /// Anything else, as printed.
    Other(String),
}

impl CodecType {
    fn from_str(s: &str) -> Self {
        match s {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "subtitle" => Self::Subtitle,
            "data" => Self::Data,
            "attachment" => Self::Attachment,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The container (`format` object).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FormatInfo {
    /// Demuxer names, comma-separated as ffprobe prints them (`"mov,mp4,m4a,3gp,3g2,mj2"`).
    pub format_name: String,
    /// Total duration, when known (not for live streams).
    pub duration: Option<Duration>,
    /// Overall bit rate in bits per second.
    pub bit_rate: Option<u64>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Number of streams.
    pub nb_streams: u32,
}

/// One stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// Index in the container.
    pub index: u32,
    /// Audio, video, ...
    pub codec_type: CodecType,
    /// Codec short name (`"mp3"`, `"opus"`, `"h264"`).
    pub codec_name: Option<String>,
    /// Sample rate in Hz (audio).
    pub sample_rate: Option<u32>,
    /// Channel count (audio).
    pub channels: Option<u32>,
    /// Duration of this stream.
    pub duration: Option<Duration>,
    /// Bit rate in bits per second.
    pub bit_rate: Option<u64>,
}

/// What ffprobe says about an input.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProbeInfo {
    /// The container.
    pub format: FormatInfo,
    /// Its streams, in container order.
    pub streams: Vec<StreamInfo>,
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    format: Option<RawFormat>,
    #[serde(default)]
    streams: Vec<RawStream>,
}

#[derive(Deserialize)]
struct RawFormat {
    #[serde(default)]
    format_name: Option<String>,
    #[serde(default)]
    duration: Option<Num>,
    #[serde(default)]
    bit_rate: Option<Num>,
    #[serde(default)]
    size: Option<Num>,
    #[serde(default)]
    nb_streams: Option<Num>,
}

#[derive(Deserialize)]
struct RawStream {
    #[serde(default)]
    index: Option<Num>,
    #[serde(default)]
    codec_type: Option<String>,
    #[serde(default)]
    codec_name: Option<String>,
    #[serde(default)]
    sample_rate: Option<Num>,
    #[serde(default)]
    channels: Option<Num>,
    #[serde(default)]
    duration: Option<Num>,
    #[serde(default)]
    bit_rate: Option<Num>,
}

/// ffprobe prints numbers sometimes as JSON numbers, sometimes as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Num {
    fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Float(_) => None,
            Self::Text(s) => s.trim().parse().ok(),
        }
    }

    fn as_u32(&self) -> Option<u32> {
        self.as_u64().and_then(|v| u32::try_from(v).ok())
    }

    fn as_duration(&self) -> Option<Duration> {
        let secs = match self {
            #[expect(clippy::cast_precision_loss, reason = "durations are far below 2^52 s")]
            Self::Int(i) => *i as f64,
            Self::Float(f) => *f,
            Self::Text(s) => s.trim().parse().ok()?,
        };
        Duration::try_from_secs_f64(secs).ok()
    }
}

impl ProbeInfo {
    /// Parses the JSON printed by `ffprobe -print_format json -show_format -show_streams`.
    pub fn parse_json(json: &[u8]) -> Result<Self> {
        let raw: RawProbe = serde_json::from_slice(json)?;
        let format = raw.format.map_or_else(FormatInfo::default, |f| FormatInfo {
            format_name: f.format_name.unwrap_or_default(),
            duration: f.duration.as_ref().and_then(Num::as_duration),
            bit_rate: f.bit_rate.as_ref().and_then(Num::as_u64),
            size: f.size.as_ref().and_then(Num::as_u64),
            nb_streams: f.nb_streams.as_ref().and_then(Num::as_u32).unwrap_or(0),
        });
        let streams = raw
            .streams
            .into_iter()
            .enumerate()
            .map(|(i, s)| StreamInfo {
                index: s
                    .index
                    .as_ref()
                    .and_then(Num::as_u32)
                    .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX)),
                codec_type: CodecType::from_str(s.codec_type.as_deref().unwrap_or("")),
                codec_name: s.codec_name,
                sample_rate: s.sample_rate.as_ref().and_then(Num::as_u32),
                channels: s.channels.as_ref().and_then(Num::as_u32),
                duration: s.duration.as_ref().and_then(Num::as_duration),
                bit_rate: s.bit_rate.as_ref().and_then(Num::as_u64),
            })
            .collect();
        Ok(Self { format, streams })
    }

    /// The first audio stream, if any.
    pub fn audio(&self) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| s.codec_type == CodecType::Audio)
    }

    /// The best known duration: the container's, else the longest stream's.
    pub fn duration(&self) -> Option<Duration> {
        self.format.duration.or_else(|| self.streams.iter().filter_map(|s| s.duration).max())
    }
}

/// Runs ffprobe on `input` now, on the calling thread (the pool runs it
/// on a pool worker instead).
///
/// A pipe input is consumed by the probe.
pub fn probe(tools: &ToolsConfig, input: Input) -> Result<ProbeInfo> {
    let mut cmd = tools.ffprobe_command();
    cmd.args(["-print_format", "json", "-show_format", "-show_streams"]);
    let (arg, feeder) = input.into_arg();
    cmd.arg("-i").arg(arg);
    let mut child = Supervised::spawn(cmd, tools_stderr_limit(tools), feeder.is_some())?;
    let _feed = feeder.map(|f| f.start(child.take_stdin()));
    let mut out = Vec::new();
    if let Some(mut stdout) = child.take_stdout() {
        std::io::Read::read_to_end(&mut stdout, &mut out)
            .map_err(|source| Error::Io { what: "reading ffprobe output", source })?;
    }
    child.finish()?;
    ProbeInfo::parse_json(&out)
}

fn tools_stderr_limit(tools: &ToolsConfig) -> usize {
    tools.stderr_limit_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP3: &str = r#"{
    "streams": [
        {
            "index": 0,
            "codec_name": "mp3",
            "codec_long_name": "MP3 (MPEG audio layer 3)",
            "codec_type": "audio",
            "sample_fmt": "fltp",
            "sample_rate": "44100",
            "channels": 2,
            "channel_layout": "stereo",
            "duration": "180.062041",
            "bit_rate": "128000"
        },
        { "index": 1, "codec_name": "mjpeg", "codec_type": "video", "width": 300 }
    ],
    "format": {
        "filename": "t.mp3",
        "nb_streams": 2,
        "format_name": "mp3",
        "duration": "180.062041",
        "size": "2881036",
        "bit_rate": "128003"
    }
}"#;

    #[test]
    fn parses_ffprobe_json() {
        let p = ProbeInfo::parse_json(MP3.as_bytes()).unwrap();
        assert_eq!(p.format.format_name, "mp3");
        assert_eq!(p.format.nb_streams, 2);
        assert_eq!(p.format.size, Some(2_881_036));
        assert_eq!(p.format.bit_rate, Some(128_003));
        assert_eq!(p.duration().map(|d| d.as_millis()), Some(180_062));
        let a = p.audio().unwrap();
        assert_eq!(a.codec_name.as_deref(), Some("mp3"));
        assert_eq!((a.sample_rate, a.channels, a.bit_rate), (Some(44_100), Some(2), Some(128_000)));
        assert_eq!(p.streams[1].codec_type, CodecType::Video);
        assert_eq!(p.streams[1].sample_rate, None);
    }

    #[test]
    fn tolerates_missing_and_odd_fields() {
        let p = ProbeInfo::parse_json(br#"{"streams":[{"codec_type":"weird","duration":"N/A"}]}"#)
            .unwrap();
        assert_eq!(p.streams[0].codec_type, CodecType::Other("weird".into()));
        assert_eq!(p.streams[0].duration, None);
        assert_eq!(p.format, FormatInfo::default());
        assert!(ProbeInfo::parse_json(b"[1,2]").is_err());
        assert!(
            ProbeInfo::parse_json(br#"{"format":{"duration":"-5"}}"#).unwrap().duration().is_none()
        );
    }
}
