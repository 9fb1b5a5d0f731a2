//! Fuzz target: vp8 depacketizer.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::vp8_depacketize(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_vp8_depacketize", voxwire_fuzz::video::vp8_depacketize);
}
