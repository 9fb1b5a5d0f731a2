//! At 10% loss (both directions), video frames complete after NACK and RTX retransmission, and
//! the receiver never NACKs a packet more than the configured number of times.
#![expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]
#![expect(clippy::cast_precision_loss, reason = "test statistics")]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use voxwire_jitter::{
    Feedback, HistoryPacket, NackConfig, RtxHistory, VideoPacket, VideoReceiver,
    VideoReceiverConfig, rtx_payload_len, write_rtx_payload,
};
use voxwire_netsim::{Loss, Netsim, NetsimConfig};
use voxwire_rtp::{RtpTimestamp, SeqNo};

#[derive(Clone, Debug)]
enum Wire {
    Media { seq: SeqNo, ts: RtpTimestamp, marker: bool, start: bool, key: bool, payload: Vec<u8> },
    Rtx { ts: RtpTimestamp, marker: bool, payload: Vec<u8> },
}

#[derive(Clone, Debug)]
enum Rtcp {
    Nack(Vec<SeqNo>),
    Pli,
}

struct Outcome {
    frames_sent: u64,
    frames_done: u64,
    lost_packets: u64,
    max_nacks_per_seq: u32,
    total_nacks: u64,
    plis: u64,
}

#[expect(clippy::too_many_lines, reason = "one event loop: sender, two networks, receiver")]
fn run(loss: f64, seed: u64, serve_rtx: bool) -> Outcome {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let cfg =
        NetsimConfig::default().with_delay(ms(25)).with_jitter(ms(3)).with_loss(Loss::Random(loss));
    let mut down: Netsim<Wire> = Netsim::new(cfg, seed);
    let mut up: Netsim<Rtcp> = Netsim::new(cfg, seed ^ 0xABCD);
    let mut history = RtxHistory::new(1024, 1200, ms(10));
    let nack = NackConfig { max_retries: 8, ..NackConfig::default() };
    let mut rx = VideoReceiver::new(VideoReceiverConfig { nack, ..VideoReceiverConfig::default() });
    let mut nacks_per_seq: HashMap<u16, u32> = HashMap::new();
    // Codec hints per sequence number, as the receiver's depacketizer would find them in the
    // restored payload.
    let mut hints: HashMap<u16, (bool, bool)> = HashMap::new();

    let (mut seq, mut frame) = (SeqNo(65_000), 0u64);
    let frames = 30 * 20; // 20 s at 30 fps
    let mut frames_done = 0;
    let mut now = t0;
    let mut next_frame_at = t0;
    let mut force_key = false;
    let mut last_ts = None;
    while now < t0 + Duration::from_secs(22) {
        // Sender: one frame every 33 ms of 1..=6 packets, a keyframe every 3 s or on PLI.
        if frame < frames && now >= next_frame_at {
            let key = frame % 90 == 0 || force_key;
            force_key = false;
            let ts = RtpTimestamp((frame as u32).wrapping_mul(3000));
            let n = if key { 6 } else { 1 + frame % 4 };
            for i in 0..n {
                let payload = vec![(frame % 251) as u8; 300];
                let (marker, start) = (i == n - 1, i == 0);
                history
                    .insert(&HistoryPacket { seq, timestamp: ts, marker, payload: &payload }, now);
                hints.insert(seq.0, (start, key));
                down.send_sized(Wire::Media { seq, ts, marker, start, key, payload }, 312, now);
                seq = seq.next();
            }
            frame += 1;
            next_frame_at += ms(33);
        }
        // Sender receives RTCP.
        while let Some(d) = up.poll(now) {
            match d.packet {
                Rtcp::Pli => force_key = true,
                Rtcp::Nack(list) => {
                    for s in list.into_iter().filter(|_| serve_rtx) {
                        if let Some(p) = history.resend(s, now) {
                            let mut buf = vec![0; rtx_payload_len(p.payload.len())];
                            write_rtx_payload(s, p.payload, &mut buf).unwrap();
                            down.send_sized(
                                Wire::Rtx { ts: p.timestamp, marker: p.marker, payload: buf },
                                314,
                                now,
                            );
                        }
                    }
                }
            }
        }
        // Receiver.
        while let Some(d) = down.poll(now) {
            match d.packet {
                Wire::Media { seq, ts, marker, start, key, payload } => {
                    let p = VideoPacket {
                        seq,
                        timestamp: ts,
                        marker,
                        frame_start: start,
                        keyframe: key,
                        payload: &payload,
                    };
                    let _ = rx.push(&p, now);
                }
                Wire::Rtx { ts, marker, payload } => {
                    let osn = u16::from_be_bytes([payload[0], payload[1]]);
                    let (start, key) = hints[&osn];
                    let p = VideoPacket {
                        seq: SeqNo(0),
                        timestamp: ts,
                        marker,
                        frame_start: start,
                        keyframe: key,
                        payload: &payload,
                    };
                    rx.push_rtx(&p, now).unwrap();
                }
            }
        }
        while let Some(f) = rx.poll_frame(now) {
            assert!(f.payloads().all(|p| p.len() == 300));
            let ts = f.timestamp;
            if let Some(last) = last_ts {
                assert!(RtpTimestamp::is_newer_than(ts, last), "frames out of order");
            }
            last_ts = Some(ts);
            frames_done += 1;
        }
        while let Some(fb) = rx.poll_feedback(now) {
            match fb {
                Feedback::Pli => up.send_sized(Rtcp::Pli, 12, now),
                Feedback::Nack(list) => {
                    for s in list {
                        *nacks_per_seq.entry(s.0).or_default() += 1;
                    }
                    up.send_sized(Rtcp::Nack(list.to_vec()), 16, now);
                }
            }
        }
        // Next event.
        let next = [
            (frame < frames).then_some(next_frame_at),
            down.poll_timeout(),
            up.poll_timeout(),
            rx.poll_timeout(),
            Some(now + ms(5)),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
        now = next.max(now + Duration::from_micros(100));
    }
    let s = rx.stats();
    Outcome {
        frames_sent: frames,
        frames_done,
        lost_packets: down.stats().lost,
        max_nacks_per_seq: nacks_per_seq.values().copied().max().unwrap_or(0),
        total_nacks: s.nack.nacks_sent,
        plis: s.plis,
    }
}

#[test]
fn frames_complete_after_retransmission_at_10_percent_loss() {
    let o = run(0.10, 1, true);
    let completion = o.frames_done as f64 / o.frames_sent as f64;
    assert!(o.lost_packets > 100, "the network must lose packets: {}", o.lost_packets);
    assert!(completion > 0.97, "only {} of {} frames completed", o.frames_done, o.frames_sent);
    assert!(o.plis <= 3, "too many keyframe requests: {}", o.plis);
}

#[test]
fn no_nack_storm() {
    for seed in 1..4 {
        let o = run(0.10, seed, true);
        // Bounded per packet by max_retries, and in total close to what the losses need: each
        // lost packet (original, its NACK, or its RTX) costs about 1.2 NACKs at 10% loss.
        assert!(o.max_nacks_per_seq <= 8, "a packet was NACKed {} times", o.max_nacks_per_seq);
        let per_loss = o.total_nacks as f64 / o.lost_packets as f64;
        assert!(per_loss < 2.0, "{per_loss} NACKs per lost packet");
    }
}

#[test]
fn without_retransmission_frames_are_lost_and_keyframes_requested() {
    // The same network with the sender ignoring NACKs: shows the tests above can fail.
    let o = run(0.10, 1, false);
    assert!(
        (o.frames_done as f64) < 0.8 * o.frames_sent as f64,
        "{} of {}",
        o.frames_done,
        o.frames_sent
    );
    assert!(o.plis > 3);
    assert!(o.max_nacks_per_seq <= 8);
}

#[test]
fn lossless_network_completes_every_frame_without_keyframe_requests() {
    let o = run(0.0, 1, true);
    assert_eq!(o.frames_done, o.frames_sent);
    assert_eq!(o.plis, 0);
    // Packets of one frame leave together and up to ~10 ms of jitter reorders some of them past
    // the 5 ms NACK delay: a few spurious NACKs (of ~1500 packets), never a storm.
    assert!(o.total_nacks < 75, "{} NACKs on a lossless network", o.total_nacks);
}
