//! Bounded queues that hand packets to another thread or task.
//!
//! [`channel`] returns a [`QueueSink`] for the tree and a [`QueueReceiver`] that can be read
//! blocking ([`QueueReceiver::recv`], from a worker thread) or asynchronously
//! ([`QueueReceiver::recv_async`], from a tokio task). The queue is bounded: when it is full the
//! sink drops the oldest packet (or the new one, per [`Overflow`]) and counts it, so a slow
//! consumer never stalls the receive path.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::{Codec, CodecSet, Error, MediaPacket, MediaType, Sink};

/// What a full queue does with one more packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Drop the oldest queued packet (the freshest audio wins; the default).
    #[default]
    DropOldest,
    /// Drop the new packet.
    DropNewest,
}

/// Settings of a queue sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Most packets held (at least 1). Default 500, 10 s of one audio stream.
    pub capacity: usize,
    /// What to do when full.
    pub overflow: Overflow,
    /// Codecs the sink accepts.
    pub accepts: CodecSet,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self { capacity: 500, overflow: Overflow::DropOldest, accepts: CodecSet::ALL }
    }
}

impl QueueConfig {
    /// Sets the capacity.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Sets the overflow policy.
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Sets the accepted codecs.
    #[must_use]
    pub fn accepts(mut self, accepts: CodecSet) -> Self {
        self.accepts = accepts;
        self
    }
}

#[derive(Debug)]
struct State {
    queue: VecDeque<MediaPacket>,
    closed: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    notify: Notify,
    dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
        self.notify.notify_waiters();
        self.notify.notify_one();
    }
}

/// Creates a bounded queue: the sink end for the tree, the receiving end for a consumer.
///
/// ```
/// use std::time::Instant;
/// use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
/// use voxwire_sinks::{queue, MediaPacket, Sink};
/// let (mut sink, rx) = queue::channel(queue::QueueConfig::default().capacity(2));
/// for seq in 0..3 {
///     sink.write(&MediaPacket::opus(Ssrc(1), SeqNo(seq), RtpTimestamp(0), Instant::now(), vec![0xf8].into()))?;
/// }
/// assert_eq!(rx.dropped(), 1);
/// assert_eq!(rx.try_recv().map(|p| p.sequence), Some(SeqNo(1)));
/// sink.cleanup()?;
/// assert_eq!(rx.recv().map(|p| p.sequence), Some(SeqNo(2)));
/// assert_eq!(rx.recv(), None); // closed and drained
/// # Ok::<(), voxwire_sinks::Error>(())
/// ```
pub fn channel(config: QueueConfig) -> (QueueSink, QueueReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::with_capacity(config.capacity.clamp(1, 4096)),
            closed: false,
        }),
        ready: Condvar::new(),
        notify: Notify::new(),
        dropped: AtomicU64::new(0),
    });
    (
        QueueSink {
            shared: shared.clone(),
            config: config.capacity(config.capacity),
            closed: false,
        },
        QueueReceiver { shared },
    )
}

/// The tree end of a [`channel`]. Cleaning it up (or dropping it) closes the queue: receivers
/// drain what is left and then see the end.
#[derive(Debug)]
pub struct QueueSink {
    shared: Arc<Shared>,
    config: QueueConfig,
    closed: bool,
}

impl QueueSink {
    /// Packets dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Sink for QueueSink {
    fn name(&self) -> &'static str {
        "queue"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        !self.closed && self.config.accepts.wants(media, codec)
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("queue"));
        }
        if !self.config.accepts.contains(packet.codec) {
            return Ok(());
        }
        {
            let mut st = self.shared.lock();
            if st.queue.len() >= self.config.capacity {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                match self.config.overflow {
                    Overflow::DropOldest => {
                        st.queue.pop_front();
                    }
                    Overflow::DropNewest => return Ok(()),
                }
            }
            st.queue.push_back(packet.clone());
        }
        self.shared.ready.notify_one();
        self.shared.notify.notify_one();
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Error> {
        if !self.closed {
            self.closed = true;
            self.shared.close();
        }
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Drop for QueueSink {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// The consumer end of a [`channel`]. Clones share the queue (each packet goes to one of them).
#[derive(Clone, Debug)]
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

impl QueueReceiver {
    /// The next packet, blocking until one arrives; `None` once the sink is closed and the queue
    /// drained.
    pub fn recv(&self) -> Option<MediaPacket> {
        let mut st = self.shared.lock();
        loop {
            if let Some(p) = st.queue.pop_front() {
                return Some(p);
            }
            if st.closed {
                return None;
            }
            st = self.shared.ready.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Like [`recv`](Self::recv), giving up after `timeout` (`None` also on timeout; tell the two
    /// apart with [`is_closed`](Self::is_closed)).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<MediaPacket> {
        let st = self.shared.lock();
        let (mut st, _) = self
            .shared
            .ready
            .wait_timeout_while(st, timeout, |s| s.queue.is_empty() && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        st.queue.pop_front()
    }

    /// The next packet if one is queued.
    pub fn try_recv(&self) -> Option<MediaPacket> {
        self.shared.lock().queue.pop_front()
    }

    /// The next packet, awaiting it without blocking the thread; `None` once the sink is closed and
    /// the queue drained. Cancel-safe.
    pub async fn recv_async(&self) -> Option<MediaPacket> {
        loop {
            let mut notified = std::pin::pin!(self.shared.notify.notified());
            notified.as_mut().enable();
            {
                let mut st = self.shared.lock();
                if let Some(p) = st.queue.pop_front() {
                    return Some(p);
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Packets dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Packets queued now.
    pub fn len(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Whether nothing is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the sink end is closed (packets may still be queued).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}
