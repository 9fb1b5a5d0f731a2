//! Fuzz target: RTP packet parser.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtp::packet(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtp_packet", voxwire_fuzz::rtp::packet);
}
