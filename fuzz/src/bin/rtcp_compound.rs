//! Fuzz target: RTCP compound parser.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtcp::compound(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtcp_compound", voxwire_fuzz::rtcp::compound);
}
