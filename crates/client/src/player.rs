//! The player thread: reads a source, encodes PCM to Opus off the async runtime, and hands Opus
//! frames to the driver through a small bounded channel. The driver paces them at 20 ms
//! deadlines, so the thread runs at most a few frames ahead.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use audiopus::coder::Encoder;
use audiopus::{Bitrate, Channels, SampleRate};
use voxwire_sources::{AudioFrame, AudioKind, AudioRead, MediaSource};

use crate::{Application, Bandwidth, Error, PlayOptions, Signal};

/// Frames per hand-over: one wake-up of the player thread per batch instead of per frame.
pub(crate) const BATCH: usize = 10;
/// Batches read ahead of the send clock (with the driver's pending batch, at most 3 × 200 ms).
const READ_AHEAD: usize = 2;
/// Largest Opus packet accepted from a source or the encoder.
pub(crate) const MAX_OPUS: usize = 1275;

/// What the player thread hands to the driver.
pub(crate) enum PlayerMsg {
    /// Up to [`BATCH`] consecutive 20 ms Opus frames.
    Frames(Vec<Vec<u8>>),
    /// The source ended.
    End,
    /// The source or the encoder failed.
    Failed(Error),
}

#[expect(clippy::cast_sign_loss, reason = "clamped to 0..=100 first")]
fn loss_percent(p: f32) -> u8 {
    p.round().clamp(0.0, 100.0) as u8
}

fn encoder(options: &PlayOptions) -> Result<Encoder, Error> {
    let opus = |e: audiopus::Error| Error::Opus(e.to_string());
    let app = match options.application {
        Application::Audio => audiopus::Application::Audio,
        Application::Voip => audiopus::Application::Voip,
        Application::LowDelay => audiopus::Application::LowDelay,
    };
    let mut enc = Encoder::new(SampleRate::Hz48000, Channels::Stereo, app).map_err(opus)?;
    enc.set_bitrate(Bitrate::BitsPerSecond(
        i32::try_from(options.bitrate_kbps * 1000).unwrap_or(64_000),
    ))
    .map_err(opus)?;
    enc.set_inband_fec(options.fec).map_err(opus)?;
    enc.set_packet_loss_perc(loss_percent(options.expected_packet_loss)).map_err(opus)?;
    enc.set_max_bandwidth(match options.bandwidth {
        Bandwidth::Narrow => audiopus::Bandwidth::Narrowband,
        Bandwidth::Medium => audiopus::Bandwidth::Mediumband,
        Bandwidth::Wide => audiopus::Bandwidth::Wideband,
        Bandwidth::Superwide => audiopus::Bandwidth::Superwideband,
        Bandwidth::Full => audiopus::Bandwidth::Fullband,
    })
    .map_err(opus)?;
    enc.set_signal(match options.signal {
        Signal::Auto => audiopus::Signal::Auto,
        Signal::Voice => audiopus::Signal::Voice,
        Signal::Music => audiopus::Signal::Music,
    })
    .map_err(opus)?;
    Ok(enc)
}

/// Starts the thread. Dropping the receiver stops it; the source is cleaned up on the thread.
pub(crate) fn spawn(
    mut source: Box<dyn MediaSource>,
    options: PlayOptions,
) -> Result<(Receiver<PlayerMsg>, JoinHandle<()>), Error> {
    options.validate()?;
    let (tx, rx) = sync_channel(READ_AHEAD);
    let handle = std::thread::Builder::new()
        .name("voxwire-player".into())
        .spawn(move || {
            // A panicking source ends its playback with an error, not silently.
            let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let result = run(&mut *source, &options, &tx);
                result.and(source.cleanup().map_err(Error::from))
            }));
            let msg = match guarded {
                Ok(Ok(())) => PlayerMsg::End,
                Ok(Err(e)) => PlayerMsg::Failed(e),
                Err(panic) => {
                    PlayerMsg::Failed(Error::SourcePanicked(crate::error::panic_message(&*panic)))
                }
            };
            let _ = tx.send(msg);
        })
        .map_err(|source| Error::Io { what: "starting the player thread", source })?;
    Ok((rx, handle))
}

fn run(
    source: &mut dyn MediaSource,
    options: &PlayOptions,
    tx: &SyncSender<PlayerMsg>,
) -> Result<(), Error> {
    let mut frame = AudioFrame::new();
    let mut enc: Option<Encoder> = None;
    let mut opus = [0u8; MAX_OPUS];
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let read = if source.audio_kind().is_some() {
            source.read_audio(&mut frame)
        } else {
            Ok(AudioRead::End)
        };
        if !matches!(read, Ok(AudioRead::Frame)) {
            // The end or a failure: what was read before it still plays.
            if !batch.is_empty() {
                let _ = tx.send(PlayerMsg::Frames(std::mem::take(&mut batch)));
            }
            return read.map(|_| ()).map_err(Error::from);
        }
        let packet = match frame.kind() {
            AudioKind::Pcm => {
                let e = match enc.as_mut() {
                    Some(e) => e,
                    None => enc.insert(encoder(options)?),
                };
                let n = e
                    .encode(&frame.pcm()[..], &mut opus)
                    .map_err(|e| Error::Opus(e.to_string()))?;
                opus[..n].to_vec()
            }
            AudioKind::Opus => frame.opus().to_vec(),
        };
        if packet.is_empty() || packet.len() > MAX_OPUS {
            return Err(Error::Opus(format!(
                "a source produced an Opus packet of {} bytes",
                packet.len()
            )));
        }
        batch.push(packet);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(PlayerMsg::Frames(full)).is_err() {
                // Stopped: the driver dropped the receiver.
                return Ok(());
            }
        }
    }
}
