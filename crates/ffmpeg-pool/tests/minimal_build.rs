//! Every job of the pool with the minimal static FFmpeg of `cargo xtask ffmpeg-minimal`: cached
//! and segmented transcodes decode back to the tone (through the system FFmpeg), volume and
//! mono apply, PCM decoding, probing and capability listing work, and a bad input is an error.
//!
//! `cargo xtask test` builds it (or takes it from its cache) and names it in
//! `VOXWIRE_TEST_FFMPEG_MINIMAL`. Without that variable the tests say so and pass, except on CI
//! (`CI` set), where its absence is a failure.
mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{TempDir, check_tone, decode_packets, sine, zero_crossing_hz};
use voxwire_ffmpeg::{
    Error, Input, OpusConfig, OpusPacket, Pool, PoolConfig, Priority, StreamConfig,
};
use voxwire_ffmpeg::{ToolsConfig, probe};

const SECONDS: u32 = 3;

/// The minimal build's tools, or `None` (with a note) outside CI when it was not built.
fn minimal() -> Option<ToolsConfig> {
    let Some(ffmpeg) = std::env::var_os("VOXWIRE_TEST_FFMPEG_MINIMAL").map(PathBuf::from) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "VOXWIRE_TEST_FFMPEG_MINIMAL is not set: run the tests through `cargo xtask test`"
        );
        eprintln!("skipped: VOXWIRE_TEST_FFMPEG_MINIMAL is not set (`cargo xtask test` sets it)");
        return None;
    };
    assert!(ffmpeg.is_file(), "{} is not a file", ffmpeg.display());
    let ffprobe = ffmpeg.with_file_name("ffprobe");
    Some(ToolsConfig::new().ffmpeg(ffmpeg).ffprobe(ffprobe))
}

fn pool(tools: ToolsConfig) -> Pool {
    Pool::new(PoolConfig::new().tools(tools))
}

/// Every packet of a cached transcode of `input`.
fn play_all(pool: &Pool, input: Input, cfg: &OpusConfig) -> Vec<OpusPacket> {
    pool.play(input, cfg, Priority::Playback).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn cached_and_segmented_transcodes_decode_to_the_tone() {
    let Some(tools) = minimal() else { return };
    let dir = TempDir::new("minimal-transcode");
    let mp3 = dir.join("a.mp3");
    sine(&mp3, 440, SECONDS.into());
    let pool = pool(tools);

    let cached = play_all(&pool, Input::File(mp3), &OpusConfig::new());
    assert!(cached.iter().all(|p| p.samples == 960), "20 ms packets");
    check_tone(&dir, &cached, SECONDS, 440.0);

    // Segments of 1 s, run one after the other with -ss/-t: the seams must not show.
    let flac = dir.join("b.flac");
    sine(&flac, 660, SECONDS.into());
    let cfg = StreamConfig::new()
        .segment(Some(Duration::from_secs(1)))
        .read_ahead(Duration::from_millis(400));
    let streamed: Vec<_> = pool
        .stream(Input::File(flac), &OpusConfig::new(), &cfg)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    check_tone(&dir, &streamed, SECONDS, 660.0);
    assert!(pool.stats().spawned_total >= 4, "{:?}", pool.stats());
}

#[test]
fn volume_mono_pcm_probe_and_capabilities() {
    let Some(tools) = minimal() else { return };
    let dir = TempDir::new("minimal-jobs");
    let wav = dir.join("c.wav");
    sine(&wav, 1000, SECONDS.into());
    let pool = pool(tools.clone());

    let cfg = OpusConfig::new().volume(0.5).unwrap().channels(1).unwrap();
    let packets = play_all(&pool, Input::Bytes(std::fs::read(&wav).unwrap().into()), &cfg);
    let pcm = decode_packets(&dir, &packets, 1);
    assert!((zero_crossing_hz(&pcm, 48_000.0) - 1000.0).abs() < 5.0);

    let mut reader = pool.decode_pcm(Input::File(wav.clone()), &[]).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut raw).unwrap();
    assert_eq!(raw.len(), SECONDS as usize * 48_000 * 4);
    let left: Vec<i16> = raw.chunks_exact(4).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    assert!((zero_crossing_hz(&left, 48_000.0) - 1000.0).abs() < 3.0);

    let info = probe(&tools, Input::File(wav)).unwrap();
    let audio = info.audio().unwrap();
    assert_eq!(audio.codec_name.as_deref(), Some("pcm_s16le"));
    assert_eq!((audio.sample_rate, audio.channels), (Some(48_000), Some(2)));
    assert!(info.duration().unwrap().abs_diff(Duration::from_secs(3)) < Duration::from_millis(50));

    let caps = pool.capabilities().unwrap();
    assert!(caps.can_encode("opus") && caps.can_decode("mp3") && caps.can_decode("aac"));
    // Only what the pool needs is in it.
    assert!(!caps.can_encode("mp3") && !caps.can_decode("h264"), "{caps:?}");
}

#[test]
fn an_input_it_cannot_read_is_an_error_with_ffmpeg_message() {
    let Some(tools) = minimal() else { return };
    let dir = TempDir::new("minimal-bad");
    let bad = dir.join("not-audio.mp3");
    std::fs::write(&bad, vec![0x5au8; 64 * 1024]).unwrap();
    let pool = pool(tools);
    let result: Result<Vec<_>, _> =
        pool.play(Input::File(bad), &OpusConfig::new(), Priority::Playback).unwrap().collect();
    let err = result.expect_err("garbage is not audio");
    // A cached encode reports its error to every reader of it, shared.
    let inner = match &err {
        Error::Shared(e) => &**e,
        e => e,
    };
    match inner {
        Error::Exited { stderr, .. } => assert!(stderr.contains("not-audio.mp3"), "{stderr}"),
        other => panic!("expected FFmpeg's failure, got {other:?}"),
    }
}
