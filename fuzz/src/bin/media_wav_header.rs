//! Fuzz target: see `voxwire_fuzz::media::wav_header`.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::media::wav_header(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("media_wav_header", voxwire_fuzz::media::wav_header);
}
