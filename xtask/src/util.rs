//! Small helpers for running commands.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A task failure, printed once by `main`.
#[derive(Debug)]
pub(crate) struct Fail(String);

impl Fail {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Whether `prog` is on PATH (or, for `cargo-*`, installed as a cargo subcommand).
pub(crate) fn have(prog: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path).any(|dir| dir.join(prog).is_file())
}

/// A command to run from the workspace root, echoed before it runs.
pub(crate) struct Cmd {
    cmd: Command,
    quiet: bool,
}

impl Cmd {
    pub(crate) fn new(prog: &str) -> Self {
        let mut cmd = Command::new(prog);
        cmd.current_dir(root());
        Self { cmd, quiet: false }
    }

    pub(crate) fn cargo(args: &[&str]) -> Self {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut c = Self::new(&cargo);
        c.cmd.args(args);
        c
    }

    pub(crate) fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Do not echo, and discard output.
    pub(crate) fn quiet(mut self) -> Self {
        self.quiet = true;
        self.cmd.stdout(Stdio::null()).stderr(Stdio::null());
        self
    }

    fn describe(&self) -> String {
        let mut s = self.cmd.get_program().to_string_lossy().into_owned();
        for a in self.cmd.get_args() {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    pub(crate) fn run(mut self) -> Result<(), Fail> {
        let what = self.describe();
        if !self.quiet {
            println!("$ {what}");
        }
        let status =
            self.cmd.status().map_err(|e| Fail::new(format!("cannot run `{what}`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Fail::new(format!("`{what}` failed ({status})")))
        }
    }

    /// Runs and returns stdout; fails on a non-zero exit.
    pub(crate) fn output(mut self) -> Result<String, Fail> {
        let what = self.describe();
        let out = self
            .cmd
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Fail::new(format!("cannot run `{what}`: {e}")))?;
        if !out.status.success() {
            return Err(Fail::new(format!("`{what}` failed ({})", out.status)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
