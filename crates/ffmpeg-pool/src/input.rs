//! What FFmpeg reads: a file, a URL, a pipe or bytes in memory.

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ChildStdin;
use std::thread::JoinHandle;

use bytes::Bytes;

/// An input for FFmpeg.
///
/// Files and URLs are *seekable*: the streaming mode can restart FFmpeg at an offset, and the
/// cache can key them. Pipes and in-memory bytes are fed through FFmpeg's standard input by a
/// helper thread.
pub enum Input {
    /// A local file.
    File(PathBuf),
    /// Anything FFmpeg opens by name: `http(s)://`, `rtmp://`, `lavfi` graphs with `-f`, ...
    Url(String),
    /// A one-shot byte stream, fed to FFmpeg's standard input.
    Reader(Box<dyn Read + Send>),
    /// Bytes in memory, fed to FFmpeg's standard input.
    Bytes(Bytes),
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Url(u) => f.debug_tuple("Url").field(u).finish(),
            Self::Reader(_) => f.write_str("Reader(..)"),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl From<PathBuf> for Input {
    fn from(p: PathBuf) -> Self {
        Self::File(p)
    }
}

impl From<&std::path::Path> for Input {
    fn from(p: &std::path::Path) -> Self {
        Self::File(p.to_path_buf())
    }
}

impl Input {
    /// Whether FFmpeg can be restarted on this input at an offset (files and URLs).
    pub fn is_seekable(&self) -> bool {
        matches!(self, Self::File(_) | Self::Url(_))
    }

    /// A copy for another FFmpeg run; `None` for a one-shot reader.
    pub fn try_clone(&self) -> Option<Self> {
        match self {
            Self::File(p) => Some(Self::File(p.clone())),
            Self::Url(u) => Some(Self::Url(u.clone())),
            Self::Bytes(b) => Some(Self::Bytes(b.clone())),
            Self::Reader(_) => None,
        }
    }

    /// A stable identity for the cache: files by absolute path, URLs by text. `None` for pipes.
    pub fn cache_key(&self) -> Option<String> {
        match self {
            Self::File(p) => {
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                Some(format!("file:{}", abs.display()))
            }
            Self::Url(u) => Some(format!("url:{u}")),
            Self::Reader(_) | Self::Bytes(_) => None,
        }
    }

    /// The `-i` argument and, for pipes, what must be fed to standard input.
    pub(crate) fn into_arg(self) -> (OsString, Option<Feeder>) {
        match self {
            Self::File(p) => {
                // A leading `-` or a `proto:` prefix must not be read as an option or protocol.
                let mut arg = OsString::from("file:");
                arg.push(p.as_os_str());
                (arg, None)
            }
            Self::Url(u) => (u.into(), None),
            Self::Reader(r) => ("pipe:0".into(), Some(Feeder(FeedSource::Reader(r)))),
            Self::Bytes(b) => ("pipe:0".into(), Some(Feeder(FeedSource::Bytes(b)))),
        }
    }
}

enum FeedSource {
    Reader(Box<dyn Read + Send>),
    Bytes(Bytes),
}

/// Copies a pipe input into a child's standard input on a helper thread.
pub(crate) struct Feeder(FeedSource);

impl Feeder {
    /// Starts copying; the thread ends when the input ends or the child closes its stdin.
    pub(crate) fn start(self, stdin: Option<ChildStdin>) -> Option<JoinHandle<()>> {
        let mut stdin = stdin?;
        std::thread::Builder::new()
            .name("ffmpeg-stdin".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = match self.0 {
                    FeedSource::Reader(mut r) => std::io::copy(&mut r, &mut stdin).map(drop),
                    FeedSource::Bytes(b) => stdin.write_all(&b),
                };
            })
            .ok()
    }
}
