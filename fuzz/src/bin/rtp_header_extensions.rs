//! Fuzz target: RFC 8285 header-extension elements.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtp::header_extensions(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtp_header_extensions", voxwire_fuzz::rtp::header_extensions);
}
