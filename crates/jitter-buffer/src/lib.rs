//! What every received RTP packet becomes: a sans-IO per-SSRC audio jitter buffer with an
//! adaptive playout delay, a video frame assembler with NACK (RFC 4585) and keyframe requests,
//! RTX repair (RFC 4588), and the sender's RTX history. Sequence and timestamp arithmetic is
//! RFC 3550 serial arithmetic from `voxwire-rtp`.
//!
//! Nothing here reads a clock, sleeps or does I/O: the caller passes each packet with the time
//! it arrived, and asks what is ready at a given time. Time must be monotonic across calls.
//!
//! # Audio: [`AudioJitterBuffer`]
//!
//! One per SSRC. Call order:
//! 1. [`AudioJitterBuffer::push`] each packet with its arrival time;
//! 2. [`AudioJitterBuffer::poll`] until it returns [`Playout::Wait`] or [`Playout::Empty`]:
//!    [`Playout::Ready`] is the next frame in order, [`Playout::Lost`] a frame whose time came
//!    without it (conceal it, or decode it from the next packet's in-band FEC, which
//!    [`LostFrame::next_payload`] hands over when it is buffered);
//! 3. poll again at the `Wait` deadline or after the next push.
//!
//! Each frame is due at *send time + reference transit + playout delay*: the send time comes
//! from the RTP timestamp, the reference transit is the fastest recent packet's (a windowed
//! minimum, which follows clock drift and route changes), and the playout delay is fixed or
//! adaptive. The adaptive delay tracks the distribution of how much later than the reference
//! packets arrive: a forgetting histogram read at a high quantile gives the steady level, a peak
//! detector grows the delay at once on a burst, and the delay shrinks again, at a bounded rate,
//! when the network calms down.
//!
//! Invariants, whatever the input (property-tested and fuzzed):
//! - frames come out in sequence order, each sequence number at most once;
//! - at most `capacity` frames are held, payload storage never exceeds
//!   `capacity * max_payload` bytes, and after warm-up nothing is allocated per packet;
//! - duplicates and packets whose frame already went out are reported, not played;
//! - a new SSRC, a sequence jump beyond the buffer or a timestamp discontinuity restarts the
//!   stream, and [`Frame::media_time`] stays continuous across restarts so recordings stay
//!   aligned.
//!
//! [`SeqReorder`] is the simpler reordering sink of the seed's receive extension, kept as the
//! baseline of the quality benches.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxwire_jitter::{AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout};
//! use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
//!
//! let mut jb = AudioJitterBuffer::new(JitterBufferConfig::default());
//! let t0 = Instant::now();
//! let ms = Duration::from_millis;
//! let pkt = |seq: u16| AudioPacket {
//!     ssrc: Ssrc(1),
//!     seq: SeqNo(seq),
//!     timestamp: RtpTimestamp(u32::from(seq) * 960),
//!     payload: b"opus",
//! };
//! // 1 arrives before 0; 2 never arrives; 3 does.
//! let _ = jb.push(&pkt(1), t0);
//! let _ = jb.push(&pkt(0), t0 + ms(1));
//! let _ = jb.push(&pkt(3), t0 + ms(45));
//! let mut now = t0;
//! let mut out = Vec::new();
//! loop {
//!     match jb.poll(now) {
//!         Playout::Ready(f) => out.push(format!("play {}", f.seq)),
//!         Playout::Lost(l) => out.push(format!("lost {} fec={}", l.seq, l.next_payload.is_some())),
//!         Playout::Wait(t) => now = t,
//!         Playout::Empty => break,
//!     }
//! }
//! assert_eq!(out, ["play 0", "play 1", "lost 2 fec=true", "play 3"]);
//! ```
//!
//! # Video: [`VideoReceiver`] and [`RtxHistory`]
//!
//! [`VideoReceiver`] (one per video SSRC) collects each frame's packets by timestamp and marker,
//! NACKs missing packets ([`NackConfig`]: 100 ms between retries, bounded retries and
//! outstanding packets), restores RTX packets to their original sequence number
//! ([`VideoReceiver::push_rtx`]), returns complete frames in order, and asks for a keyframe
//! ([`Feedback::Pli`]) when a frame cannot be completed. The codec hints (frame start,
//! keyframe) come from the caller, so this crate does not depend on the codecs.
//! [`RtxHistory`] is the sender's side: recent packets in a bounded ring, served on NACK.
//!
//! # Cost per packet
//!
//! `push` plus the `poll`s it enables allocate nothing and do integer work only: inside a
//! stream, time is nanoseconds after its epoch. A packet's send time is converted once, at
//! `push`, and kept in its slot, so a `poll` compares and adds; the stream's clock converts each
//! `Instant` once and remembers the last deadline it returned, so the polls that follow a push
//! at the same `now`, and the poll at a `Wait` deadline, convert nothing. The delay estimator
//! does constant integer work per packet (a bucketed windowed minimum that divides only when a
//! new bucket starts, a monotonic queue in a power-of-two ring, one histogram update, and every
//! eighth packet a scan of the histogram's lower bins) and keeps the target up to date, so the
//! buffer reads it per frame with a load. A payload is one `memcpy` into its slot's grow-only
//! storage. `benches/jitter.rs` measures it: 55 to 69 ns per packet on a quiet 2-core VM (see the
//! README); the playout decisions are the same as before this work, to the byte of
//! `cargo xtask bench jitter`'s report and plot.
//!
//! # Deliberate differences
//!
//! - From S-NV's NACK schedule (protocol.md section 10: 100 ms, 100 retries, 1000
//!   outstanding): the default is 10 retries. A video packet still missing after a second is of
//!   no use to a real-time receiver, and a keyframe request repairs the picture sooner.
//! - From `NetEQ` (libwebrtc): no time-stretching. This crate works on encoded packets; the delay
//!   grows by holding frames back and shrinks by releasing them sooner (at most
//!   `shrink_rate` faster than real time), and timestamps are never rewritten, so a decoder
//!   or recorder downstream sees every frame and every gap.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audio;
mod baseline;
mod delay;
mod error;
mod nack;
mod rtx;
mod video;

pub use audio::{
    AudioJitterBuffer, AudioPacket, Frame, JitterBufferConfig, JitterStats, LostFrame, Playout,
    PlayoutDelay, PushOutcome,
};
pub use baseline::SeqReorder;
pub use delay::AdaptiveConfig;
pub use error::Error;
pub use nack::{NackConfig, NackStats, NackTracker};
pub use rtx::{
    HistoryPacket, OSN_LEN, RtxHistory, RtxStats, parse_rtx_payload, rtx_payload_len,
    write_rtx_payload,
};
pub use video::{
    Feedback, VideoFrame, VideoPacket, VideoReceiver, VideoReceiverConfig, VideoStats,
};

/// Replaces `buf`'s contents with `data`, growing it to exactly the size needed (never past the
/// largest payload seen, so memory bounds hold) and reusing its allocation otherwise.
#[inline]
fn fill(buf: &mut Vec<u8>, data: &[u8]) {
    buf.clear();
    buf.reserve_exact(data.len());
    buf.extend_from_slice(data);
}
