//! Fuzz target: RTP parse, rebuild, parse.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtp::round_trip(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtp_round_trip", voxwire_fuzz::rtp::round_trip);
}
