//! Fuzz target: raw main-gateway voice dispatch payloads into the voice state tracker.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::voice_join::dispatch_json(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("voice_dispatch_json", voxwire_fuzz::voice_join::dispatch_json);
}
