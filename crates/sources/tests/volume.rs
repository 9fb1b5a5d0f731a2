//! A volume change from another thread applies within one frame, ramped and without clipping.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
use std::thread;

use voxwire_sources::{AudioFrame, FRAME_LEN, FRAME_SAMPLES, MediaSource, PcmFrames, Volume};

fn tone(amplitude: f64) -> Vec<i16> {
    (0..FRAME_LEN)
        .map(|i| {
            let t = (i / 2) as f64 / 48_000.0;
            (amplitude * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()).round() as i16
        })
        .collect()
}

#[test]
fn a_change_from_another_thread_is_complete_by_the_end_of_the_next_frame() {
    let src = PcmFrames::new(std::iter::repeat_with(|| vec![10_000i16; FRAME_LEN]).take(4));
    let mut vol = Volume::new(src, 1.0).unwrap();
    let handle = vol.handle();
    let mut frame = AudioFrame::new();
    vol.read_audio(&mut frame).unwrap();
    assert!(frame.pcm().iter().all(|&s| s == 10_000));

    thread::spawn(move || handle.set(0.25)).join().unwrap();
    vol.read_audio(&mut frame).unwrap();
    let pcm = frame.pcm();
    // Ramped: starts near the old gain, monotonic, reaches the new gain at the frame's end.
    assert!(pcm[0] > 9_900);
    assert!(pcm.chunks_exact(2).zip(pcm.chunks_exact(2).skip(1)).all(|(a, b)| b[0] <= a[0]));
    assert_eq!(pcm[FRAME_LEN - 1], 2_500);
    vol.read_audio(&mut frame).unwrap();
    assert!(frame.pcm().iter().all(|&s| s == 2_500));
}

#[test]
fn loud_boost_is_soft_clipped_not_wrapped() {
    let src = PcmFrames::new(vec![tone(30_000.0)]);
    let mut vol = Volume::new(src, 4.0).unwrap();
    let mut frame = AudioFrame::new();
    vol.read_audio(&mut frame).unwrap();
    let pcm = frame.pcm();
    let input = tone(30_000.0);
    // Sign always preserved (no wrap-around), never beyond full scale.
    for (o, i) in pcm.iter().zip(&input) {
        assert!(i.signum() == o.signum() || *i == 0, "{i} -> {o}");
    }
    let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 31_000 && peak < 32_767, "peak {peak}");
    assert_eq!(FRAME_SAMPLES * 2, pcm.len());
}

#[test]
fn volume_rejects_opus_sources() {
    let src = voxwire_sources::OpusFrames::new(vec![vec![0xf8u8, 0xff, 0xfe]]);
    assert!(matches!(Volume::new(src, 0.5), Err(voxwire_sources::Error::VolumeOnOpus)));
}
