//! `cargo xtask setup`: find what the workspace needs from the system and install what is missing
//! with the system package manager, or say exactly what to run when that is not possible.

use crate::util::{Cmd, Fail, have};

/// What a task needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Building and running voxwire (the demo).
    Runtime,
    /// Also what the test suite needs (Node.js for the third-party client interop tests).
    All,
}

struct Requirement {
    what: &'static str,
    present: fn() -> bool,
    apt: &'static [&'static str],
    dnf: &'static [&'static str],
    brew: &'static [&'static str],
    only_for_tests: bool,
}

fn pkg_config_has(lib: &str) -> bool {
    Cmd::new("pkg-config").args(["--exists", lib]).quiet().run().is_ok()
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        what: "a C compiler (cc), for crates that build C code",
        present: || have("cc"),
        apt: &["build-essential"],
        dnf: &["gcc", "gcc-c++", "make"],
        brew: &[],
        only_for_tests: false,
    },
    Requirement {
        what: "pkg-config",
        present: || have("pkg-config"),
        apt: &["pkg-config"],
        dnf: &["pkgconf-pkg-config"],
        brew: &["pkg-config"],
        only_for_tests: false,
    },
    Requirement {
        what: "libopus with headers (Opus encode and decode)",
        present: || have("pkg-config") && pkg_config_has("opus"),
        apt: &["libopus-dev"],
        dnf: &["opus-devel"],
        brew: &["opus"],
        only_for_tests: false,
    },
    Requirement {
        what: "ffmpeg and ffprobe (FFmpeg sources and sinks, probing)",
        present: || have("ffmpeg") && have("ffprobe"),
        apt: &["ffmpeg"],
        dnf: &["ffmpeg"],
        brew: &["ffmpeg"],
        only_for_tests: false,
    },
    Requirement {
        what: "Node.js and npm (interop tests with third-party Discord voice clients)",
        present: || have("node") && have("npm"),
        apt: &["nodejs", "npm"],
        dnf: &["nodejs", "npm"],
        brew: &["node"],
        only_for_tests: true,
    },
];

fn is_root() -> bool {
    Cmd::new("id").arg("-u").output().is_ok_and(|s| s.trim() == "0")
}

fn can_sudo() -> bool {
    have("sudo") && Cmd::new("sudo").args(["-n", "true"]).quiet().run().is_ok()
}

pub(crate) fn run(needs: Needs) -> Result<(), Fail> {
    let missing: Vec<&Requirement> = REQUIREMENTS
        .iter()
        .filter(|r| needs == Needs::All || !r.only_for_tests)
        .filter(|r| !(r.present)())
        .collect();
    if missing.is_empty() {
        println!("xtask setup: everything needed is installed");
        return Ok(());
    }
    for r in &missing {
        println!("xtask setup: missing {}", r.what);
    }
    if have("apt-get") {
        let pkgs: Vec<&str> = missing.iter().flat_map(|r| r.apt.iter().copied()).collect();
        apt_install_as_allowed(&pkgs)?;
        return verify(&missing);
    }
    if have("dnf") {
        let pkgs: Vec<&str> = missing.iter().flat_map(|r| r.dnf.iter().copied()).collect();
        return Err(cannot_install(&format!(
            "sudo dnf install -y {} (ffmpeg comes from RPM Fusion on Fedora)",
            pkgs.join(" ")
        )));
    }
    if have("brew") {
        let pkgs: Vec<&str> = missing.iter().flat_map(|r| r.brew.iter().copied()).collect();
        if !pkgs.is_empty() {
            Cmd::new("brew").arg("install").args(&pkgs).run()?;
            return verify(&missing);
        }
    }
    Err(Fail::new(
        "setup: no supported package manager (apt-get, dnf, brew) was found; install the items \
         listed above with your system's package manager and run the command again",
    ))
}

/// Installs the apt packages of whichever `(program, packages)` pairs are not on PATH (build
/// tools some tasks need beyond [`run`]'s), or says what to run.
pub(crate) fn ensure_tools(tools: &[(&str, &[&str])]) -> Result<(), Fail> {
    let missing: Vec<&(&str, &[&str])> = tools.iter().filter(|(p, _)| !have(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let pkgs: Vec<&str> = missing.iter().flat_map(|(_, pkgs)| pkgs.iter().copied()).collect();
    let progs: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
    println!("xtask setup: missing {}", progs.join(", "));
    if !have("apt-get") {
        return Err(Fail::new(format!(
            "setup: install {} with your system's package manager and run the command again",
            progs.join(", ")
        )));
    }
    apt_install_as_allowed(&pkgs)?;
    match tools.iter().find(|(p, _)| !have(p)) {
        Some((p, _)) => Err(Fail::new(format!("setup: {p} is still missing after installing"))),
        None => Ok(()),
    }
}

/// Installs `pkgs` with apt as root, or through `sudo` when it needs no password; otherwise
/// fails with the command to run.
fn apt_install_as_allowed(pkgs: &[&str]) -> Result<(), Fail> {
    if is_root() {
        apt_install(pkgs, false)
    } else if can_sudo() {
        apt_install(pkgs, true)
    } else {
        Err(cannot_install(&format!("sudo apt-get install -y {}", pkgs.join(" "))))
    }
}

fn apt_install(pkgs: &[&str], sudo: bool) -> Result<(), Fail> {
    let apt = |args: &[&str]| {
        let mut c = if sudo { Cmd::new("sudo").arg("apt-get") } else { Cmd::new("apt-get") };
        c = c.args(["-o", "DPkg::Lock::Timeout=300"]).args(args);
        c.env("DEBIAN_FRONTEND", "noninteractive").run()
    };
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(pkgs);
    apt(&args)
}

fn verify(missing: &[&Requirement]) -> Result<(), Fail> {
    let still: Vec<&str> = missing.iter().filter(|r| !(r.present)()).map(|r| r.what).collect();
    if still.is_empty() {
        println!("xtask setup: installed everything that was missing");
        Ok(())
    } else {
        Err(Fail::new(format!("setup: still missing after installing: {}", still.join("; "))))
    }
}

fn cannot_install(command: &str) -> Fail {
    Fail::new(format!(
        "setup: cannot install system packages without root. Run this, then the same command \
         again:\n\n    {command}\n"
    ))
}
