//! Readers of a job's output: blocking, non-blocking and async.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, Bytes};

use crate::buffer::Buffer;
use crate::error::Result;
use crate::ogg::{OPUS_RATE, OpusPacket};
use crate::pool::{JobHandle, JobShared, Priority};

/// Refills a streaming buffer segment by segment.
pub(crate) trait Refill: Send {
    /// Called after each read with the number of packets buffered ahead; may start a job.
    fn refill(&mut self, ahead: u64, buf: &Arc<Buffer<OpusPacket>>);
    /// The job a blocked reader waits for, to raise its priority.
    fn waiting_on(&self) -> Option<&Arc<JobShared>>;
}

/// Opus packets of one track, in order, each with its duration.
///
/// Three ways to read: [`next_packet`](Self::next_packet) blocks (for a plain thread),
/// [`try_next_packet`](Self::try_next_packet) never blocks (for a 20 ms send tick: `Pending`
/// means the encoder is behind), [`next_packet_async`](Self::next_packet_async) awaits.
pub struct PacketReader {
    buf: Arc<Buffer<OpusPacket>>,
    pos: u64,
    samples: u64,
    refill: Option<Box<dyn Refill>>,
    job: Option<JobHandle>,
    priority_job: Option<Arc<JobShared>>,
}

impl std::fmt::Debug for PacketReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketReader").field("pos", &self.pos).finish_non_exhaustive()
    }
}

impl PacketReader {
    pub(crate) fn shared(buf: Arc<Buffer<OpusPacket>>, encoder: Option<Arc<JobShared>>) -> Self {
        Self { buf, pos: 0, samples: 0, refill: None, job: None, priority_job: encoder }
    }

    pub(crate) fn streaming(
        buf: Arc<Buffer<OpusPacket>>,
        refill: Option<Box<dyn Refill>>,
        job: Option<JobHandle>,
    ) -> Self {
        Self { buf, pos: 0, samples: 0, refill, job, priority_job: None }
    }

    /// How much audio has been read.
    pub fn position(&self) -> Duration {
        Duration::from_micros(self.samples * 1_000_000 / u64::from(OPUS_RATE))
    }

    /// Packets read so far.
    pub fn packets_read(&self) -> u64 {
        self.pos
    }

    /// Packets encoded and not read yet (for a cached track, the rest of what is encoded so
    /// far; for a stream, its read-ahead).
    pub fn packets_ahead(&self) -> u64 {
        Buffer::ahead(self.pos, &self.buf.lock())
    }

    /// Whether the encoder is still queued behind other jobs (the pool is full).
    pub fn is_waiting_for_worker(&self) -> bool {
        self.blocking_job()
            .is_some_and(|j| matches!(j.status(), crate::pool::JobStatus::Queued { .. }))
    }

    fn blocking_job(&self) -> Option<&Arc<JobShared>> {
        self.refill
            .as_ref()
            .and_then(|r| r.waiting_on())
            .or(self.job.as_ref().map(JobHandle::shared))
            .or(self.priority_job.as_ref())
    }

    /// The next packet without blocking: `Pending` when it is not encoded yet,
    /// `Ready(Ok(None))` at the end of the track.
    pub fn try_next_packet(&mut self) -> Poll<Result<Option<OpusPacket>>> {
        let r = {
            let mut st = self.buf.lock();
            self.buf.poll_at(self.pos, &mut st)
        };
        self.after_poll(&r);
        r
    }

    fn after_poll(&mut self, r: &Poll<Result<Option<OpusPacket>>>) {
        match r {
            Poll::Ready(Ok(Some(p))) => {
                self.pos += 1;
                self.samples += u64::from(p.samples);
            }
            Poll::Pending => {
                if let Some(j) = self.blocking_job() {
                    j.raise(Priority::Playback);
                }
            }
            Poll::Ready(_) => {}
        }
        if let Some(refill) = self.refill.as_mut() {
            let ahead = Buffer::ahead(self.pos, &self.buf.lock());
            refill.refill(ahead, &self.buf);
        }
    }

    /// The next packet, blocking the calling thread while it is being encoded. `Ok(None)` at the
    /// end of the track.
    pub fn next_packet(&mut self) -> Result<Option<OpusPacket>> {
        loop {
            if let Poll::Ready(r) = self.try_next_packet() {
                return r;
            }
            let st = self.buf.lock();
            if Buffer::ahead(self.pos, &st) == 0
                && !matches!(Buffer::poll_peek(&st), Poll::Ready(()))
            {
                drop(self.buf.wait(st));
            }
        }
    }

    /// The next packet, awaiting while it is being encoded.
    pub async fn next_packet_async(&mut self) -> Result<Option<OpusPacket>> {
        loop {
            let buf = Arc::clone(&self.buf);
            let notified = buf.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Poll::Ready(r) = self.try_next_packet() {
                return r;
            }
            notified.await;
        }
    }
}

impl Iterator for PacketReader {
    type Item = Result<OpusPacket>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_packet().transpose()
    }
}

impl Drop for PacketReader {
    fn drop(&mut self) {
        if self.refill.is_some() || self.job.is_some() {
            self.buf.close();
        }
    }
}

/// Decoded PCM (s16le, 48 kHz, stereo) as a byte stream; implements [`std::io::Read`].
pub struct PcmReader {
    buf: Arc<Buffer<Bytes>>,
    pos: u64,
    current: Bytes,
    _job: JobHandle,
}

impl std::fmt::Debug for PcmReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmReader").field("pos", &self.pos).finish_non_exhaustive()
    }
}

impl PcmReader {
    pub(crate) fn new(buf: Arc<Buffer<Bytes>>, job: JobHandle) -> Self {
        Self { buf, pos: 0, current: Bytes::new(), _job: job }
    }

    /// The next chunk of PCM as it came from FFmpeg (blocking); `Ok(None)` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.current.is_empty() {
            return Ok(Some(std::mem::take(&mut self.current)));
        }
        let mut st = self.buf.lock();
        loop {
            match self.buf.poll_at(self.pos, &mut st) {
                Poll::Ready(Ok(Some(b))) => {
                    self.pos += 1;
                    return Ok(Some(b));
                }
                Poll::Ready(r) => return r,
                Poll::Pending => st = self.buf.wait(st),
            }
        }
    }
}

impl std::io::Read for PcmReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            match self.next_chunk() {
                Ok(Some(b)) => self.current = b,
                Ok(None) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = out.len().min(self.current.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), self.current.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.current.advance(n);
        Ok(n)
    }
}

impl Drop for PcmReader {
    fn drop(&mut self) {
        self.buf.close();
    }
}
