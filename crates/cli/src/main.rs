//! The `voxwire` command line.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("voxwire: the command line is not built yet; see the README for what exists");
    std::process::ExitCode::FAILURE
}
