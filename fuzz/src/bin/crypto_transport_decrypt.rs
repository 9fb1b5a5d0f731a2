//! Fuzz target: transport decryption of arbitrary packets under arbitrary keys.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::crypto_transport::decrypt(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("crypto_transport_decrypt", voxwire_fuzz::crypto_transport::decrypt);
}
