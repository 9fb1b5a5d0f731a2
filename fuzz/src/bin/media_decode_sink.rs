//! Fuzz target: see `voxwire_fuzz::media::decode_sink`.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::media::decode_sink(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("media_decode_sink", voxwire_fuzz::media::decode_sink);
}
