//! FFmpeg PCM source on real files: decodes, resamples, reports a crash or a missing FFmpeg.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use common::{TempDir, rms, tone_hz};
use voxwire_ffmpeg::{Input, ToolsConfig};
use voxwire_sources::ffmpeg::{FfmpegPcmSource, FfmpegSourceConfig};
use voxwire_sources::{AudioFrame, AudioRead, Error, MediaSource};

fn read_all(src: &mut impl MediaSource) -> Result<Vec<i16>, Error> {
    let mut frame = AudioFrame::new();
    let mut out = Vec::new();
    while src.read_audio(&mut frame)? == AudioRead::Frame {
        out.extend_from_slice(frame.pcm());
    }
    Ok(out)
}

#[test]
fn decodes_and_resamples_a_44k_mp3_to_48k_stereo() {
    require_ffmpeg!();
    let dir = TempDir::new("pcm");
    let path = dir.join("tone.mp3");
    common::sine(&path, 440, 1.0, 44_100, &["-c:a", "libmp3lame", "-b:a", "128k"]);
    let mut src = FfmpegPcmSource::new(path.as_path(), &FfmpegSourceConfig::default()).unwrap();
    let pcm = read_all(&mut src).unwrap();
    assert!(src.is_finished());
    src.cleanup().unwrap();
    let secs = pcm.len() as f64 / 2.0 / 48_000.0;
    assert!((0.98..1.1).contains(&secs), "duration {secs}");
    // Skip the encoder delay at the start; measure the steady tone.
    let body = &pcm[9600..pcm.len() - 9600];
    let hz = tone_hz(body);
    assert!((hz - 440.0).abs() < 3.0, "tone {hz} Hz");
    assert!(rms(body) > 1000.0, "level {}", rms(body));
    // Both channels carry the tone.
    let right: Vec<i16> = body.iter().skip(1).step_by(2).copied().collect();
    assert!(rms(&right) > 1000.0);
}

#[test]
fn reads_from_a_pipe_input() {
    require_ffmpeg!();
    let dir = TempDir::new("pipe");
    let path = dir.join("tone.wav");
    common::sine(&path, 1000, 0.5, 48_000, &[]);
    let bytes = std::fs::read(&path).unwrap();
    let mut src = FfmpegPcmSource::new(
        Input::Reader(Box::new(std::io::Cursor::new(bytes))),
        &FfmpegSourceConfig::default(),
    )
    .unwrap();
    let pcm = read_all(&mut src).unwrap();
    assert_eq!(pcm.len(), 24_000 * 2);
    let hz = tone_hz(&pcm);
    assert!((hz - 1000.0).abs() < 3.0, "tone {hz} Hz");
}

#[test]
fn a_failing_ffmpeg_is_an_error_with_its_stderr() {
    require_ffmpeg!();
    let dir = TempDir::new("bad");
    let path = dir.join("not-audio.mp3");
    std::fs::write(&path, b"this is not an mp3 file at all").unwrap();
    let mut src = FfmpegPcmSource::new(path.as_path(), &FfmpegSourceConfig::default()).unwrap();
    match read_all(&mut src) {
        Err(Error::Ffmpeg(voxwire_ffmpeg::Error::Exited { stderr, .. })) => {
            assert!(!stderr.is_empty());
        }
        other => panic!("expected an FFmpeg exit error, got {other:?}"),
    }
}

#[test]
fn a_missing_ffmpeg_is_not_found() {
    let tools = ToolsConfig::new().ffmpeg("/nonexistent/voxwire-test/ffmpeg");
    let err =
        FfmpegPcmSource::new(Input::Url("x".into()), &FfmpegSourceConfig::default().tools(tools))
            .unwrap_err();
    assert!(matches!(err, Error::Ffmpeg(voxwire_ffmpeg::Error::NotFound { .. })), "{err:?}");
}
