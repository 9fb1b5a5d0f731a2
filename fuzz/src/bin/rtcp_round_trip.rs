//! Fuzz target: RTCP parse, rebuild, parse.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtcp::round_trip(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtcp_round_trip", voxwire_fuzz::rtcp::round_trip);
}
