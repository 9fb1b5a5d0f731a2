//! Fuzz targets for every voxwire parser and state machine.
//!
//! Each target is a plain function `fn(&[u8])` in the module of the crate it exercises, listed in
//! that module's `TARGETS`. The binaries in `src/bin/` wrap one function each: under `cargo fuzz`
//! (which sets `--cfg fuzzing`) they are libFuzzer targets; in a normal build they replay the
//! files named on the command line. `tests/replay.rs` replays every committed seed corpus in
//! `fuzz/corpus/<target>/` on stable Rust, so CI catches a regression without a fuzzer.
//!
//! A target must never panic on any input; the only thing it asserts is what its doc says.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![expect(
    clippy::missing_panics_doc,
    reason = "a fuzz body asserts the properties it checks; a panic is the finding it reports"
)]

use std::path::Path;

pub mod crypto_dave;
pub mod crypto_transport;
pub mod ffmpeg;
pub mod gateway;
pub mod jitter;
pub mod media;
pub mod rtcp;
pub mod rtp;
pub mod video;
pub mod voice_join;

/// One fuzz target: its name (the binary and corpus directory) and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Binary and corpus directory name.
    pub name: &'static str,
    /// The body: must not panic on any input.
    pub run: fn(&[u8]),
}

/// Every target of every crate.
#[must_use]
pub fn all() -> Vec<Target> {
    let groups: &[&[Target]] = &[
        ffmpeg::TARGETS,
        crypto_dave::TARGETS,
        crypto_transport::TARGETS,
        gateway::TARGETS,
        rtp::TARGETS,
        rtcp::TARGETS,
        video::TARGETS,
        jitter::TARGETS,
        media::TARGETS,
        voice_join::TARGETS,
    ];
    groups.iter().flat_map(|g| g.iter().copied()).collect()
}

/// Runs `run` over every file named in the process arguments (or every file in a directory
/// named there). Used by the target binaries when they are not built for libFuzzer.
///
/// # Panics
///
/// Panics when an argument cannot be read, which is a usage error of the replay tool.
pub fn replay_main(name: &str, run: fn(&[u8])) {
    let mut count = 0usize;
    for arg in std::env::args_os().skip(1) {
        count += replay_path(Path::new(&arg), run)
            .unwrap_or_else(|e| panic!("{name}: cannot read {}: {e}", Path::new(&arg).display()));
    }
    eprintln!("{name}: replayed {count} inputs");
}

/// Replays one file, or every file directly inside a directory. Returns how many inputs ran.
pub fn replay_path(path: &Path, run: fn(&[u8])) -> std::io::Result<usize> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|e| e.path())
            .collect();
        entries.sort();
        let mut n = 0;
        for p in entries.iter().filter(|p| p.is_file()) {
            run(&std::fs::read(p)?);
            n += 1;
        }
        Ok(n)
    } else {
        run(&std::fs::read(path)?);
        Ok(1)
    }
}
