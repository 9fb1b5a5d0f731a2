//! FFmpeg-backed sources: anything FFmpeg reads, as PCM or as Opus.
//!
//! Each source owns one supervised FFmpeg child ([`voxwire_ffmpeg::Supervised`]): dropping the
//! source kills and reaps it at once, so no FFmpeg outlives its source; [`MediaSource::cleanup`]
//! does the same and reports an FFmpeg that had failed. A missing executable is
//! [`voxwire_ffmpeg::Error::NotFound`] at construction, and an FFmpeg that exits with a failure
//! surfaces as [`voxwire_ffmpeg::Error::Exited`] (with the tail of its stderr) from the read that
//! meets the end of its output.
//!
//! For playing many tracks, the shared `voxwire_ffmpeg::Pool` (worker limit, transcode-once
//! cache) is available through [`PooledOpusSource`].

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::ChildStdout;
use std::thread::JoinHandle;

use voxwire_ffmpeg::ogg::OggOpusDemuxer;
use voxwire_ffmpeg::{Input, PacketReader, Supervised, ToolsConfig, probe};

use crate::pcm::{bytes_to_frame, read_full};
use crate::{AudioFrame, AudioKind, AudioRead, Error, FRAME_BYTES, FRAME_SAMPLES, MediaSource};

/// Settings shared by the FFmpeg sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FfmpegSourceConfig {
    /// Executables and stderr bound.
    pub tools: ToolsConfig,
    /// Options placed before `-i` (for example `["-f", "lavfi"]` or `["-ss", "30"]`).
    pub input_options: Vec<String>,
    /// Output options placed after the input, before the output format (for example
    /// `["-af", "loudnorm"]`).
    pub output_options: Vec<String>,
    /// Opus bit rate when encoding (bits per second). Default 128 000.
    pub bitrate: u32,
}

impl Default for FfmpegSourceConfig {
    fn default() -> Self {
        Self {
            tools: ToolsConfig::default(),
            input_options: Vec::new(),
            output_options: Vec::new(),
            bitrate: 128_000,
        }
    }
}

impl FfmpegSourceConfig {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds options placed before `-i`.
    #[must_use]
    pub fn input_options<I: IntoIterator<Item = S>, S: Into<String>>(mut self, opts: I) -> Self {
        self.input_options.extend(opts.into_iter().map(Into::into));
        self
    }

    /// Adds output options.
    #[must_use]
    pub fn output_options<I: IntoIterator<Item = S>, S: Into<String>>(mut self, opts: I) -> Self {
        self.output_options.extend(opts.into_iter().map(Into::into));
        self
    }

    /// Sets the Opus bit rate used when encoding.
    #[must_use]
    pub fn bitrate(mut self, bps: u32) -> Self {
        self.bitrate = bps.clamp(6_000, 510_000);
        self
    }

    /// Uses these tools.
    #[must_use]
    pub fn tools(mut self, tools: ToolsConfig) -> Self {
        self.tools = tools;
        self
    }
}

/// How [`FfmpegOpusSource`] produces Opus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpusMode {
    /// Encode with libopus (20 ms frames).
    Encode,
    /// Copy the input's Opus packets without re-encoding (the input must be Opus).
    Copy,
}

/// A running FFmpeg with its stdout and, for pipe inputs, the thread feeding its stdin.
#[derive(Debug)]
struct Child {
    process: Option<Supervised>,
    stdout: Option<ChildStdout>,
    feeder: Option<JoinHandle<()>>,
}

impl Child {
    fn spawn(input: Input, config: &FfmpegSourceConfig, output: &[&str]) -> Result<Self, Error> {
        let mut cmd = config.tools.ffmpeg_command();
        cmd.args(&config.input_options);
        let (arg, feed) = input_arg(input);
        cmd.arg("-i").arg(arg);
        cmd.args(["-map", "0:a:0", "-vn", "-sn", "-dn"]);
        cmd.args(&config.output_options);
        cmd.args(output);
        cmd.arg("pipe:1");
        let mut process =
            Supervised::spawn(cmd, config.tools.stderr_limit_bytes(), feed.is_some())?;
        let stdout = process.take_stdout();
        let feeder = match (feed, process.take_stdin()) {
            (Some(mut source), Some(mut stdin)) => std::thread::Builder::new()
                .name("ffmpeg-feed".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    let _ = std::io::copy(&mut source, &mut stdin);
                    let _ = stdin.flush();
                })
                .ok(),
            _ => None,
        };
        Ok(Self { process: Some(process), stdout, feeder })
    }

    /// Waits for FFmpeg after its output ended and reports its exit.
    fn finish(&mut self) -> Result<(), Error> {
        self.stdout = None;
        let r = match self.process.take() {
            Some(p) => p.finish().map_err(Error::from),
            None => Ok(()),
        };
        drop(self.feeder.take());
        r
    }

    /// Kills FFmpeg now.
    fn kill(&mut self) {
        self.stdout = None;
        drop(self.process.take());
        drop(self.feeder.take());
    }
}

/// The `-i` argument; for pipe inputs also the bytes to feed to stdin.
fn input_arg(input: Input) -> (OsString, Option<Box<dyn Read + Send>>) {
    match input {
        Input::File(p) => {
            let mut arg = OsString::from("file:");
            arg.push(p.as_os_str());
            (arg, None)
        }
        Input::Url(u) => (u.into(), None),
        Input::Reader(r) => ("pipe:0".into(), Some(r)),
        Input::Bytes(b) => ("pipe:0".into(), Some(Box::new(std::io::Cursor::new(b)))),
    }
}

/// Decodes anything FFmpeg reads to 48 kHz stereo s16le PCM.
#[derive(Debug)]
pub struct FfmpegPcmSource {
    child: Child,
    buf: Box<[u8; FRAME_BYTES]>,
    done: bool,
}

impl FfmpegPcmSource {
    /// Starts FFmpeg on `input`.
    pub fn new(input: impl Into<Input>, config: &FfmpegSourceConfig) -> Result<Self, Error> {
        let child =
            Child::spawn(input.into(), config, &["-f", "s16le", "-ar", "48000", "-ac", "2"])?;
        Ok(Self { child, buf: Box::new([0; FRAME_BYTES]), done: false })
    }

    /// The FFmpeg process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.process.as_ref().map(Supervised::id)
    }
}

impl MediaSource for FfmpegPcmSource {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Pcm)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        if self.done {
            return Ok(AudioRead::End);
        }
        let Some(stdout) = self.child.stdout.as_mut() else { return Ok(AudioRead::End) };
        let n = match read_full(stdout, &mut self.buf[..]) {
            Ok(n) => n,
            Err(e) => {
                self.done = true;
                self.child.kill();
                return Err(e.into());
            }
        };
        if n < FRAME_BYTES {
            self.done = true;
            self.child.finish()?;
        }
        if n < 2 {
            return Ok(AudioRead::End);
        }
        bytes_to_frame(&self.buf[..n], frame);
        Ok(AudioRead::Frame)
    }

    fn is_finished(&self) -> bool {
        self.done
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.done = true;
        self.child.kill();
        Ok(())
    }
}

/// Plays anything FFmpeg reads as Opus packets: encoded with libopus, or copied when the input
/// already is Opus (see [`from_probe`](Self::from_probe)), so no quality is lost to re-encoding.
#[derive(Debug)]
pub struct FfmpegOpusSource {
    child: Child,
    demux: OggOpusDemuxer,
    chunk: Box<[u8; 8192]>,
    mode: OpusMode,
    /// Kept to re-encode when a copied stream turns out not to use 20 ms frames.
    retry: Option<(Input, FfmpegSourceConfig)>,
    checked: bool,
    done: bool,
}

impl FfmpegOpusSource {
    /// Starts FFmpeg on `input` in `mode`.
    pub fn new(
        input: impl Into<Input>,
        config: &FfmpegSourceConfig,
        mode: OpusMode,
    ) -> Result<Self, Error> {
        let input = input.into();
        let retry = if mode == OpusMode::Copy {
            input.try_clone().map(|i| (i, config.clone()))
        } else {
            None
        };
        let child = spawn_opus(input, config, mode)?;
        Ok(Self {
            child,
            demux: OggOpusDemuxer::new().without_crc_check(),
            chunk: Box::new([0; 8192]),
            mode,
            retry,
            checked: mode == OpusMode::Encode,
            done: false,
        })
    }

    /// Probes `input` with ffprobe and copies its Opus audio if it already is Opus, else encodes.
    ///
    /// A one-shot pipe input cannot be probed and read again, so it is always encoded.
    pub fn from_probe(input: impl Into<Input>, config: &FfmpegSourceConfig) -> Result<Self, Error> {
        let input = input.into();
        let mode = match input.try_clone() {
            Some(probe_input) => {
                let info = probe(&config.tools, probe_input)?;
                if info.audio().and_then(|a| a.codec_name.as_deref()) == Some("opus") {
                    OpusMode::Copy
                } else {
                    OpusMode::Encode
                }
            }
            None => OpusMode::Encode,
        };
        Self::new(input, config, mode)
    }

    /// Whether packets are copied or encoded.
    pub fn mode(&self) -> OpusMode {
        self.mode
    }

    /// The FFmpeg process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.process.as_ref().map(Supervised::id)
    }

    fn next_packet(&mut self) -> Result<Option<voxwire_ffmpeg::OpusPacket>, Error> {
        loop {
            if let Some(p) = self.demux.poll_packet()? {
                return Ok(Some(p));
            }
            let Some(stdout) = self.child.stdout.as_mut() else { return Ok(None) };
            let n = match stdout.read(&mut self.chunk[..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.child.kill();
                    return Err(e.into());
                }
            };
            if n == 0 {
                self.child.finish()?;
                self.demux.finish()?;
                return Ok(None);
            }
            self.demux.push(&self.chunk[..n]);
        }
    }
}

fn spawn_opus(input: Input, config: &FfmpegSourceConfig, mode: OpusMode) -> Result<Child, Error> {
    let bitrate = config.bitrate.to_string();
    let out: Vec<&str> = match mode {
        OpusMode::Copy => vec!["-c:a", "copy", "-f", "ogg"],
        OpusMode::Encode => vec![
            "-ar",
            "48000",
            "-ac",
            "2",
            "-c:a",
            "libopus",
            "-b:a",
            &bitrate,
            "-frame_duration",
            "20",
            "-application",
            "audio",
            "-f",
            "ogg",
        ],
    };
    Child::spawn(input, config, &out)
}

impl MediaSource for FfmpegOpusSource {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Opus)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        if self.done {
            return Ok(AudioRead::End);
        }
        let packet = match self.next_packet() {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        let Some(packet) = packet else {
            self.done = true;
            return Ok(AudioRead::End);
        };
        if !self.checked {
            self.checked = true;
            // Discord paces one packet per 20 ms: a copied stream with other frame sizes is
            // re-encoded instead.
            if packet.samples as usize != FRAME_SAMPLES
                && let Some((input, config)) = self.retry.take()
            {
                self.child.kill();
                *self = Self::new(input, &config, OpusMode::Encode)?;
                return self.read_audio(frame);
            }
        }
        frame.set_opus(&packet.data)?;
        Ok(AudioRead::Frame)
    }

    fn is_finished(&self) -> bool {
        self.done
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.done = true;
        self.child.kill();
        Ok(())
    }
}

/// Opus packets from the shared FFmpeg pool (`voxwire_ffmpeg::Pool::play` or `stream`), which
/// bounds the number of FFmpeg processes and encodes each track once for every listener.
///
/// [`read_audio`](MediaSource::read_audio) blocks while the pool's encoder is behind.
#[derive(Debug)]
pub struct PooledOpusSource {
    reader: Option<PacketReader>,
}

impl PooledOpusSource {
    /// Plays the packets of `reader`.
    pub fn new(reader: PacketReader) -> Self {
        Self { reader: Some(reader) }
    }
}

impl MediaSource for PooledOpusSource {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Opus)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        let Some(reader) = self.reader.as_mut() else { return Ok(AudioRead::End) };
        match reader.next_packet() {
            Ok(Some(p)) => {
                frame.set_opus(&p.data)?;
                Ok(AudioRead::Frame)
            }
            Ok(None) => {
                self.reader = None;
                Ok(AudioRead::End)
            }
            Err(e) => {
                self.reader = None;
                Err(e.into())
            }
        }
    }

    fn is_finished(&self) -> bool {
        self.reader.is_none()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.reader = None;
        Ok(())
    }
}
