//! Fuzz target: IVF reader.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::ivf_read(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_ivf_read", voxwire_fuzz::video::ivf_read);
}
