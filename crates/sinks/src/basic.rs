//! Callback and fan-out sinks.

use crate::error::Errors;
use crate::sink::forward;
use crate::{Codec, CodecSet, Error, MediaPacket, MediaType, Sink};

/// Calls a closure for each packet of the codecs it accepts.
///
/// ```
/// use std::time::Instant;
/// use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
/// use voxwire_sinks::{CallbackSink, Codec, CodecSet, MediaPacket, MediaType, Sink};
/// let mut seen = 0;
/// let mut sink = CallbackSink::new(CodecSet::OPUS, |p: &MediaPacket| { assert!(!p.lost); });
/// assert!(sink.wants(MediaType::Audio, Codec::Opus));
/// assert!(!sink.wants(MediaType::Audio, Codec::Pcm));
/// let p = MediaPacket::opus(Ssrc(1), SeqNo(7), RtpTimestamp(960), Instant::now(), vec![0xf8].into());
/// sink.write(&p)?;
/// sink.cleanup()?;
/// # Ok::<(), voxwire_sinks::Error>(())
/// ```
pub struct CallbackSink<F> {
    accepts: CodecSet,
    callback: F,
    closed: bool,
}

impl<F> std::fmt::Debug for CallbackSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSink")
            .field("accepts", &self.accepts)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&MediaPacket) + Send> CallbackSink<F> {
    /// Calls `callback` for every packet whose codec is in `accepts`.
    pub fn new(accepts: CodecSet, callback: F) -> Self {
        Self { accepts, callback, closed: false }
    }
}

impl<F: FnMut(&MediaPacket) + Send> Sink for CallbackSink<F> {
    fn name(&self) -> &'static str {
        "callback"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        !self.closed && self.accepts.wants(media, codec)
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("callback"));
        }
        if self.accepts.contains(packet.codec) {
            (self.callback)(packet);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Error> {
        self.closed = true;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Sends each packet to every child that wants it.
#[derive(Default)]
pub struct FanOut {
    children: Vec<Box<dyn Sink>>,
    closed: bool,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("children", &self.children.len())
            .field("closed", &self.closed)
            .finish()
    }
}

impl FanOut {
    /// Fans out to `children`.
    pub fn new(children: Vec<Box<dyn Sink>>) -> Self {
        Self { children, closed: false }
    }

    /// Adds a child.
    #[must_use]
    pub fn with(mut self, child: impl Sink + 'static) -> Self {
        self.children.push(Box::new(child));
        self
    }

    /// Adds a child.
    pub fn push(&mut self, child: Box<dyn Sink>) {
        self.children.push(child);
    }
}

impl Sink for FanOut {
    fn name(&self) -> &'static str {
        "fan-out"
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("fan-out"));
        }
        let mut errors = Errors::default();
        for c in &mut self.children {
            errors.push(forward(c.as_mut(), packet));
        }
        errors.into_result()
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        for c in &self.children {
            f(c.as_ref());
        }
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        for c in &mut self.children {
            f(c.as_mut());
        }
    }
    fn finish(&mut self) -> Result<(), Error> {
        self.closed = true;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}
