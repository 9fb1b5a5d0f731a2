//! Fuzz target: ffmpeg -encoders/-decoders/-hwaccels parsers.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::ffmpeg::capabilities(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("ffmpeg_capabilities", voxwire_fuzz::ffmpeg::capabilities);
}
