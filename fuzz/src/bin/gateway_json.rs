//! Fuzz target: voice-gateway JSON envelope and payload parsing.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::gateway::json(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("gateway_json", voxwire_fuzz::gateway::json);
}
