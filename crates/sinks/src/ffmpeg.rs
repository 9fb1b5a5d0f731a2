//! Recording through FFmpeg into any format it writes (MP3, Ogg/Opus, FLAC, M4A, ...).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ChildStdin;

use voxwire_ffmpeg::{Supervised, ToolsConfig};

use crate::{Codec, Error, MediaPacket, MediaType, Sink};

/// Settings of an [`FfmpegSink`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FfmpegSinkConfig {
    /// Where `ffmpeg` is and how much of its stderr to keep.
    pub tools: ToolsConfig,
    /// Output options placed before the output path (for example `["-c:a", "libmp3lame",
    /// "-b:a", "128k"]`). Without them FFmpeg picks the codec from the file extension.
    pub output_options: Vec<String>,
}

impl FfmpegSinkConfig {
    /// Adds output options.
    #[must_use]
    pub fn output_options<I, S>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.output_options.extend(options.into_iter().map(Into::into));
        self
    }

    /// Uses these tools.
    #[must_use]
    pub fn tools(mut self, tools: ToolsConfig) -> Self {
        self.tools = tools;
        self
    }
}

/// Pipes decoded PCM (48 kHz stereo s16le) into an FFmpeg child that encodes it to a file.
///
/// [`Sink::cleanup`] closes FFmpeg's input and waits for it to finish writing, so the file is
/// complete (trailer written) when cleanup returns; a failed encode is reported with FFmpeg's
/// stderr. Dropping the sink without cleanup kills FFmpeg. A missing `ffmpeg` is
/// [`voxwire_ffmpeg::Error::NotFound`] at creation.
#[derive(Debug)]
pub struct FfmpegSink {
    child: Option<Supervised>,
    stdin: Option<ChildStdin>,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl FfmpegSink {
    /// Starts FFmpeg writing to `path` (overwritten).
    pub fn create(path: impl AsRef<Path>, config: &FfmpegSinkConfig) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let mut cmd = config.tools.ffmpeg_command();
        cmd.args(["-f", "s16le", "-ar", "48000", "-ac", "2", "-i", "pipe:0"]);
        cmd.args(&config.output_options);
        cmd.arg("-y");
        let mut arg = std::ffi::OsString::from("file:");
        arg.push(path.as_os_str());
        cmd.arg(arg);
        let mut child = Supervised::spawn(cmd, config.tools.stderr_limit_bytes(), true)?;
        let stdin = child.take_stdin();
        drop(child.take_stdout());
        Ok(Self { child: Some(child), stdin, path, bytes: Vec::with_capacity(7680) })
    }

    /// The output path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the child after an I/O failure and reports why it failed.
    fn fail(&mut self, e: std::io::Error) -> Error {
        self.stdin = None;
        match self.child.take() {
            Some(child) => match child.finish() {
                Err(ffmpeg) => Error::Ffmpeg(ffmpeg),
                Ok(()) => Error::File { path: self.path.clone(), source: e },
            },
            None => Error::File { path: self.path.clone(), source: e },
        }
    }
}

impl Sink for FfmpegSink {
    fn name(&self) -> &'static str {
        "ffmpeg"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        self.child.is_some() && media == MediaType::Audio && codec == Codec::Pcm
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        let Some(stdin) = self.stdin.as_mut() else { return Err(Error::Closed("ffmpeg")) };
        let Some(pcm) = &packet.pcm else { return Ok(()) };
        self.bytes.clear();
        self.bytes.extend(pcm.iter().flat_map(|s| s.to_le_bytes()));
        if let Err(e) = stdin.write_all(&self.bytes) {
            return Err(self.fail(e));
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Error> {
        self.stdin = None;
        match self.child.take() {
            Some(child) => child.finish().map_err(Error::Ffmpeg),
            None => Ok(()),
        }
    }
    fn is_closed(&self) -> bool {
        self.child.is_none()
    }
}
