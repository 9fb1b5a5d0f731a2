//! PCM from any [`Read`]er, and frames from an iterator.

use std::io::{ErrorKind, Read};

use crate::{AudioFrame, AudioKind, AudioRead, Error, FRAME_BYTES, MediaSource};

/// Plays raw 48 kHz stereo signed 16-bit little-endian PCM from any reader (a file, a pipe, a
/// `&[u8]`).
///
/// A short last frame is padded with silence; a trailing odd byte is ignored.
#[derive(Debug)]
pub struct PcmSource<R> {
    reader: Option<R>,
    buf: Box<[u8; FRAME_BYTES]>,
}

impl<R: Read + Send> PcmSource<R> {
    /// Wraps a reader. It is dropped (closing a file or pipe) when the stream ends or on cleanup.
    pub fn new(reader: R) -> Self {
        Self { reader: Some(reader), buf: Box::new([0; FRAME_BYTES]) }
    }

    /// The reader, until the stream ended.
    pub fn get_ref(&self) -> Option<&R> {
        self.reader.as_ref()
    }
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Converts little-endian bytes into the frame's samples, padding with silence.
pub(crate) fn bytes_to_frame(bytes: &[u8], frame: &mut AudioFrame) {
    let pcm = frame.pcm_mut();
    let mut pairs = bytes.chunks_exact(2);
    for (s, b) in pcm.iter_mut().zip(pairs.by_ref()) {
        *s = i16::from_le_bytes([b[0], b[1]]);
    }
    let n = bytes.len() / 2;
    if let Some(tail) = pcm.get_mut(n..) {
        tail.fill(0);
    }
}

impl<R: Read + Send> MediaSource for PcmSource<R> {
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Pcm)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        let Some(reader) = self.reader.as_mut() else { return Ok(AudioRead::End) };
        let n = match read_full(reader, &mut self.buf[..]) {
            Ok(n) => n,
            Err(e) => {
                self.reader = None;
                return Err(e.into());
            }
        };
        if n < FRAME_BYTES {
            self.reader = None;
        }
        if n < 2 {
            return Ok(AudioRead::End);
        }
        bytes_to_frame(&self.buf[..n], frame);
        Ok(AudioRead::Frame)
    }

    fn is_finished(&self) -> bool {
        self.reader.is_none()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.reader = None;
        Ok(())
    }
}

/// The shared body of the iterator sources: fills `frame` from the next item, or ends for good.
fn next_item<I: Iterator>(
    iter: &mut Option<I>,
    fill: impl FnOnce(I::Item) -> Result<(), Error>,
) -> Result<AudioRead, Error> {
    let Some(item) = iter.as_mut().and_then(Iterator::next) else {
        *iter = None;
        return Ok(AudioRead::End);
    };
    fill(item)?;
    Ok(AudioRead::Frame)
}

/// Plays PCM frames produced by an iterator. Each item is interleaved stereo, at most
/// [`FRAME_LEN`](crate::FRAME_LEN) samples; a short one is padded with silence.
///
/// ```
/// use voxwire_sources::{AudioFrame, AudioRead, MediaSource, PcmFrames, FRAME_LEN};
/// let mut src = PcmFrames::new(vec![vec![1i16; FRAME_LEN], vec![2; 10]]);
/// let mut frame = AudioFrame::new();
/// assert_eq!(src.read_audio(&mut frame)?, AudioRead::Frame);
/// assert_eq!(src.read_audio(&mut frame)?, AudioRead::Frame);
/// assert_eq!(frame.pcm()[9..11], [2, 0]);
/// assert_eq!(src.read_audio(&mut frame)?, AudioRead::End);
/// # Ok::<(), voxwire_sources::Error>(())
/// ```
#[derive(Debug)]
pub struct PcmFrames<I> {
    iter: Option<I>,
    nonblocking: bool,
}

impl<I> PcmFrames<I>
where
    I: Iterator + Send,
    I::Item: AsRef<[i16]>,
{
    /// Plays `frames` in order.
    pub fn new(frames: impl IntoIterator<IntoIter = I>) -> Self {
        Self { iter: Some(frames.into_iter()), nonblocking: false }
    }

    /// Declares that the iterator never blocks: its items are already in memory (a `Vec`, a
    /// slice, a shared clip), not read from a channel, a file or a socket. A player may then read
    /// the source on its shared send clock instead of on a thread of its own
    /// ([`MediaSource::is_nonblocking`]).
    #[must_use]
    pub fn nonblocking(mut self) -> Self {
        self.nonblocking = true;
        self
    }
}

impl<I> MediaSource for PcmFrames<I>
where
    I: Iterator + Send,
    I::Item: AsRef<[i16]>,
{
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Pcm)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        next_item(&mut self.iter, |item| frame.set_pcm(item.as_ref()))
    }

    fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    fn is_finished(&self) -> bool {
        self.iter.is_none()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.iter = None;
        Ok(())
    }
}

/// Plays Opus packets (each 20 ms of audio) produced by an iterator, without decoding them.
#[derive(Debug)]
pub struct OpusFrames<I> {
    iter: Option<I>,
    nonblocking: bool,
}

impl<I> OpusFrames<I>
where
    I: Iterator + Send,
    I::Item: AsRef<[u8]>,
{
    /// Plays `packets` in order.
    pub fn new(packets: impl IntoIterator<IntoIter = I>) -> Self {
        Self { iter: Some(packets.into_iter()), nonblocking: false }
    }

    /// Declares that the iterator never blocks: its items are already in memory (a `Vec`, a
    /// slice, a shared clip), not read from a channel, a file or a socket. A player may then read
    /// the source on its shared send clock instead of on a thread of its own
    /// ([`MediaSource::is_nonblocking`]).
    #[must_use]
    pub fn nonblocking(mut self) -> Self {
        self.nonblocking = true;
        self
    }
}

impl<I> MediaSource for OpusFrames<I>
where
    I: Iterator + Send,
    I::Item: AsRef<[u8]>,
{
    fn audio_kind(&self) -> Option<AudioKind> {
        Some(AudioKind::Opus)
    }

    fn read_audio(&mut self, frame: &mut AudioFrame) -> Result<AudioRead, Error> {
        next_item(&mut self.iter, |item| frame.set_opus(item.as_ref()))
    }

    fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    fn is_finished(&self) -> bool {
        self.iter.is_none()
    }

    fn cleanup(&mut self) -> Result<(), Error> {
        self.iter = None;
        Ok(())
    }
}
