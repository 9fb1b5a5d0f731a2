//! Fuzz target: DAVE protocol frame parsing and decryption.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::crypto_dave::frame(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("crypto_dave_frame", voxwire_fuzz::crypto_dave::frame);
}
