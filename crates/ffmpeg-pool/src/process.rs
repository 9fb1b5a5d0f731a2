//! Supervised FFmpeg and ffprobe children.
//!
//! A [`Supervised`] child always has its standard error drained by a helper thread into a
//! bounded [`StderrTail`] (so a chatty child can never block on a full pipe, and an error message
//! carries the last lines it printed). Dropping a `Supervised` kills the child and reaps it, so
//! no zombie outlives its owner. [`Supervised::finish`] waits for the exit and turns a failure
//! into [`Error::Exited`] carrying the stderr tail.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Default bound of the kept standard error, in bytes.
pub const DEFAULT_STDERR_LIMIT: usize = 4096;

/// Where the FFmpeg executables are and how their children are supervised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolsConfig {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    stderr_limit: usize,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            stderr_limit: DEFAULT_STDERR_LIMIT,
        }
    }
}

impl ToolsConfig {
    /// `ffmpeg` and `ffprobe` looked up on `PATH`, 4 KiB of stderr kept.
    pub fn new() -> Self {
        Self::default()
    }

    /// The executables named by the environment: `VOXWIRE_FFMPEG` and `VOXWIRE_FFPROBE` when
    /// set (the `ffprobe` next to `VOXWIRE_FFMPEG` when only that is set and one is there),
    /// otherwise `ffmpeg` and `ffprobe` on `PATH`. A way to point a whole program at another
    /// build, such as the small static one `cargo xtask ffmpeg-minimal` makes (see the README).
    ///
    /// ```
    /// let tools = voxwire_ffmpeg::ToolsConfig::from_env();
    /// assert!(!tools.ffmpeg_path().as_os_str().is_empty());
    /// ```
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var_os(k))
    }

    fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        let nonempty = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let mut tools = Self::default();
        if let Some(ffmpeg) = nonempty("VOXWIRE_FFMPEG") {
            let sibling = ffmpeg.with_file_name("ffprobe");
            if ffmpeg.parent().is_some_and(|d| !d.as_os_str().is_empty()) && sibling.is_file() {
                tools.ffprobe = sibling;
            }
            tools.ffmpeg = ffmpeg;
        }
        if let Some(ffprobe) = nonempty("VOXWIRE_FFPROBE") {
            tools.ffprobe = ffprobe;
        }
        tools
    }

    /// Uses this `ffmpeg` executable.
    #[must_use]
    pub fn ffmpeg(mut self, path: impl Into<PathBuf>) -> Self {
        self.ffmpeg = path.into();
        self
    }

    /// Uses this `ffprobe` executable.
    #[must_use]
    pub fn ffprobe(mut self, path: impl Into<PathBuf>) -> Self {
        self.ffprobe = path.into();
        self
    }

    /// Keeps at most `bytes` of each child's standard error (the tail).
    #[must_use]
    pub fn stderr_limit(mut self, bytes: usize) -> Self {
        self.stderr_limit = bytes.max(64);
        self
    }

    /// How many bytes of each child's standard error are kept.
    pub fn stderr_limit_bytes(&self) -> usize {
        self.stderr_limit
    }

    /// The `ffmpeg` executable.
    pub fn ffmpeg_path(&self) -> &Path {
        &self.ffmpeg
    }

    /// The `ffprobe` executable.
    pub fn ffprobe_path(&self) -> &Path {
        &self.ffprobe
    }

    /// A command for `ffmpeg` with the options every job uses: no banner, errors only, never
    /// read the terminal.
    pub fn ffmpeg_command(&self) -> Command {
        let mut c = Command::new(&self.ffmpeg);
        c.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
        c
    }

    /// A command for `ffprobe` with errors-only logging.
    pub fn ffprobe_command(&self) -> Command {
        let mut c = Command::new(&self.ffprobe);
        c.args(["-hide_banner", "-loglevel", "error"]);
        c
    }
}

/// The last `limit` bytes a child wrote to standard error, shared with its drain thread.
#[derive(Clone, Debug)]
pub struct StderrTail {
    inner: Arc<Mutex<VecDeque<u8>>>,
    limit: usize,
}

impl StderrTail {
    /// An empty tail keeping at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { inner: Arc::new(Mutex::new(VecDeque::with_capacity(limit.min(1024)))), limit }
    }

    /// Appends bytes, dropping the oldest beyond the limit.
    pub fn push(&self, bytes: &[u8]) {
        let mut q = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = bytes.get(bytes.len().saturating_sub(self.limit)..).unwrap_or(bytes);
        let overflow = (q.len() + bytes.len()).saturating_sub(self.limit);
        let n = overflow.min(q.len());
        q.drain(..n);
        q.extend(bytes);
    }

    /// The kept bytes as (lossy) UTF-8 with surrounding whitespace trimmed.
    pub fn text(&self) -> String {
        let q = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (a, b) = q.as_slices();
        let mut v = Vec::with_capacity(q.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).trim().to_owned()
    }

    /// How many bytes are kept now.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A running child under supervision. Drop kills and reaps it.
#[derive(Debug)]
pub struct Supervised {
    child: Child,
    program: String,
    stderr: StderrTail,
    drain: Option<JoinHandle<()>>,
    reaped: bool,
}

impl Supervised {
    /// Spawns `cmd` with stdout piped, stderr drained into a tail of `stderr_limit` bytes, and
    /// stdin piped when `pipe_stdin` (otherwise `/dev/null`).
    ///
    /// Returns [`Error::NotFound`] when the executable does not exist.
    pub fn spawn(mut cmd: Command, stderr_limit: usize, pipe_stdin: bool) -> Result<Self> {
        let program_path = PathBuf::from(cmd.get_program());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(if pipe_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                Error::NotFound { program: program_path.clone() }
            } else {
                Error::Spawn { program: program_path.clone(), source }
            }
        })?;
        let stderr = StderrTail::new(stderr_limit);
        let drain = child.stderr.take().and_then(|mut pipe| {
            let tail = stderr.clone();
            std::thread::Builder::new()
                .name("ffmpeg-stderr".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut buf = [0u8; 1024];
                    loop {
                        match pipe.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => tail.push(buf.get(..n).unwrap_or_default()),
                        }
                    }
                })
                .ok()
        });
        let program =
            program_path.file_name().unwrap_or(OsStr::new("ffmpeg")).to_string_lossy().into_owned();
        tracing::trace!(pid = child.id(), %program, "spawned");
        Ok(Self { child, program, stderr, drain, reaped: false })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Takes the child's standard output (once).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Takes the child's standard input (once; only when spawned with `pipe_stdin`).
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The standard error kept so far.
    pub fn stderr_tail(&self) -> String {
        self.stderr.text()
    }

    /// Kills the child (no effect when it already exited). It is reaped by
    /// [`finish`](Self::finish) or on drop.
    pub fn kill(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
        }
    }

    /// Whether the child has exited, without blocking (reaps it when it has).
    pub fn try_exited(&mut self) -> Option<ExitStatus> {
        match self.child.try_wait() {
            Ok(Some(s)) => {
                self.reaped = true;
                Some(s)
            }
            _ => None,
        }
    }

    /// Waits for the child to exit and reaps it. Succeeds on exit status 0; otherwise returns
    /// [`Error::Exited`] with the stderr tail.
    pub fn finish(mut self) -> Result<()> {
        drop(self.child.stdout.take());
        drop(self.child.stdin.take());
        let status =
            self.child.wait().map_err(|source| Error::Io { what: "waiting for child", source })?;
        self.reaped = true;
        if let Some(h) = self.drain.take() {
            let _ = h.join();
        }
        if status.success() {
            Ok(())
        } else {
            Err(Error::Exited {
                program: std::mem::take(&mut self.program),
                status,
                stderr: self.stderr.text(),
            })
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
            tracing::trace!(pid = self.child.id(), "killed and reaped");
        }
        // The drain thread ends on EOF, which the child's exit guarantees; it is detached rather
        // than joined so that a grandchild still holding the pipe cannot block the drop.
        drop(self.drain.take());
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    #[test]
    fn tools_from_the_environment() {
        let none = ToolsConfig::from_vars(|_| None);
        assert_eq!(none, ToolsConfig::default());
        let empty = ToolsConfig::from_vars(|_| Some(OsString::new()));
        assert_eq!(empty, ToolsConfig::default());

        // Only ffmpeg given, with no ffprobe beside it: ffprobe stays on PATH.
        let only = ToolsConfig::from_vars(|k| {
            (k == "VOXWIRE_FFMPEG").then(|| OsString::from("/nonexistent/voxwire/ffmpeg"))
        });
        assert_eq!(only.ffmpeg_path(), Path::new("/nonexistent/voxwire/ffmpeg"));
        assert_eq!(only.ffprobe_path(), Path::new("ffprobe"));

        // An ffprobe next to the given ffmpeg is picked up; VOXWIRE_FFPROBE wins over it.
        let dir = std::env::temp_dir().join(format!("voxwire-tools-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ffprobe"), b"").unwrap();
        let ffmpeg = dir.join("ffmpeg").into_os_string();
        let sibling = ToolsConfig::from_vars(|k| (k == "VOXWIRE_FFMPEG").then(|| ffmpeg.clone()));
        assert_eq!(sibling.ffprobe_path(), dir.join("ffprobe"));
        let both = ToolsConfig::from_vars(|k| match k {
            "VOXWIRE_FFMPEG" => Some(ffmpeg.clone()),
            "VOXWIRE_FFPROBE" => Some(OsString::from("/opt/probe")),
            _ => None,
        });
        assert_eq!(both.ffprobe_path(), Path::new("/opt/probe"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    use super::*;

    #[test]
    fn tail_keeps_the_last_bytes() {
        let t = StderrTail::new(8);
        t.push(b"hello ");
        t.push(b"world!");
        assert_eq!(t.text(), "o world!");
        t.push(b"0123456789abc");
        assert_eq!(t.text(), "56789abc");
        assert_eq!(t.len(), 8);
    }

    #[test]
    fn missing_binary_is_not_found() {
        let tools = ToolsConfig::new().ffmpeg("/nonexistent/ffmpeg-voxwire");
        let err = Supervised::spawn(tools.ffmpeg_command(), 128, false).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
    }

    #[test]
    fn failure_carries_stderr_tail() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo first >&2; echo 'the reason' >&2; exit 3"]);
        let child = Supervised::spawn(c, 11, false).unwrap();
        match child.finish() {
            Err(Error::Exited { status, stderr, .. }) => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(stderr, "the reason");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn drop_kills_and_reaps() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let child = Supervised::spawn(c, 64, false).unwrap();
        let pid = child.id();
        drop(child);
        // Reaped: the pid no longer names a process of ours (no zombie entry left behind).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let zombie_of_ours = stat.is_ok_and(|s| {
            s.contains(" Z ")
                && s.split_whitespace().nth(3) == Some(&std::process::id().to_string())
        });
        assert!(!zombie_of_ours);
    }
}
