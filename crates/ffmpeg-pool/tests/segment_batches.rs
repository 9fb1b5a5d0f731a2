//! Segments of several streams that wait at the same time are encoded by one FFmpeg run, and
//! each stream still gets exactly its own audio.
mod common;

use std::time::Duration;

use common::{TempDir, check_tone, sine};
use voxwire_ffmpeg::{Input, OpusConfig, OpusPacket, Pool, PoolConfig, StreamConfig};

const SECONDS: u32 = 3;
const FREQS: [u32; 4] = [330, 440, 550, 660];

fn check(dir: &TempDir, packets: &[OpusPacket], freq: f64) {
    check_tone(dir, packets, SECONDS, freq);
}

/// Occupies a one-worker pool with a one-process stream held back by its pipe, so that what is
/// queued next waits; dropping the reader frees the worker.
fn occupy_the_worker(pool: &Pool) -> voxwire_ffmpeg::PacketReader {
    let input = Input::Url("sine=frequency=100:sample_rate=48000:duration=600".into());
    let config = OpusConfig::new().input_options(["-f", "lavfi"]);
    let plain = StreamConfig::new().segment(None).read_ahead(Duration::from_millis(200));
    let mut busy = pool.stream(input, &config, &plain).unwrap();
    busy.next_packet().unwrap().unwrap();
    busy
}

#[test]
fn waiting_segments_share_one_run_and_keep_their_own_audio() {
    let dir = TempDir::new("batches");
    let pool = Pool::new(PoolConfig::new().per_core(1).hard_cap(1));
    let busy = occupy_the_worker(&pool);

    let stream = StreamConfig::new()
        .first_segment(Duration::from_millis(1500))
        .segment(Some(Duration::from_secs(4)))
        .read_ahead(Duration::from_millis(400))
        .batch(8);
    let readers: Vec<_> = FREQS
        .iter()
        .map(|&f| {
            let src = dir.join(&format!("{f}.flac"));
            sine(&src, f, SECONDS.into());
            pool.stream(Input::File(src), &OpusConfig::new(), &stream).unwrap()
        })
        .collect();
    assert!(readers.iter().all(voxwire_ffmpeg::PacketReader::is_waiting_for_worker));
    drop(busy);

    let threads: Vec<_> = readers
        .into_iter()
        .map(|mut r| {
            std::thread::spawn(move || {
                let first = r.next_packet().unwrap().unwrap();
                let mut v = vec![first];
                v.extend(r.map(Result::unwrap));
                v
            })
        })
        .collect();
    let packets: Vec<Vec<OpusPacket>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (p, f) in packets.iter().zip(FREQS) {
        check(&dir, p, f.into());
    }
    // The four first segments (1.5 s) waited together and were encoded by one run; each
    // second segment (3 s, twice the first, so the rest of the track) by a run of its own or
    // shared: at most
    // 1 (busy) + 1 + 4 runs, against 1 + 4 + 4 without batching.
    let spawned = pool.stats().spawned_total;
    assert!((3..=6).contains(&spawned), "{spawned} FFmpeg runs");
}

#[test]
fn a_bad_input_fails_only_its_own_stream() {
    let dir = TempDir::new("batch-bad");
    let pool = Pool::new(PoolConfig::new().per_core(1).hard_cap(1));
    let busy = occupy_the_worker(&pool);

    let good = dir.join("good.flac");
    sine(&good, 440, SECONDS.into());
    let bad = dir.join("bad.mp3");
    std::fs::write(&bad, b"this is not audio at all").unwrap();
    let stream = StreamConfig::new()
        .first_segment(Duration::from_secs(4))
        .segment(Some(Duration::from_secs(4)))
        .batch(8);
    let mut bad_reader = pool.stream(Input::File(bad), &OpusConfig::new(), &stream).unwrap();
    let good_reader = pool.stream(Input::File(good), &OpusConfig::new(), &stream).unwrap();
    drop(busy);
    // Both first segments share a run, which FFmpeg fails at opening the bad input; each is
    // then run alone.
    let packets: Vec<OpusPacket> = good_reader.map(Result::unwrap).collect();
    check(&dir, &packets, 440.0);
    assert!(bad_reader.next_packet().is_err());
    // busy, the shared run, the good stream alone, the bad one alone.
    assert_eq!(pool.stats().spawned_total, 4);
}

#[test]
fn shutdown_ends_streams_waiting_for_a_segment() {
    let dir = TempDir::new("batch-shutdown");
    let pool = Pool::new(PoolConfig::new().per_core(1).hard_cap(1));
    let busy = occupy_the_worker(&pool);
    let src = dir.join("a.flac");
    sine(&src, 440, 1.0);
    let mut waiting =
        pool.stream(Input::File(src), &OpusConfig::new(), &StreamConfig::new()).unwrap();
    assert!(waiting.is_waiting_for_worker());
    pool.shutdown();
    assert!(
        matches!(waiting.next_packet(), Err(voxwire_ffmpeg::Error::Shared(e)) if matches!(*e, voxwire_ffmpeg::Error::PoolClosed))
    );
    drop(busy);
}
