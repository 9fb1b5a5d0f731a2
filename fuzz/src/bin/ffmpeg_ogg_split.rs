//! Fuzz target: Ogg page splitter (multiplexed logical streams) fed in chunks.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::ffmpeg::ogg_split(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("ffmpeg_ogg_split", voxwire_fuzz::ffmpeg::ogg_split);
}
