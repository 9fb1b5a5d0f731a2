//! Fuzz target: transport encrypt/decrypt round trip of arbitrary packets.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::crypto_transport::round_trip(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main(
        "crypto_transport_round_trip",
        voxwire_fuzz::crypto_transport::round_trip,
    );
}
