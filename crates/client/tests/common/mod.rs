//! Shared by the end-to-end tests: credentials from a join, a test tone, and its measurement.
#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "test signal math on small sample counts and amplitudes"
)]

use std::f64::consts::PI;

use voxwire::ConnectionInfo;
use voxwire_server::JoinInfo;

/// The credentials of a join, as a main gateway would hand them to the client.
pub(crate) fn info(j: &JoinInfo) -> ConnectionInfo {
    ConnectionInfo {
        endpoint: j.endpoint.clone(),
        token: j.token.clone(),
        session_id: j.session_id.clone(),
        guild_id: j.guild_id.parse().expect("guild id"),
        channel_id: j.channel_id.parse().expect("channel id"),
        user_id: j.user_id.parse().expect("user id"),
    }
}

/// `frames` 20 ms frames of a stereo sine at `freq` Hz and peak `amplitude`.
pub(crate) fn tone(freq: f64, frames: usize, amplitude: f64) -> Vec<Vec<i16>> {
    (0..frames)
        .map(|f| {
            (0..960)
                .flat_map(|i| {
                    let t = (f * 960 + i) as f64 / 48_000.0;
                    let v = ((2.0 * PI * freq * t).sin() * amplitude) as i16;
                    [v, v]
                })
                .collect()
        })
        .collect()
}

/// Dominant frequency of the left channel of interleaved stereo, by rising zero crossings.
pub(crate) fn frequency(stereo: &[i16]) -> f64 {
    let left: Vec<i16> = stereo.iter().step_by(2).copied().collect();
    let crossings = left.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    crossings as f64 * 48_000.0 / left.len().max(1) as f64
}
