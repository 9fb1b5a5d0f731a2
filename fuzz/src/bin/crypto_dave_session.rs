//! Fuzz target: DAVE session fed arbitrary gateway opcode sequences.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::crypto_dave::session(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("crypto_dave_session", voxwire_fuzz::crypto_dave::session);
}
