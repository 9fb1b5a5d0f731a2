//! The sink tree: wants filtering, walk, filters, silence fill, volume, whole-tree cleanup.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{packet, pcm_frame, tick};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::{
    CallbackSink, Codec, CodecSet, Concealment, Error, FanOut, Filter, MediaPacket, MediaType,
    SilenceFill, SilenceFillConfig, Sink, UserId, VolumeSink, walk,
};

type Log = Arc<Mutex<Vec<MediaPacket>>>;

fn recorder(accepts: CodecSet) -> (CallbackSink<impl FnMut(&MediaPacket) + Send>, Log) {
    let log: Log = Arc::default();
    let l2 = log.clone();
    (CallbackSink::new(accepts, move |p: &MediaPacket| l2.lock().unwrap().push(p.clone())), log)
}

fn pcm(ssrc: u32, seq: u16, ts: u32, at: Instant, v: i16) -> MediaPacket {
    MediaPacket::pcm(Ssrc(ssrc), SeqNo(seq), RtpTimestamp(ts), at, pcm_frame(v))
}

#[test]
fn wants_reflects_the_whole_tree() {
    let (video, _) = recorder(CodecSet::VIDEO);
    let (pcm_only, _) = recorder(CodecSet::PCM);
    let tree =
        FanOut::new(vec![Box::new(video), Box::new(Filter::media(pcm_only, CodecSet::ALL, None))]);
    assert!(tree.wants(MediaType::Video, Codec::H264));
    assert!(tree.wants(MediaType::Audio, Codec::Pcm));
    assert!(!tree.wants(MediaType::Audio, Codec::Opus), "nobody wants Opus: the client skips it");
    assert!(
        !tree.wants(MediaType::Audio, Codec::H264),
        "a codec never matches the wrong media type"
    );
    let mut names = Vec::new();
    walk(&tree, &mut |s, d| names.push((s.name(), d)));
    assert_eq!(names, [("fan-out", 0), ("callback", 1), ("filter", 1), ("callback", 2)]);
}

#[test]
fn cleanup_closes_every_node_and_later_writes_fail() {
    let (a, _) = recorder(CodecSet::ALL);
    let (b, _) = recorder(CodecSet::ALL);
    let mut tree =
        FanOut::new(vec![Box::new(Filter::window(a, None, Duration::from_secs(1))), Box::new(b)]);
    tree.cleanup().unwrap();
    let mut closed = Vec::new();
    walk(&tree, &mut |s, _| closed.push(s.is_closed()));
    assert_eq!(closed, [true, true, true, true]);
    assert!(matches!(tree.write(&pcm(1, 0, 0, Instant::now(), 0)), Err(Error::Closed(_))));
    tree.cleanup().unwrap();
}

#[test]
fn filters_by_user_window_predicate_and_codec() {
    let t0 = Instant::now();
    let (u, ulog) = recorder(CodecSet::ALL);
    let (w, wlog) = recorder(CodecSet::ALL);
    let (pr, plog) = recorder(CodecSet::ALL);
    let (m, mlog) = recorder(CodecSet::ALL);
    let mut tree = FanOut::default()
        .with(Filter::user(u, UserId(7)))
        .with(Filter::window(w, Some(t0 + Duration::from_millis(100)), Duration::from_millis(100)))
        .with(Filter::predicate(pr, |p: &MediaPacket| p.sequence.0.is_multiple_of(2)))
        .with(Filter::media(m, CodecSet::OPUS, Some(HashSet::from([UserId(8)]))));
    for i in 0..20u16 {
        let user = UserId(if i < 10 { 7 } else { 8 });
        let pk = if i % 3 == 0 {
            pcm(1, i, 0, tick(t0, i.into()), 1)
        } else {
            packet(1, i, 0, tick(t0, i.into()), bytes::Bytes::new())
        };
        tree.write(&pk.with_user(user)).unwrap();
    }
    let seqs = |l: &Log| l.lock().unwrap().iter().map(|p| p.sequence.0).collect::<Vec<_>>();
    assert_eq!(seqs(&ulog), (0..10).collect::<Vec<_>>());
    assert_eq!(seqs(&wlog), (5..10).collect::<Vec<_>>());
    assert_eq!(seqs(&plog), (0..20).step_by(2).collect::<Vec<_>>());
    assert_eq!(seqs(&mlog), [10, 11, 13, 14, 16, 17, 19]);
}

#[test]
fn silence_fills_gaps_bounded_and_on_ticks() {
    let t0 = Instant::now();
    let (rec, log) = recorder(CodecSet::PCM);
    let config = SilenceFillConfig {
        silence_after: Duration::from_millis(60),
        max_silence: Duration::from_millis(200),
    };
    let mut fill = SilenceFill::new(rec, config);
    fill.write(&pcm(1, 0, 1000, t0, 5)).unwrap();
    // A 3-frame gap in RTP time: filled before the next packet.
    fill.write(&pcm(1, 1, 1000 + 4 * 960, tick(t0, 4), 5)).unwrap();
    // A 2 s gap: filled with at most 200 ms (10 frames).
    fill.write(&pcm(1, 2, 1000 + 105 * 960, tick(t0, 105), 5)).unwrap();
    // Then the speaker stops: ticks fill after 60 ms, up to 200 ms.
    for i in 106..130 {
        fill.tick(tick(t0, i)).unwrap();
    }
    let log = log.lock().unwrap();
    let kinds: Vec<bool> =
        log.iter().map(|p| p.concealment == Some(Concealment::Silence)).collect();
    let silent = |r: std::ops::Range<usize>| kinds[r].iter().all(|&k| k);
    assert_eq!(log.len(), 1 + 3 + 1 + 10 + 1 + 10);
    assert!(
        !kinds[0] && silent(1..4) && !kinds[4] && silent(5..15) && !kinds[15] && silent(16..26)
    );
    assert_eq!(log[1].timestamp, RtpTimestamp(1000 + 960), "silence continues the RTP timeline");
    assert!(log[1].pcm.as_ref().unwrap().iter().all(|&s| s == 0));
}

#[test]
fn sink_volume_changes_within_one_frame() {
    let (rec, log) = recorder(CodecSet::PCM);
    let mut vol = VolumeSink::new(rec, 1.0);
    let handle = vol.handle();
    let t0 = Instant::now();
    vol.write(&pcm(1, 0, 0, t0, 8000)).unwrap();
    std::thread::spawn(move || handle.set(0.5)).join().unwrap();
    vol.write(&pcm(1, 1, 960, t0, 8000)).unwrap();
    vol.write(&pcm(1, 2, 1920, t0, 8000)).unwrap();
    let log = log.lock().unwrap();
    assert!(log[0].pcm.as_ref().unwrap().iter().all(|&s| s == 8000));
    assert_eq!(*log[1].pcm.as_ref().unwrap().last().unwrap(), 4000);
    assert!(log[2].pcm.as_ref().unwrap().iter().all(|&s| s == 4000));
}
