//! Encoder, decoder and hardware-acceleration detection from `ffmpeg -encoders`, `-decoders`
//! and `-hwaccels`.

use crate::error::{Error, Result};

/// What a codec handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `V`
    Video,
    /// `A`
    Audio,
    /// `S`
    Subtitle,
    /// `D` (data) or anything else.
    Data,
}

/// One line of `ffmpeg -encoders` / `-decoders`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecEntry {
    /// Audio, video, ...
    pub kind: MediaKind,
    /// Implementation name (`libopus`, `h264_vaapi`).
    pub name: String,
    /// The codec it implements when different from `name` (`(codec opus)`), else `name`.
    pub codec: String,
    /// Human description.
    pub description: String,
    /// Frame-level multithreading.
    pub frame_threads: bool,
    /// Slice-level multithreading.
    pub slice_threads: bool,
    /// Marked experimental (needs `-strict experimental`).
    pub experimental: bool,
}

/// What this FFmpeg build can do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Encoders.
    pub encoders: Vec<CodecEntry>,
    /// Decoders.
    pub decoders: Vec<CodecEntry>,
    /// Hardware acceleration methods (`vaapi`, `cuda`, ...).
    pub hwaccels: Vec<String>,
}

impl Capabilities {
    /// Parses the three listings.
    pub fn parse(encoders: &str, decoders: &str, hwaccels: &str) -> Result<Self> {
        Ok(Self {
            encoders: parse_codecs(encoders, "ffmpeg -encoders")?,
            decoders: parse_codecs(decoders, "ffmpeg -decoders")?,
            hwaccels: parse_hwaccels(hwaccels)?,
        })
    }

    /// The encoder called `name`.
    pub fn encoder(&self, name: &str) -> Option<&CodecEntry> {
        self.encoders.iter().find(|c| c.name == name)
    }

    /// The decoder called `name`.
    pub fn decoder(&self, name: &str) -> Option<&CodecEntry> {
        self.decoders.iter().find(|c| c.name == name)
    }

    /// Whether a non-experimental encoder for `codec` exists (for example `"opus"`).
    pub fn can_encode(&self, codec: &str) -> bool {
        self.encoders.iter().any(|c| c.codec == codec && !c.experimental)
    }

    /// Whether some decoder handles `codec`.
    pub fn can_decode(&self, codec: &str) -> bool {
        self.decoders.iter().any(|c| c.codec == codec)
    }

    /// Whether hardware acceleration method `name` is compiled in (not whether a device exists).
    pub fn has_hwaccel(&self, name: &str) -> bool {
        self.hwaccels.iter().any(|h| h == name)
    }
}

/// Parses `ffmpeg -encoders` or `-decoders`: a legend, a `------` line, then one codec a line:
/// six flag characters, the name, the description (ending in `(codec X)` when the name is not
/// the codec's).
pub fn parse_codecs(text: &str, listing: &'static str) -> Result<Vec<CodecEntry>> {
    let mut lines = text.lines().enumerate();
    if !lines.by_ref().any(|(_, l)| l.trim_start().starts_with("------")) {
        return Err(Error::Capabilities { listing, line: text.lines().count() + 1 });
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || Error::Capabilities { listing, line: i + 1 };
        let (flags, rest) = line.split_once(' ').ok_or_else(bad)?;
        let f = flags.as_bytes();
        if f.len() != 6 {
            return Err(bad());
        }
        let rest = rest.trim_start();
        let (name, description) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let description = description.trim();
        let codec = description
            .rsplit_once("(codec ")
            .and_then(|(_, t)| t.strip_suffix(')'))
            .unwrap_or(name);
        let kind = match f.first() {
            Some(b'V') => MediaKind::Video,
            Some(b'A') => MediaKind::Audio,
            Some(b'S') => MediaKind::Subtitle,
            _ => MediaKind::Data,
        };
        out.push(CodecEntry {
            kind,
            name: name.to_owned(),
            codec: codec.to_owned(),
            description: description.to_owned(),
            frame_threads: f.get(1) == Some(&b'F'),
            slice_threads: f.get(2) == Some(&b'S'),
            experimental: f.get(3) == Some(&b'X'),
        });
    }
    Ok(out)
}

/// Parses `ffmpeg -hwaccels`: a title line, then one method a line.
pub fn parse_hwaccels(text: &str) -> Result<Vec<String>> {
    let mut lines = text.lines();
    match lines.next() {
        Some(l) if l.starts_with("Hardware acceleration methods") => {}
        _ => return Err(Error::Capabilities { listing: "ffmpeg -hwaccels", line: 1 }),
    }
    Ok(lines.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENC: &str = include_str!("../tests/data/ffmpeg-5.1-encoders.txt");
    const DEC: &str = include_str!("../tests/data/ffmpeg-5.1-decoders.txt");
    const HW: &str = include_str!("../tests/data/ffmpeg-5.1-hwaccels.txt");

    #[test]
    fn parses_captured_ffmpeg_5_1() {
        let c = Capabilities::parse(ENC, DEC, HW).unwrap();
        assert_eq!(c.encoders.len(), 227 - 10);
        assert_eq!(c.decoders.len(), 526 - 10);
        let lib = c.encoder("libopus").unwrap();
        assert_eq!(
            (lib.kind, lib.codec.as_str(), lib.experimental),
            (MediaKind::Audio, "opus", false)
        );
        assert!(c.encoder("opus").unwrap().experimental);
        assert!(c.can_encode("opus"));
        assert!(c.can_decode("mp3"));
        assert!(!c.can_encode("no-such-codec"));
        let a64 = c.encoder("a64multi5").unwrap();
        assert_eq!(a64.codec, "a64_multi5");
        assert_eq!(a64.kind, MediaKind::Video);
        assert_eq!(c.hwaccels, ["vdpau", "cuda", "vaapi", "qsv", "drm", "opencl", "vulkan"]);
        assert!(c.has_hwaccel("vaapi"));
    }

    #[test]
    fn rejects_other_text() {
        assert!(parse_codecs("no separator here", "x").is_err());
        assert!(parse_codecs(" ------\n VXX something\n", "x").is_err());
        assert!(parse_hwaccels("nope\nvaapi").is_err());
        assert_eq!(
            parse_hwaccels("Hardware acceleration methods:\n\n").unwrap(),
            Vec::<String>::new()
        );
    }
}
