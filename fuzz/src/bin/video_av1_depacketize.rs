//! Fuzz target: av1 depacketizer.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::av1_depacketize(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_av1_depacketize", voxwire_fuzz::video::av1_depacketize);
}
