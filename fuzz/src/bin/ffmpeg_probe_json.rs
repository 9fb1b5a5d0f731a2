//! Fuzz target: ffprobe JSON parser.
#![cfg_attr(fuzzing, no_main)]
#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxwire_fuzz::ffmpeg::probe_json(data));
#[cfg(not(fuzzing))]
fn main() {
    voxwire_fuzz::replay_main("ffmpeg_probe_json", voxwire_fuzz::ffmpeg::probe_json);
}
