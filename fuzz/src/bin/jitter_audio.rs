//! Fuzz target: arbitrary packet sequences into voxwire-jitter's audio jitter buffer.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::jitter::audio(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("jitter_audio", voxwire_fuzz::jitter::audio);
}
