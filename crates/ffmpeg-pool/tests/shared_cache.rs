//! The cache encodes a track once for 50 concurrent players, and evicts/spills by bytes.
mod common;

use std::sync::Arc;

use common::{TempDir, sine};
use voxwire_ffmpeg::{Input, OpusConfig, Pool, PoolConfig, Priority};

#[test]
fn fifty_players_share_one_encode() {
    let dir = TempDir::new("shared");
    let src = dir.join("shared.mp3");
    sine(&src, 440, 2.0);
    let pool = Pool::new(PoolConfig::new());
    let cfg = OpusConfig::new();
    let barrier = Arc::new(std::sync::Barrier::new(50));
    let players: Vec<_> = (0..50)
        .map(|_| {
            let (pool, cfg, src, barrier) =
                (pool.clone(), cfg.clone(), src.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let reader = pool.play(Input::File(src), &cfg, Priority::Playback).unwrap();
                reader.map(|p| p.unwrap().data).collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<bytes::Bytes>> = players.into_iter().map(|p| p.join().unwrap()).collect();
    assert_eq!(pool.stats().spawned_total, 1, "one FFmpeg process for 50 players");
    assert!((100..=101).contains(&results[0].len()));
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
        // Shared, not copied: the same bytes in memory.
        assert_eq!(r[0].as_ptr(), results[0][0].as_ptr());
    }
    // A late player of the finished track has all of it ahead, and one packet less per read.
    let mut late = pool.play(Input::File(src.clone()), &cfg, Priority::Normal).unwrap();
    assert_eq!(late.packets_ahead(), results[0].len() as u64);
    late.next_packet().unwrap().unwrap();
    assert_eq!(late.packets_ahead(), results[0].len() as u64 - 1);
    // Different settings are a different track.
    let other = OpusConfig::new().bitrate(32_000).unwrap();
    let n = pool.play(Input::File(src), &other, Priority::Normal).unwrap().count();
    assert_eq!(n, results[0].len());
    assert_eq!(pool.stats().spawned_total, 2);
    assert_eq!(pool.stats().cache_tracks, 2);
}

#[test]
fn budget_evicts_and_spill_avoids_a_second_encode() {
    let dir = TempDir::new("spill");
    let (a, b) = (dir.join("a.wav"), dir.join("b.wav"));
    sine(&a, 300, 1.0);
    sine(&b, 500, 1.0);
    let cfg = OpusConfig::new();
    // Measure one track, then allow one and a half of it: the cache holds one.
    let probe_pool = Pool::new(PoolConfig::new());
    let _ = probe_pool.play(Input::File(a.clone()), &cfg, Priority::Normal).unwrap().count();
    let one = probe_pool.stats().cache_bytes;
    let budget = one * 3 / 2;
    let pool = Pool::new(PoolConfig::new().cache_budget(budget).spill_dir(dir.join("spill")));
    let first: Vec<_> = pool
        .play(Input::File(a.clone()), &cfg, Priority::Normal)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let _ = pool.play(Input::File(b), &cfg, Priority::Normal).unwrap().count();
    let stats = pool.stats();
    assert_eq!(stats.cache_tracks, 1, "{stats:?}");
    assert!(stats.cache_bytes <= budget, "{stats:?} budget {budget}");
    assert_eq!(stats.spawned_total, 2);
    // `a` was evicted and spilled: played again from disk, identical, with no new process.
    let again: Vec<_> =
        pool.play(Input::File(a), &cfg, Priority::Normal).unwrap().map(Result::unwrap).collect();
    assert_eq!(again, first);
    assert_eq!(pool.stats().spawned_total, 2);
}
