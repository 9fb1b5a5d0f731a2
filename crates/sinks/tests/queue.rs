//! Queue sinks: blocking and async consumers, bounded with drop-oldest/drop-newest and a counter.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::queue::{self, Overflow, QueueConfig};
use voxwire_sinks::{Codec, CodecSet, FanOut, MediaPacket, MediaType, Sink};

fn p(seq: u16) -> MediaPacket {
    MediaPacket::opus(
        Ssrc(1),
        SeqNo(seq),
        RtpTimestamp(u32::from(seq) * 960),
        Instant::now(),
        Bytes::from_static(&[0xf8]),
    )
}

#[test]
fn blocking_consumer_on_another_thread_gets_everything_in_order() {
    let (mut sink, rx) = queue::channel(QueueConfig::default());
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(pk) = rx.recv() {
            got.push(pk.sequence.0);
        }
        got
    });
    for s in 0..300 {
        sink.write(&p(s)).unwrap();
    }
    sink.cleanup().unwrap();
    assert_eq!(consumer.join().unwrap(), (0..300).collect::<Vec<_>>());
}

#[test]
fn drop_oldest_and_drop_newest_count_drops() {
    let (mut sink, rx) = queue::channel(QueueConfig::default().capacity(3));
    for s in 0..10 {
        sink.write(&p(s)).unwrap();
    }
    assert_eq!((rx.dropped(), sink.dropped(), rx.len()), (7, 7, 3));
    assert_eq!(rx.try_recv().unwrap().sequence, SeqNo(7), "the oldest were dropped");

    let (mut sink, rx) =
        queue::channel(QueueConfig::default().capacity(3).overflow(Overflow::DropNewest));
    for s in 0..10 {
        sink.write(&p(s)).unwrap();
    }
    assert_eq!(rx.dropped(), 7);
    assert_eq!(rx.try_recv().unwrap().sequence, SeqNo(0), "the newest were dropped");
    assert!(rx.recv_timeout(Duration::from_millis(1)).is_some());
}

#[test]
fn async_consumer_awaits_packets_and_the_end() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (sink, rx) = queue::channel(QueueConfig::default().accepts(CodecSet::OPUS));
    let mut tree = FanOut::new(vec![Box::new(sink)]);
    assert!(tree.wants(MediaType::Audio, Codec::Opus));
    assert!(!tree.wants(MediaType::Audio, Codec::Pcm));
    let producer = std::thread::spawn(move || {
        for s in 0..50 {
            tree.write(&p(s)).unwrap();
        }
        tree.cleanup().unwrap();
    });
    let got = rt.block_on(async {
        let mut got = Vec::new();
        while let Some(pk) = rx.recv_async().await {
            got.push(pk.sequence.0);
        }
        got
    });
    producer.join().unwrap();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert!(rx.is_closed());
}
