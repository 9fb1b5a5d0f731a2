//! A killed or failing FFmpeg fails only its job; dropped readers kill their child; no zombies.
mod common;

use std::time::Duration;

use common::{TempDir, sine, zombie_children};
use voxwire_ffmpeg::{
    Error, Input, OpusConfig, Pool, PoolConfig, Priority, StreamConfig, ToolsConfig,
};

fn lavfi(seconds: u32) -> (Input, OpusConfig) {
    (
        Input::Url(format!("sine=frequency=440:sample_rate=48000:duration={seconds}")),
        OpusConfig::new().input_options(["-f", "lavfi"]),
    )
}

fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("condition not reached in 5 s");
}

#[test]
fn killed_child_fails_its_job_and_the_pool_recovers() {
    let pool = Pool::new(PoolConfig::new());
    let (input, cfg) = lavfi(600);
    // One process held back by its pipe: it stays alive while we read slowly.
    let stream = StreamConfig::new().segment(None).read_ahead(Duration::from_millis(200));
    let mut reader = pool.stream(input, &cfg, &stream).unwrap();
    for _ in 0..5 {
        reader.next_packet().unwrap().unwrap();
    }
    let pids = pool.stats().child_pids;
    assert_eq!(pids.len(), 1);
    let killed =
        std::process::Command::new("kill").arg("-9").arg(pids[0].to_string()).status().unwrap();
    assert!(killed.success());
    let err = loop {
        match reader.next_packet() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a killed encoder must not look like the end of the track"),
            Err(e) => break e,
        }
    };
    match err {
        Error::Shared(e) => assert!(
            matches!(*e, Error::Exited { .. } | Error::Opus { .. } | Error::Truncated { .. }),
            "{e}"
        ),
        e => panic!("unexpected {e}"),
    }
    drop(reader);
    wait_until(|| pool.stats().live_children == 0);
    // The pool still works.
    let (input, cfg) = lavfi(1);
    let n = pool.play(input, &cfg, Priority::Playback).unwrap().map(Result::unwrap).count();
    assert!((50..=51).contains(&n));
    wait_until(|| zombie_children().is_empty());
}

#[test]
fn dropping_a_reader_kills_its_child() {
    let pool = Pool::new(PoolConfig::new());
    let (input, cfg) = lavfi(600);
    let stream = StreamConfig::new().segment(None).read_ahead(Duration::from_millis(200));
    let mut reader = pool.stream(input, &cfg, &stream).unwrap();
    reader.next_packet().unwrap().unwrap();
    assert_eq!(pool.stats().live_children, 1);
    drop(reader);
    wait_until(|| pool.stats().live_children == 0 && pool.stats().busy == 0);
    wait_until(|| zombie_children().is_empty());
}

#[test]
fn ffmpeg_errors_carry_stderr_and_missing_binary_is_not_found() {
    let dir = TempDir::new("errors");
    let pool = Pool::new(PoolConfig::new());
    let missing = dir.join("missing.mp3");
    let err = pool
        .play(Input::File(missing), &OpusConfig::new(), Priority::Playback)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    let Error::Shared(inner) = err else { panic!("{err}") };
    let Error::Exited { stderr, .. } = &*inner else { panic!("{inner}") };
    assert!(stderr.contains("No such file"), "{stderr}");

    let broken =
        Pool::new(PoolConfig::new().tools(
            ToolsConfig::new().ffmpeg(dir.join("no-ffmpeg")).ffprobe(dir.join("no-ffprobe")),
        ));
    let src = dir.join("ok.wav");
    sine(&src, 440, 0.2);
    assert!(matches!(broken.probe(Input::File(src.clone())), Err(Error::NotFound { .. })));
    let err = broken
        .play(Input::File(src), &OpusConfig::new(), Priority::Playback)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(&err, Error::Shared(e) if matches!(**e, Error::NotFound { .. })), "{err}");
}

/// A pipe input that delivers bytes only when the test sends them.
struct Gate(std::sync::mpsc::Receiver<Vec<u8>>, Vec<u8>);

impl std::io::Read for Gate {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(v) => self.1 = v,
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.1.len());
        out[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

#[test]
fn full_pool_queues_by_priority_and_reports_it() {
    let pool = Pool::new(PoolConfig::new().per_core(1).hard_cap(1));
    assert_eq!(pool.worker_limit(), 1);
    let (input, cfg) = lavfi(600);
    let stream = StreamConfig::new().segment(None).read_ahead(Duration::from_millis(200));
    // Occupies the only worker.
    let mut busy = pool.stream(input, &cfg, &stream).unwrap();
    busy.next_packet().unwrap().unwrap();
    let dir = TempDir::new("queue");
    let (a, b) = (dir.join("a.wav"), dir.join("b.wav"));
    sine(&a, 440, 0.2);
    sine(&b, 440, 0.2);
    let prefetch = pool.play(Input::File(a), &OpusConfig::new(), Priority::Prefetch).unwrap();
    // Queued after the prefetch, but a player waits for it. Its input arrives only when sent.
    let (tx, rx) = std::sync::mpsc::channel();
    let gated = Input::Reader(Box::new(Gate(rx, Vec::new())));
    let urgent = pool.play(gated, &OpusConfig::new(), Priority::Playback).unwrap();
    assert!(prefetch.is_waiting_for_worker() && urgent.is_waiting_for_worker());
    assert_eq!(pool.stats().jobs_waited, 2);
    assert_eq!(pool.stats().queued, 2);
    drop(busy);
    // The playback job takes the worker although it was queued last; it cannot finish before
    // its input is sent, so the prefetch is still queued.
    wait_until(|| !urgent.is_waiting_for_worker());
    assert!(prefetch.is_waiting_for_worker());
    tx.send(std::fs::read(b).unwrap()).unwrap();
    drop(tx);
    assert_eq!(urgent.map(Result::unwrap).count(), 11);
    assert_eq!(prefetch.map(Result::unwrap).count(), 11);
    assert_eq!(pool.stats().spawned_total, 3);
}
