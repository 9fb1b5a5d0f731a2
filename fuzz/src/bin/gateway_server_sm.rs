//! Fuzz target: arbitrary message sequences fed to the voice-gateway server state machine.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::gateway::server_state_machine(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("gateway_server_sm", voxwire_fuzz::gateway::server_state_machine);
}
