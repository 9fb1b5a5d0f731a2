//! Fuzz target: arbitrary packet sequences into voxwire-jitter's video receiver.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::jitter::video(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("jitter_video", voxwire_fuzz::jitter::video);
}
