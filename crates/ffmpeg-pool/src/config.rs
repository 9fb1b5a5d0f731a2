//! Encoding and streaming settings.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::error::{Error, Result};

/// How a source is encoded to Opus. Part of the cache key: the same input with the same
/// `OpusConfig` is encoded once.
#[derive(Clone, Debug, PartialEq)]
pub struct OpusConfig {
    pub(crate) bitrate: u32,
    pub(crate) channels: u8,
    pub(crate) volume: Option<f64>,
    pub(crate) filters: Option<String>,
    pub(crate) input_options: Vec<String>,
    pub(crate) complexity: Option<u8>,
}

impl Default for OpusConfig {
    fn default() -> Self {
        Self {
            bitrate: 64_000,
            channels: 2,
            volume: None,
            filters: None,
            input_options: Vec::new(),
            complexity: None,
        }
    }
}

impl OpusConfig {
    /// 64 kbit/s stereo, 20 ms frames, no filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Target bit rate in bits per second (6 000 to 510 000).
    pub fn bitrate(mut self, bps: u32) -> Result<Self> {
        if !(6_000..=510_000).contains(&bps) {
            return Err(Error::InvalidConfig("Opus bit rate must be 6000..=510000 bit/s"));
        }
        self.bitrate = bps;
        Ok(self)
    }

    /// Output channels: 1 or 2.
    pub fn channels(mut self, channels: u8) -> Result<Self> {
        if !(1..=2).contains(&channels) {
            return Err(Error::InvalidConfig("channels must be 1 or 2"));
        }
        self.channels = channels;
        Ok(self)
    }

    /// Linear volume applied before encoding (1.0 unchanged).
    pub fn volume(mut self, gain: f64) -> Result<Self> {
        if !gain.is_finite() || gain < 0.0 {
            return Err(Error::InvalidConfig("volume must be finite and not negative"));
        }
        self.volume = Some(gain);
        Ok(self)
    }

    /// An FFmpeg audio filter chain (`-af`), applied after the volume.
    #[must_use]
    pub fn filters(mut self, chain: impl Into<String>) -> Self {
        self.filters = Some(chain.into());
        self
    }

    /// Options placed before `-i` (such as `["-f", "lavfi"]` or `["-reconnect", "1"]`).
    #[must_use]
    pub fn input_options<I: IntoIterator<Item = S>, S: Into<String>>(mut self, opts: I) -> Self {
        self.input_options = opts.into_iter().map(Into::into).collect();
        self
    }

    /// libopus encoder complexity, 0 (fastest) to 10 (best, libopus's default). Encoding is
    /// most of the CPU a stream costs: 5 takes about two thirds of the time of 10.
    pub fn complexity(mut self, complexity: u8) -> Result<Self> {
        if complexity > 10 {
            return Err(Error::InvalidConfig("Opus complexity must be 0..=10"));
        }
        self.complexity = Some(complexity);
        Ok(self)
    }

    /// The channel count.
    pub fn channel_count(&self) -> u8 {
        self.channels
    }

    /// The part of the cache key that depends on settings.
    pub(crate) fn key(&self) -> String {
        let mut k = format!("b={};c={}", self.bitrate, self.channels);
        if let Some(v) = self.volume {
            let _ = write!(k, ";v={v:.6}");
        }
        if let Some(f) = &self.filters {
            let _ = write!(k, ";af={f}");
        }
        if let Some(c) = self.complexity {
            let _ = write!(k, ";x={c}");
        }
        for o in &self.input_options {
            let _ = write!(k, ";i={o}");
        }
        k
    }

    fn filter_arg(&self) -> Option<String> {
        let mut chain: Vec<String> = Vec::new();
        if let Some(v) = self.volume {
            chain.push(format!("volume={v:.6}"));
        }
        if let Some(f) = &self.filters {
            chain.push(f.clone());
        }
        (!chain.is_empty()).then(|| chain.join(","))
    }

    /// Adds, for every input, the input options, `-ss`/`-t` when given and `-i input`, then
    /// maps the first audio stream of each to its own Opus stream of one Ogg output (logical
    /// streams in input order). Several inputs share one FFmpeg process (and its start-up cost).
    pub(crate) fn apply_many(
        &self,
        cmd: &mut Command,
        inputs: Vec<(OsString, Option<Duration>, Option<Duration>)>,
    ) {
        let n = inputs.len();
        for (input, start, length) in inputs {
            cmd.args(&self.input_options);
            if let Some(s) = start.filter(|s| !s.is_zero()) {
                cmd.arg("-ss").arg(format!("{:.6}", s.as_secs_f64()));
            }
            if let Some(l) = length {
                cmd.arg("-t").arg(format!("{:.6}", l.as_secs_f64()));
            }
            cmd.arg("-i").arg(input);
        }
        for i in 0..n {
            cmd.arg("-map").arg(format!("{i}:a:0"));
        }
        self.output_options(cmd);
    }

    fn output_options(&self, cmd: &mut Command) {
        // One thread per filter graph (FFmpeg starts one per core per graph otherwise, and a
        // batched run has a graph per input): audio filters here are cheap.
        cmd.args(["-filter_threads", "1", "-vn", "-sn", "-dn"]);
        if let Some(af) = self.filter_arg() {
            cmd.arg("-af").arg(af);
        }
        cmd.args(["-ar", "48000", "-ac"])
            .arg(self.channels.to_string())
            .args(["-c:a", "libopus", "-b:a"])
            .arg(self.bitrate.to_string());
        if let Some(c) = self.complexity {
            cmd.arg("-compression_level").arg(c.to_string());
        }
        cmd.args(["-frame_duration", "20", "-application", "audio", "-f", "ogg", "pipe:1"]);
    }

    /// Adds input options, `-ss`/`-t` when given, `-i input` and the Opus-in-Ogg output options.
    pub(crate) fn apply(
        &self,
        cmd: &mut Command,
        input: OsString,
        start: Option<Duration>,
        length: Option<Duration>,
    ) {
        cmd.args(&self.input_options);
        if let Some(s) = start.filter(|s| !s.is_zero()) {
            cmd.arg("-ss").arg(format!("{:.6}", s.as_secs_f64()));
        }
        cmd.arg("-i").arg(input);
        if let Some(l) = length {
            cmd.arg("-t").arg(format!("{:.6}", l.as_secs_f64()));
        }
        cmd.args(["-map", "0:a:0"]);
        self.output_options(cmd);
    }
}

/// Streaming ("hybrid") mode: bounded read-ahead instead of a whole track in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    pub(crate) read_ahead: Duration,
    pub(crate) segment: Option<Duration>,
    pub(crate) first_segment: Duration,
    pub(crate) batch: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            read_ahead: Duration::from_secs(5),
            segment: Some(Duration::from_secs(10)),
            first_segment: Duration::from_secs(2),
            batch: 8,
        }
    }
}

impl StreamConfig {
    /// Refill below 5 s of buffered audio, in segments of 2 s, 4 s, 8 s, then 10 s; one FFmpeg
    /// run may encode the waiting segments of up to 8 streams. At 64 kbit/s a stream holds
    /// about 5 s to 15 s of Opus (under 150 KiB).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many waiting segments (of different streams with the same [`OpusConfig`]) one FFmpeg
    /// run may encode together, as one Ogg output with a logical stream per segment (at least
    /// 1). FFmpeg's start-up (loading its shared libraries, about 90 ms of CPU for the Debian
    /// build) is then paid once per batch instead of once per segment, and fewer processes run.
    #[must_use]
    pub fn batch(mut self, segments: usize) -> Self {
        self.batch = segments.max(1);
        self
    }

    /// The low-water mark: a new segment is requested when less than this is buffered (and for
    /// a single long-lived process, the most it may run ahead of the reader).
    #[must_use]
    pub fn read_ahead(mut self, d: Duration) -> Self {
        self.read_ahead = d.max(Duration::from_millis(100));
        self
    }

    /// Length of the first segment (short, so that playback starts quickly; at most the
    /// segment length).
    #[must_use]
    pub fn first_segment(mut self, d: Duration) -> Self {
        self.first_segment = d.max(Duration::from_millis(100));
        self
    }

    /// Segment length for seekable inputs: FFmpeg runs once per segment and exits, so no process
    /// sits idle between segments. Segments after the first double in length up to this. `None` keeps one process for the whole input, held back by
    /// its pipe (what one-shot inputs always get).
    #[must_use]
    pub fn segment(mut self, d: Option<Duration>) -> Self {
        self.segment = d.map(|d| d.max(Duration::from_secs(1)));
        self
    }
}

/// Signed 16-bit little-endian, 48 kHz, stereo: what [`crate::Pool::decode_pcm`] produces.
pub const PCM_RATE: u32 = 48_000;
/// Channels of decoded PCM.
pub const PCM_CHANNELS: u16 = 2;
/// Bytes of one 20 ms PCM frame (960 samples x 2 channels x 2 bytes).
pub const PCM_FRAME_BYTES: usize = 3840;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn complexity_is_checked_keyed_and_passed_on() {
        assert!(OpusConfig::new().complexity(11).is_err());
        let c = OpusConfig::new().complexity(5).unwrap();
        assert_ne!(c.key(), OpusConfig::new().key());
        let mut cmd = Command::new("ffmpeg");
        c.apply(&mut cmd, "in.mp3".into(), None, None);
        assert!(args(&cmd).windows(2).any(|w| w == ["-compression_level", "5"]));
        let mut plain = Command::new("ffmpeg");
        OpusConfig::new().apply(&mut plain, "in.mp3".into(), None, None);
        assert!(!args(&plain).iter().any(|a| a == "-compression_level"));
    }

    #[test]
    fn a_batch_has_its_own_span_per_input_and_one_output_stream_each() {
        let cfg = OpusConfig::new().input_options(["-f", "mp3"]);
        let mut cmd = Command::new("ffmpeg");
        let s = |ms| Some(Duration::from_millis(ms));
        cfg.apply_many(&mut cmd, vec![("a".into(), None, s(2000)), ("b".into(), s(1500), s(500))]);
        let a = args(&cmd);
        let i = a.iter().position(|x| x == "a").unwrap();
        assert_eq!(a[..i], ["-f", "mp3", "-t", "2.000000", "-i"]);
        let j = a.iter().position(|x| x == "b").unwrap();
        assert_eq!(a[i + 1..j], ["-f", "mp3", "-ss", "1.500000", "-t", "0.500000", "-i"]);
        assert_eq!(a[j + 1..j + 5], ["-map", "0:a:0", "-map", "1:a:0"]);
        assert_eq!(a.iter().filter(|x| *x == "pipe:1").count(), 1);
    }
}
