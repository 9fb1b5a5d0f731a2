//! Fuzz target: Discord IP discovery and UDP ping.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::rtp::ip_discovery(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("rtp_ip_discovery", voxwire_fuzz::rtp::ip_discovery);
}
