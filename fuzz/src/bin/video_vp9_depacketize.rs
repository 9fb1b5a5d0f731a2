//! Fuzz target: vp9 depacketizer.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::vp9_depacketize(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_vp9_depacketize", voxwire_fuzz::video::vp9_depacketize);
}
