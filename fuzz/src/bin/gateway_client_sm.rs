//! Fuzz target: arbitrary message sequences fed to the voice-gateway client state machine.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::gateway::client_state_machine(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("gateway_client_sm", voxwire_fuzz::gateway::client_state_machine);
}
