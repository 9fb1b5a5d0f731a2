//! Fuzz target: packetize/depacketize round trip.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::video::round_trip(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("video_round_trip", voxwire_fuzz::video::round_trip);
}
