//! Fuzz target: Annex B access-unit splitter.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::annexb_split(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_annexb_split", voxwire_fuzz::video::annexb_split);
}
