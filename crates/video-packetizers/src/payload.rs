//! The shapes every packetizer and depacketizer share.

use crate::Error;

/// The smallest packetizer MTU this crate accepts: room for the largest payload header plus
/// media bytes.
pub const MIN_MTU: usize = 32;

/// Packetizer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketizerConfig {
    /// Largest RTP payload written, in bytes: the path MTU minus IP, UDP, RTP header, header
    /// extensions and transport-encryption overhead. Discord senders use about 1,200.
    pub mtu: usize,
    /// First VP8/VP9 picture ID (15 bits; incremented per frame). Ignored by other codecs.
    pub initial_picture_id: u16,
}

impl Default for PacketizerConfig {
    fn default() -> Self {
        Self { mtu: 1200, initial_picture_id: 0 }
    }
}

impl PacketizerConfig {
    /// The default configuration with `mtu`.
    pub fn with_mtu(mtu: usize) -> Self {
        Self { mtu, ..Self::default() }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.mtu < MIN_MTU {
            return Err(Error::MtuTooSmall { mtu: self.mtu, minimum: MIN_MTU });
        }
        Ok(())
    }
}

/// Depacketizer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepacketizerConfig {
    /// Largest frame reassembled; a frame that grows beyond it is dropped with
    /// [`Error::FrameTooLarge`]. Bounds the memory a peer can make the receiver hold.
    pub max_frame_size: usize,
}

impl Default for DepacketizerConfig {
    fn default() -> Self {
        Self { max_frame_size: 8 << 20 }
    }
}

/// One payload written by [`Packets::next_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
    /// Set the RTP marker bit: this is the last packet of the frame.
    pub marker: bool,
}

/// The packets of one frame, produced on demand into caller buffers.
///
/// Obtained from a packetizer's `packetize`; call [`Self::next_into`] until it returns `None`.
/// A buffer of [`Self::max_payload_size`] bytes always suffices.
pub trait Packets {
    /// Writes the next payload into `out`. `None` when the frame is finished.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] when `out` cannot hold this payload (nothing is consumed; retry
    /// with a larger buffer).
    #[must_use]
    fn next_into(&mut self, out: &mut [u8]) -> Option<Result<Payload, Error>>;

    /// The configured MTU: no payload is larger.
    fn max_payload_size(&self) -> usize;
}

/// A frame reassembled by a depacketizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The frame bytes (protocol.md 7.7 form: what DAVE authenticated).
    pub data: &'a [u8],
    /// The frame starts a decodable sequence (H264 IDR, H265 IRAP, VP8/VP9 key frame, AV1
    /// sequence header present).
    pub keyframe: bool,
}

/// Common interface of the depacketizers.
///
/// Feed the payloads of one frame in sequence order with the RTP marker bit; the packet that
/// carries the marker returns the frame. The caller (jitter buffer) detects loss from sequence
/// numbers and calls [`Self::reset`] so a partial frame is not completed with foreign packets.
/// After an error the partial frame is already dropped.
pub trait Depacketize {
    /// Adds one RTP payload.
    ///
    /// # Errors
    ///
    /// The payload is malformed, out of order, or would grow the frame past the limit. The
    /// partial frame is dropped.
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Frame<'_>>, Error>;

    /// Drops any partial frame.
    fn reset(&mut self);
}

/// Frame buffer shared by the depacketizers: grows to the largest frame seen and is then
/// reused, so steady-state reassembly allocates nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameBuf {
    pub(crate) data: Vec<u8>,
    pub(crate) keyframe: bool,
    /// The last push returned the frame: clear before the next.
    pub(crate) done: bool,
    pub(crate) max: usize,
}

impl FrameBuf {
    pub(crate) fn new(config: DepacketizerConfig) -> Self {
        Self { data: Vec::new(), keyframe: false, done: false, max: config.max_frame_size }
    }

    /// Called at the start of every push.
    pub(crate) fn begin_packet(&mut self) {
        if self.done {
            self.reset();
        }
    }

    pub(crate) fn reset(&mut self) {
        self.data.clear();
        self.keyframe = false;
        self.done = false;
    }

    pub(crate) fn reserve_check(&self, more: usize) -> Result<(), Error> {
        let size = self.data.len().saturating_add(more);
        if size > self.max {
            return Err(Error::FrameTooLarge { size, limit: self.max });
        }
        Ok(())
    }

    pub(crate) fn extend(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        self.reserve_check(parts.iter().map(|p| p.len()).sum())?;
        for p in parts {
            self.data.extend_from_slice(p);
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self) -> Frame<'_> {
        self.done = true;
        Frame { data: &self.data, keyframe: self.keyframe }
    }
}

/// Copies `parts` into the front of `out` or reports the size needed.
pub(crate) fn write_parts(out: &mut [u8], parts: &[&[u8]]) -> Result<usize, Error> {
    let needed: usize = parts.iter().map(|p| p.len()).sum();
    if needed > out.len() {
        return Err(Error::BufferTooSmall { needed, available: out.len() });
    }
    let mut at = 0;
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    Ok(at)
}

/// Splits `len` bytes into `n` near-equal fragments; returns `(start, size)` of fragment `i`.
pub(crate) const fn even_fragment(len: usize, n: usize, i: usize) -> (usize, usize) {
    let base = len / n;
    let rem = len % n;
    let start = i * base + if i < rem { i } else { rem };
    (start, base + if i < rem { 1 } else { 0 })
}
