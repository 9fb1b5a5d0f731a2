//! The shared, bounded (or whole-track) buffer between a job and its readers.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use bytes::Bytes;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::ogg::OpusPacket;

/// Something with a memory cost.
pub(crate) trait Weighted: Clone {
    fn weight(&self) -> usize;
}

impl Weighted for OpusPacket {
    fn weight(&self) -> usize {
        self.data.len() + size_of::<Self>()
    }
}

impl Weighted for Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

pub(crate) struct BufState<T> {
    items: VecDeque<T>,
    /// Index of `items[0]` in the whole stream.
    start: u64,
    weight: usize,
    done: Option<Result<(), Arc<Error>>>,
    /// Readers gone (streaming buffers only).
    closed: bool,
    /// A segment job is running or queued (streaming mode).
    pub(crate) in_flight: bool,
}

/// Items produced by one job. A *shared* buffer keeps everything (the cache: every reader has
/// its own position); a *streaming* buffer has one reader, drops what it read, and makes the
/// producer wait while it holds more than `capacity` bytes.
pub(crate) struct Buffer<T> {
    st: Mutex<BufState<T>>,
    readable: Condvar,
    writable: Condvar,
    notify: Notify,
    shared: bool,
    capacity: usize,
}

impl<T: Weighted> Buffer<T> {
    pub(crate) fn new(shared: bool, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            st: Mutex::new(BufState {
                items: VecDeque::new(),
                start: 0,
                weight: 0,
                done: None,
                closed: false,
                in_flight: false,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
            notify: Notify::new(),
            shared,
            capacity,
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, BufState<T>> {
        self.st.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an item, waiting for room in a streaming buffer. Returns `false` when the reader
    /// is gone (the producer should stop).
    pub(crate) fn push(&self, item: T, cancelled: &dyn Fn() -> bool) -> bool {
        let mut st = self.lock();
        while !self.shared && st.weight >= self.capacity && !st.closed {
            if cancelled() {
                return false;
            }
            st = self
                .writable
                .wait_timeout(st, std::time::Duration::from_millis(200))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if st.closed {
            return false;
        }
        st.weight += item.weight();
        st.items.push_back(item);
        drop(st);
        self.wake_readers();
        true
    }

    /// Ends the stream with `result` (the first end wins).
    pub(crate) fn finish(&self, result: Result<()>) {
        let mut st = self.lock();
        if st.done.is_none() {
            st.done = Some(result.map_err(|e| match e {
                Error::Shared(a) => a,
                e => Arc::new(e),
            }));
        }
        st.in_flight = false;
        drop(st);
        self.wake_readers();
    }

    pub(crate) fn segment_done(&self) {
        self.lock().in_flight = false;
        self.wake_readers();
    }

    fn wake_readers(&self) {
        self.readable.notify_all();
        self.notify.notify_waiters();
    }

    /// Marks the reader gone and wakes the producer.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.writable.notify_all();
    }

    /// Whether the reader is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Bytes held now.
    pub(crate) fn weight(&self) -> usize {
        self.lock().weight
    }

    /// Whether the producer has finished (successfully or not).
    pub(crate) fn is_done(&self) -> bool {
        self.lock().done.is_some()
    }

    pub(crate) fn is_failed(&self) -> bool {
        matches!(self.lock().done, Some(Err(_)))
    }

    /// All items, for spilling a finished shared buffer.
    pub(crate) fn snapshot(&self) -> Vec<T> {
        self.lock().items.iter().cloned().collect()
    }

    /// The item at `pos`, the end, or pending. Streaming buffers drop what is read.
    pub(crate) fn poll_at(&self, pos: u64, st: &mut BufState<T>) -> Poll<Result<Option<T>>> {
        let idx = pos.saturating_sub(st.start);
        let item = usize::try_from(idx).ok().and_then(|i| st.items.get(i)).cloned();
        if let Some(item) = item {
            if !self.shared {
                if let Some(front) = st.items.pop_front() {
                    st.weight = st.weight.saturating_sub(front.weight());
                    st.start += 1;
                }
                self.writable.notify_all();
            }
            return Poll::Ready(Ok(Some(item)));
        }
        match &st.done {
            Some(Ok(())) => Poll::Ready(Ok(None)),
            Some(Err(e)) => Poll::Ready(Err(Error::Shared(Arc::clone(e)))),
            None => Poll::Pending,
        }
    }

    /// `Ready` when the producer has finished.
    pub(crate) fn poll_peek(st: &BufState<T>) -> Poll<()> {
        if st.done.is_some() { Poll::Ready(()) } else { Poll::Pending }
    }

    /// Items buffered ahead of `pos`.
    pub(crate) fn ahead(pos: u64, st: &BufState<T>) -> u64 {
        (st.start + st.items.len() as u64).saturating_sub(pos)
    }

    pub(crate) fn wait<'a>(&self, st: MutexGuard<'a, BufState<T>>) -> MutexGuard<'a, BufState<T>> {
        self.readable.wait(st).unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}
