//! Generated audio for the demo: a short melody for the bot to play and a speech-like signal for
//! the simulated participant, so the demo needs no media files.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "signal synthesis: sample indices to seconds, seconds to note indices"
)]

use std::f64::consts::TAU;

const RATE: f64 = 48_000.0;
const FRAME: usize = 960;

fn frames(seconds: u64, mut sample: impl FnMut(f64) -> f64) -> Vec<Vec<i16>> {
    let n = usize::try_from(seconds * 50).unwrap_or(0);
    (0..n)
        .map(|f| {
            (0..FRAME)
                .flat_map(|i| {
                    let t = (f * FRAME + i) as f64 / RATE;
                    let v = (sample(t).clamp(-1.0, 1.0) * 14_000.0) as i16;
                    [v, v]
                })
                .collect()
        })
        .collect()
}

/// An arpeggio over a C-major progression, with a plucked envelope and a bass line.
pub(crate) fn melody(seconds: u64) -> Vec<Vec<i16>> {
    const CHORDS: [[f64; 3]; 4] = [
        [261.63, 329.63, 392.0],
        [220.0, 261.63, 329.63],
        [174.61, 220.0, 261.63],
        [196.0, 246.94, 293.66],
    ];
    frames(seconds, |t| {
        let beat = (t * 4.0) as usize; // sixteenth notes at 60 bpm quarters
        let chord = CHORDS[(beat / 8) % CHORDS.len()];
        let note = chord[beat % 3] * if (beat / 3).is_multiple_of(2) { 2.0 } else { 1.0 };
        let since = t - beat as f64 / 4.0;
        let pluck = (-since * 9.0).exp();
        let bass = chord[0] / 2.0;
        0.45 * pluck * (TAU * note * t).sin() + 0.25 * (TAU * bass * t).sin()
    })
}

/// A voice-like signal: a 140 Hz fundamental with formant-ish harmonics, in syllables with pauses.
pub(crate) fn voice(seconds: u64) -> Vec<Vec<i16>> {
    frames(seconds, |t| {
        let syllable = (t * 3.0).fract();
        let env = if (t * 0.5).fract() > 0.8 {
            0.0
        } else {
            (syllable * std::f64::consts::PI).sin().powi(2)
        };
        let f0 = 140.0 + 20.0 * (TAU * 0.7 * t).sin();
        let mut v = 0.0;
        for (k, a) in [(1.0, 0.5), (2.0, 0.3), (3.0, 0.25), (5.0, 0.12), (8.0, 0.06)] {
            v += a * (TAU * f0 * k * t).sin();
        }
        env * v * 0.8
    })
}
