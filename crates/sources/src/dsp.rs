//! Sample arithmetic shared by mixing and volume: soft clipping, mixing and gain ramps.
//!
//! Everything works on whole 20 ms frames of interleaved stereo ([`FRAME_LEN`] samples) and
//! allocates nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::{FRAME_LEN, FRAME_SAMPLES};

/// Below this magnitude samples pass through [`soft_clip`] unchanged (about -0.9 dBFS).
pub const SOFT_CLIP_KNEE: i32 = 29_491;

const FULL_SCALE: i32 = i16::MAX as i32;

/// Largest volume a [`VolumeHandle`] accepts (+12 dB).
pub const MAX_VOLUME: f32 = 4.0;

/// Maps a wide sample into `i16` without hard clipping.
///
/// Identity up to [`SOFT_CLIP_KNEE`]; above it the excess is compressed smoothly (continuous value
/// and slope at the knee, monotonic, approaching full scale asymptotically) so overshoot from
/// mixing or gain never wraps and never produces the square-wave edges of hard clipping.
#[inline]
#[expect(
    clippy::cast_precision_loss,
    reason = "magnitudes are capped at 2^30; f32 precision is ample for a limiter curve"
)]
pub fn soft_clip(x: i32) -> i16 {
    let mag = x.unsigned_abs().min(1 << 30).cast_signed();
    if mag <= SOFT_CLIP_KNEE {
        return x as i16;
    }
    let range = (FULL_SCALE - SOFT_CLIP_KNEE) as f32;
    let t = (mag - SOFT_CLIP_KNEE) as f32 / range;
    let y = SOFT_CLIP_KNEE as f32 + range * t / (1.0 + t);
    let y = y as i32;
    (if x < 0 { -y } else { y }) as i16
}

/// Mixes `inputs` into `out`, soft-clipping the sum. With no inputs `out` is silence.
///
/// Sums in 32-bit (no overflow for up to 65 536 inputs); the common case where the sum stays below
/// the knee is a straight narrowing copy, so the whole function vectorises.
pub fn mix_into(out: &mut [i16; FRAME_LEN], inputs: &[&[i16; FRAME_LEN]]) {
    let mut acc = [0i32; FRAME_LEN];
    for input in inputs {
        for (a, &s) in acc.iter_mut().zip(input.iter()) {
            *a += i32::from(s);
        }
    }
    narrow(out, &acc);
}

/// Writes the 32-bit accumulator to `out` with soft clipping where needed.
fn narrow(out: &mut [i16; FRAME_LEN], acc: &[i32; FRAME_LEN]) {
    let peak = acc.iter().fold(0u32, |m, &a| m.max(a.unsigned_abs()));
    if peak <= SOFT_CLIP_KNEE as u32 {
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = a as i16;
        }
    } else {
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = soft_clip(a);
        }
    }
}

/// A volume control shared between the playing thread and any other: a relaxed atomic, so
/// setting it is a single store and reading it per frame costs nothing.
///
/// Clones control the same volume.
#[derive(Clone, Debug)]
pub struct VolumeHandle(Arc<AtomicU32>);

impl VolumeHandle {
    /// A new control at `volume`.
    pub fn new(volume: f32) -> Self {
        Self(Arc::new(AtomicU32::new(sanitize(volume).to_bits())))
    }

    /// Sets the linear volume (1.0 unchanged, 0.0 mute). Clamped to `0.0..=MAX_VOLUME`; NaN mutes.
    /// Takes effect on the next frame, ramped over it.
    pub fn set(&self, volume: f32) {
        self.0.store(sanitize(volume).to_bits(), Ordering::Relaxed);
    }

    /// The current target volume.
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

fn sanitize(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, MAX_VOLUME) }
}

/// Applies a gain that follows a target, ramping linearly across one frame when the target moves,
/// so a volume change is click-free and complete within 20 ms.
#[derive(Clone, Debug)]
pub struct GainRamp {
    current: f32,
}

impl GainRamp {
    /// Starts at `gain` (no ramp on the first frame).
    pub fn new(gain: f32) -> Self {
        Self { current: sanitize(gain) }
    }

    /// The gain reached at the end of the last frame.
    pub fn current(&self) -> f32 {
        self.current
    }

    /// Scales `frame` in place, ramping from the current gain to `target` over the frame. At
    /// exactly unity gain with no ramp the frame is left bit-exact.
    #[expect(clippy::cast_precision_loss, reason = "sample indices are below 960")]
    pub fn apply(&mut self, frame: &mut [i16; FRAME_LEN], target: f32) {
        let target = sanitize(target);
        let start = self.current;
        self.current = target;
        if start.to_bits() == target.to_bits() {
            if target.to_bits() == 1.0f32.to_bits() {
                return;
            }
            for s in frame.iter_mut() {
                *s = soft_clip((f32::from(*s) * target) as i32);
            }
            return;
        }
        let step = (target - start) / FRAME_SAMPLES as f32;
        for (i, pair) in frame.chunks_exact_mut(2).enumerate() {
            let g = start + step * (i + 1) as f32;
            for s in pair {
                *s = soft_clip((f32::from(*s) * g) as i32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn soft_clip_is_identity_below_knee_and_bounded_above() {
        assert_eq!(soft_clip(0), 0);
        assert_eq!(soft_clip(SOFT_CLIP_KNEE), SOFT_CLIP_KNEE as i16);
        assert_eq!(soft_clip(-SOFT_CLIP_KNEE), -SOFT_CLIP_KNEE as i16);
        assert!(soft_clip(i32::MAX) < i16::MAX);
        assert!(soft_clip(i32::MIN) >= -i16::MAX);
        assert!(soft_clip(40_000) > soft_clip(35_000));
    }

    proptest! {
        #[test]
        fn soft_clip_is_monotonic_and_odd(a in -2_000_000i32..2_000_000, d in 0i32..5_000) {
            prop_assert!(soft_clip(a) <= soft_clip(a + d));
            prop_assert_eq!(soft_clip(-a), -soft_clip(a));
        }

        #[test]
        fn mixing_one_input_below_knee_is_exact(v in proptest::collection::vec(-SOFT_CLIP_KNEE as i16..=SOFT_CLIP_KNEE as i16, FRAME_LEN)) {
            let mut input = [0i16; FRAME_LEN];
            input.copy_from_slice(&v);
            let mut out = [1i16; FRAME_LEN];
            mix_into(&mut out, &[&input]);
            prop_assert_eq!(out, input);
        }
    }

    #[test]
    fn mixing_sums_and_soft_clips_overshoot() {
        let a = [10_000i16; FRAME_LEN];
        let b = [-3_000i16; FRAME_LEN];
        let mut out = [0i16; FRAME_LEN];
        mix_into(&mut out, &[&a, &b]);
        assert!(out.iter().all(|&s| s == 7_000));
        let loud = [30_000i16; FRAME_LEN];
        mix_into(&mut out, &[&loud, &loud, &loud]);
        assert!(out.iter().all(|&s| s > SOFT_CLIP_KNEE as i16 && s < i16::MAX));
        mix_into(&mut out, &[]);
        assert!(out.iter().all(|&s| s == 0));
    }

    #[test]
    fn gain_ramp_reaches_target_by_frame_end() {
        let mut ramp = GainRamp::new(1.0);
        let mut frame = [10_000i16; FRAME_LEN];
        ramp.apply(&mut frame, 0.5);
        assert!(frame[0] > 9_980, "ramp starts near the old gain: {}", frame[0]);
        assert_eq!(frame[FRAME_LEN - 1], 5_000);
        let mut next = [10_000i16; FRAME_LEN];
        ramp.apply(&mut next, 0.5);
        assert!(next.iter().all(|&s| s == 5_000));
    }

    #[test]
    fn volume_handle_sanitizes() {
        let h = VolumeHandle::new(2.0);
        assert!((h.get() - 2.0).abs() < f32::EPSILON);
        h.set(f32::NAN);
        assert!(h.get().abs() < f32::EPSILON);
        h.set(100.0);
        assert!((h.get() - MAX_VOLUME).abs() < f32::EPSILON);
        h.set(-1.0);
        assert!(h.get().abs() < f32::EPSILON);
    }
}
