//! Fuzz target: DAVE per-codec frame split.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::dave_split(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_dave_split", voxwire_fuzz::video::dave_split);
}
