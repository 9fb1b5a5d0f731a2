//! Fuzz target: voice-gateway binary DAVE frame parsing and rewriting.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::gateway::binary(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("gateway_binary", voxwire_fuzz::gateway::binary);
}
