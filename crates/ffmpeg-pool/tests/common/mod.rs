//! Test inputs generated with FFmpeg's lavfi sine source, and audio checks.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::cast_precision_loss,
    clippy::similar_names,
    reason = "test helpers: not every test uses every helper; sample counts fit f64"
)]

use std::path::Path;
use std::process::Command;

pub use voxwire_testkit::TempDir;

/// Writes a `seconds`-long 48 kHz stereo sine of `freq` Hz to `path` (format from the extension).
pub fn sine(path: &Path, freq: u32, seconds: f64) {
    voxwire_testkit::sine(path, freq, seconds, 48_000, &[]);
}

/// Writes Opus packets as an Ogg Opus file and decodes it with FFmpeg to mono s16le 48 kHz.
pub fn decode_packets(
    dir: &TempDir,
    packets: &[voxwire_ffmpeg::OpusPacket],
    channels: u8,
) -> Vec<i16> {
    use voxwire_ffmpeg::ogg::{flags, opus_head, write_page};
    let mut ogg = Vec::new();
    write_page(&mut ogg, flags::BOS, 0, 1, 0, &[&opus_head(channels, 312)]);
    write_page(&mut ogg, 0, 0, 1, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
    let mut granule = 0i64;
    let chunks: Vec<_> = packets.chunks(50).collect();
    for (i, c) in chunks.iter().enumerate() {
        granule += c.iter().map(|p| i64::from(p.samples)).sum::<i64>();
        let refs: Vec<&[u8]> = c.iter().map(|p| p.data.as_ref()).collect();
        let f = if i + 1 == chunks.len() { flags::EOS } else { 0 };
        write_page(&mut ogg, f, granule, 1, 2 + i as u32, &refs);
    }
    let ogg_path = dir.join("check.opus");
    std::fs::write(&ogg_path, &ogg).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(&ogg_path)
        .args(["-f", "s16le", "-ac", "1", "-ar", "48000", "pipe:1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// Tone frequency estimated from positive-going zero crossings over the middle of the signal.
pub fn zero_crossing_hz(samples: &[i16], rate: f64) -> f64 {
    let s = &samples[samples.len() / 10..samples.len() * 9 / 10];
    let crossings = s.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    crossings as f64 * rate / s.len() as f64
}

/// Goertzel power of `freq` relative to total power, in 0..=1 (1 = a pure tone).
pub fn goertzel_ratio(samples: &[i16], freq: f64, rate: f64) -> f64 {
    let n = samples.len() as f64;
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0;
    for &x in samples {
        let x = f64::from(x);
        energy += x * x;
        let s0 = x + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    2.0 * power / (n * energy.max(1.0))
}

/// Our zombie children, by pid.
pub fn zombie_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
        let mut f = after.split_whitespace();
        let state = f.next();
        let ppid = f.next();
        if state == Some("Z") && ppid == Some(me.as_str()) {
            out.push(pid);
        }
    }
    out
}

/// Checks that `packets` are `seconds` of a `freq` Hz stereo tone: the sample count (the
/// encoder's lookahead, its pre-skip, adds up to one frame), the zero-crossing frequency, and a
/// Goertzel filter's share of the energy away from the edges.
pub fn check_tone(dir: &TempDir, packets: &[voxwire_ffmpeg::OpusPacket], seconds: u32, freq: f64) {
    let samples: u64 = packets.iter().map(|p| u64::from(p.samples)).sum();
    let expected = u64::from(seconds) * 48_000;
    assert!(
        samples >= expected && samples <= expected + 960,
        "{samples} samples, expected {expected}"
    );
    let pcm = decode_packets(dir, packets, 2);
    let hz = zero_crossing_hz(&pcm, 48_000.0);
    assert!((hz - freq).abs() < 3.0, "tone {hz} Hz, expected {freq}");
    assert!(goertzel_ratio(&pcm[4800..pcm.len() - 4800], freq, 48_000.0) > 0.9);
}
