//! Fuzz target: arbitrary join requests, dispatches and time fed to the voice state tracker.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::voice_join::tracker(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("voice_state_tracker", voxwire_fuzz::voice_join::tracker);
}
