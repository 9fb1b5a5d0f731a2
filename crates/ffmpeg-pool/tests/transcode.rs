//! Transcodes decode back to the same audio: duration within one frame, tone frequency.
mod common;

use std::time::Duration;

use common::{TempDir, check_tone, decode_packets, sine, zero_crossing_hz};
use voxwire_ffmpeg::{Input, OpusConfig, Pool, PoolConfig, Priority, StreamConfig};

const SECONDS: u32 = 3;

fn check(dir: &TempDir, packets: &[voxwire_ffmpeg::OpusPacket], freq: f64) {
    assert!(packets.iter().all(|p| p.samples == 960), "20 ms packets");
    check_tone(dir, packets, SECONDS, freq);
}

#[test]
fn cached_transcode_decodes_to_the_same_tone() {
    let dir = TempDir::new("transcode");
    let src = dir.join("a.mp3");
    sine(&src, 440, SECONDS.into());
    let pool = Pool::new(PoolConfig::new());
    let reader = pool.play(Input::File(src), &OpusConfig::new(), Priority::Playback).unwrap();
    let packets: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    check(&dir, &packets, 440.0);
}

#[test]
fn segmented_stream_matches_a_whole_encode() {
    let dir = TempDir::new("segments");
    let src = dir.join("b.flac");
    sine(&src, 660, SECONDS.into());
    let pool = Pool::new(PoolConfig::new());
    let cfg = StreamConfig::new()
        .segment(Some(Duration::from_secs(1)))
        .read_ahead(Duration::from_millis(400));
    let reader = pool.stream(Input::File(src), &OpusConfig::new(), &cfg).unwrap();
    let packets: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    check(&dir, &packets, 660.0);
    // 3 s in 1 s segments: 3 or 4 FFmpeg runs, never more than one at a time for this reader.
    let stats = pool.stats();
    assert!((3..=4).contains(&stats.spawned_total), "{stats:?}");
}

#[test]
fn pipe_input_streams_with_volume_and_pcm_decodes() {
    let dir = TempDir::new("pipe");
    let src = dir.join("c.wav");
    sine(&src, 1000, SECONDS.into());
    let pool = Pool::new(PoolConfig::new());
    let bytes = bytes::Bytes::from(std::fs::read(&src).unwrap());
    let cfg = OpusConfig::new().volume(0.5).unwrap().channels(1).unwrap();
    let packets: Vec<_> = pool
        .play(Input::Bytes(bytes), &cfg, Priority::Playback)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let pcm = decode_packets(&dir, &packets, 1);
    assert!((zero_crossing_hz(&pcm, 48_000.0) - 1000.0).abs() < 5.0);

    let mut pcm_reader = pool.decode_pcm(Input::File(src), &[]).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut pcm_reader, &mut raw).unwrap();
    assert_eq!(raw.len(), SECONDS as usize * 48_000 * 4);
    let left: Vec<i16> = raw.chunks_exact(4).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    assert!((zero_crossing_hz(&left, 48_000.0) - 1000.0).abs() < 3.0);
}

#[tokio::test(flavor = "current_thread")]
async fn async_reader_and_probe() {
    let dir = TempDir::new("async");
    let src = dir.join("d.mp3");
    sine(&src, 440, 1.0);
    let pool = Pool::new(PoolConfig::new());
    let info = pool.probe_async(Input::File(src.clone())).await.unwrap();
    let audio = info.audio().unwrap();
    assert_eq!(audio.codec_name.as_deref(), Some("mp3"));
    assert_eq!((audio.sample_rate, audio.channels), (Some(48_000), Some(2)));
    assert!(info.duration().unwrap().abs_diff(Duration::from_secs(1)) < Duration::from_millis(100));
    let mut r = pool.play(Input::File(src), &OpusConfig::new(), Priority::Playback).unwrap();
    let mut n = 0;
    while let Some(p) = r.next_packet_async().await.unwrap() {
        assert_eq!(p.samples, 960);
        n += 1;
    }
    assert!((50..=51).contains(&n));
    let caps = pool.capabilities_async().await.unwrap();
    assert!(caps.can_encode("opus") && caps.can_decode("mp3"));
}
