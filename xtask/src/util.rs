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
    command: Command,
    quiet: bool,
    /// Keep the output, and show its end only if the command fails.
    captured: bool,
}

impl Cmd {
    pub(crate) fn new(prog: &str) -> Self {
        let mut cmd = Command::new(prog);
        cmd.current_dir(root());
        Self { command: cmd, quiet: false, captured: false }
    }

    pub(crate) fn cargo(args: &[&str]) -> Self {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut c = Self::new(&cargo);
        c.command.args(args);
        c
    }

    pub(crate) fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.command.arg(a);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Self {
        self.command.env(k, v);
        self
    }

    /// Runs in `dir` instead of the workspace root.
    pub(crate) fn in_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Echo the command, keep its output, and print the end of it only if the command fails
    /// (for long builds whose log only matters then).
    pub(crate) fn quiet_unless_failed(mut self) -> Self {
        self.captured = true;
        self
    }

    /// Do not echo, and discard output.
    pub(crate) fn quiet(mut self) -> Self {
        self.quiet = true;
        self.command.stdout(Stdio::null()).stderr(Stdio::null());
        self
    }

    fn describe(&self) -> String {
        let mut s = self.command.get_program().to_string_lossy().into_owned();
        for a in self.command.get_args() {
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
        if self.captured {
            let out = self
                .command
                .output()
                .map_err(|e| Fail::new(format!("cannot run `{what}`: {e}")))?;
            if out.status.success() {
                return Ok(());
            }
            let log = [out.stdout, out.stderr].concat();
            let log = String::from_utf8_lossy(&log);
            let lines: Vec<&str> = log.lines().collect();
            for l in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("  {l}");
            }
            return Err(Fail::new(format!("`{what}` failed ({})", out.status)));
        }
        let status =
            self.command.status().map_err(|e| Fail::new(format!("cannot run `{what}`: {e}")))?;
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
            .command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Fail::new(format!("cannot run `{what}`: {e}")))?;
        if !out.status.success() {
            return Err(Fail::new(format!("`{what}` failed ({})", out.status)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
