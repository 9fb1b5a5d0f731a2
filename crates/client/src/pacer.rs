//! The send clock: one thread paces every playing connection of the process on a shared 20 ms
//! grid.
//!
//! A connection task wakes for what happens to its connection (gateway messages, received
//! datagrams, commands, protocol deadlines); sending audio happens on a clock instead. One thread
//! sleeps until the next multiple of 20 ms (counted from its start), then, for every connection
//! that is playing, takes the next Opus frame, has the connection's core build and encrypt the
//! packet, and sends it on a non-blocking clone of the connection's UDP socket. One wake-up
//! serves every connection: there is no timer, task wake-up or channel hand-off per connection
//! per frame.
//!
//! Frames come from the source itself when it is in memory
//! ([`MediaSource::is_nonblocking`](voxwire_sources::MediaSource::is_nonblocking)) and already
//! Opus: reading one is a copy. Anything else (files, `FFmpeg`, PCM to encode) is read and encoded
//! on a player thread (see [`crate::player`]), which hands frames over in batches.
//!
//! The connection task and the clock share the core behind a mutex ([`Link`]); neither holds it
//! while it waits. What the clock leaves for the task to carry out (a speaking update for the
//! gateway, for example) is signalled through [`Link::notify`].
//!
//! Deadlines, not sleeps added up: the grid never drifts. After a stall the missed ticks are
//! served back to back, up to [`MAX_CATCH_UP`]; beyond that the clock resynchronises and the
//! connections' RTP timestamps skip the gap.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Notify, mpsc};
use voxwire_sources::{AudioFrame, AudioKind, AudioRead, MediaSource};

use crate::call::{Call, MAX_DATAGRAM, SILENCE_FRAME};
use crate::events::{PlayerStats, VoiceEvent};
use crate::player::{self, MAX_OPUS, PlayerMsg};
use crate::{Error, PlayOptions};

/// The playback clock.
pub(crate) const FRAME: Duration = Duration::from_millis(20);
/// Silence frames sent when playback stops or pauses (docs/protocol.md 4.6).
pub(crate) const SILENCE_FRAMES: u8 = 5;
/// Missed ticks served back to back after a stall; a longer stall resynchronises the clock.
pub(crate) const MAX_CATCH_UP: u64 = 5;
/// A tick served later than this after its grid point counts as late.
const LATE: Duration = Duration::from_millis(5);
/// Send intervals are kept in 0.4 ms buckets up to 102.4 ms (the last bucket takes the rest):
/// 1 KB per playback however long it runs.
const INTERVAL_BUCKETS: usize = 256;
const INTERVAL_BUCKET: Duration = Duration::from_micros(400);

/// Where a playback's frames come from.
enum Feed {
    /// An in-memory Opus source, read on the clock.
    Inline { source: Box<dyn MediaSource>, frame: AudioFrame },
    /// A player thread, which reads and encodes ahead and hands frames over in batches.
    Thread { rx: Receiver<PlayerMsg>, pending: VecDeque<Vec<u8>>, current: Vec<u8> },
}

/// What the clock does with a connection at one tick.
enum Next {
    /// Send the feed's current frame.
    Frame,
    /// Send a silence frame.
    Silence,
    /// Send nothing; RTP time still advances.
    Skip,
}

/// One playback: its feed, its state and its statistics.
pub(crate) struct Playback {
    feed: Feed,
    done: Option<tokio::sync::oneshot::Sender<Result<PlayerStats, Error>>>,
    events: mpsc::Sender<VoiceEvent>,
    paused: bool,
    /// Set once the source is over: `Some(None)` when it ended, `Some(Some(e))` when it failed.
    #[expect(clippy::option_option, reason = "not finished / ended / failed, documented above")]
    finished: Option<Option<Error>>,
    silence_left: u8,
    speaking: bool,
    /// Whether a frame came from the feed yet: waiting for the first is not an underrun.
    started: bool,
    stats: PlayerStats,
    send_total: Duration,
    last_send: Option<Instant>,
    /// Send intervals in [`INTERVAL_BUCKET`]s: bounded however long the playback runs.
    intervals: Box<[u32; INTERVAL_BUCKETS]>,
}

impl Playback {
    /// Prepares a playback of `source`: read on the clock when it is in-memory Opus, otherwise
    /// on a player thread started here. On failure the error goes to `done` and there is no
    /// playback.
    pub(crate) fn start(
        source: Box<dyn MediaSource>,
        options: PlayOptions,
        done: tokio::sync::oneshot::Sender<Result<PlayerStats, Error>>,
        events: mpsc::Sender<VoiceEvent>,
    ) -> Option<Self> {
        let feed = if source.is_nonblocking() && source.audio_kind() == Some(AudioKind::Opus) {
            options.validate().map(|()| Feed::Inline { source, frame: AudioFrame::for_opus() })
        } else {
            player::spawn(source, options).map(|(rx, _thread)| Feed::Thread {
                rx,
                pending: VecDeque::with_capacity(player::BATCH),
                current: Vec::new(),
            })
        };
        match feed {
            Ok(feed) => Some(Self {
                feed,
                done: Some(done),
                events,
                paused: false,
                finished: None,
                silence_left: SILENCE_FRAMES,
                speaking: false,
                started: false,
                stats: PlayerStats::default(),
                send_total: Duration::ZERO,
                last_send: None,
                intervals: Box::new([0; INTERVAL_BUCKETS]),
            }),
            Err(e) => {
                let _ = done.send(Err(e));
                None
            }
        }
    }

    /// Pauses (`true`) or resumes: either way five silence frames mark the edge.
    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.silence_left = SILENCE_FRAMES;
    }

    /// Whether the playback announced speaking.
    pub(crate) fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Ends the playback with `error` (or none) and reports it: the completion, then the event.
    pub(crate) fn finish(mut self, error: Option<Error>) {
        self.finished = Some(error);
        self.complete();
    }

    fn complete(&mut self) {
        let error = self.finished.take().flatten();
        if let Feed::Inline { source, .. } = &mut self.feed {
            // An in-memory source has nothing to wait for; errors here are still reported.
            if let Err(e) = source.cleanup()
                && error.is_none()
            {
                let _ = self.events.try_send(VoiceEvent::Error(format!("source cleanup: {e}")));
            }
        }
        let sends = self.stats.frames_sent + self.stats.silence_frames;
        if sends > 0 {
            self.stats.send_time_mean =
                self.send_total / u32::try_from(sends).unwrap_or(u32::MAX).max(1);
        }
        let total: u64 = self.intervals.iter().map(|&n| u64::from(n)).sum();
        if total > 0 {
            let mut seen = 0u64;
            for (i, &n) in self.intervals.iter().enumerate() {
                seen += u64::from(n);
                if seen * 100 >= total * 95 {
                    self.stats.interval_p95 =
                        INTERVAL_BUCKET * u32::try_from(i + 1).unwrap_or(u32::MAX);
                    break;
                }
            }
        }
        let _ = self.events.try_send(VoiceEvent::PlaybackFinished {
            error: error.as_ref().map(ToString::to_string),
        });
        if let Some(done) = self.done.take() {
            let _ = done.send(match error {
                Some(e) => Err(e),
                None => Ok(self.stats.clone()),
            });
        }
    }

    /// Decides what this tick sends, advancing the feed.
    fn next(&mut self) -> Next {
        if self.finished.is_some() || self.paused {
            if self.silence_left > 0 {
                self.silence_left -= 1;
                self.stats.silence_frames += 1;
                return Next::Silence;
            }
            return Next::Skip;
        }
        let got = match &mut self.feed {
            Feed::Inline { source, frame } => match source.read_audio(frame) {
                Ok(AudioRead::Frame) => match checked_opus(frame) {
                    Ok(()) => true,
                    Err(e) => {
                        self.finished = Some(Some(e));
                        false
                    }
                },
                Ok(_) => {
                    self.finished = Some(None);
                    false
                }
                Err(e) => {
                    self.finished = Some(Some(e.into()));
                    false
                }
            },
            Feed::Thread { rx, pending, current } => {
                if pending.is_empty() {
                    match rx.try_recv() {
                        Ok(PlayerMsg::Frames(batch)) => pending.extend(batch),
                        Ok(PlayerMsg::End) | Err(TryRecvError::Disconnected) => {
                            self.finished = Some(None);
                        }
                        Ok(PlayerMsg::Failed(e)) => self.finished = Some(Some(e)),
                        Err(TryRecvError::Empty) if self.started => self.stats.underruns += 1,
                        Err(TryRecvError::Empty) => {}
                    }
                }
                match pending.pop_front() {
                    Some(f) => {
                        *current = f;
                        true
                    }
                    None => false,
                }
            }
        };
        if got {
            self.started = true;
            self.stats.frames_sent += 1;
            Next::Frame
        } else if self.finished.is_some() {
            // The source is over: the first of the five silence frames goes out now.
            self.silence_left = SILENCE_FRAMES - 1;
            self.stats.silence_frames += 1;
            Next::Silence
        } else {
            Next::Skip
        }
    }

    /// The frame [`Next::Frame`] refers to.
    fn current(&self) -> &[u8] {
        match &self.feed {
            Feed::Inline { frame, .. } => frame.opus(),
            Feed::Thread { current, .. } => current,
        }
    }

    fn record_send(&mut self, started: Instant, took: Duration) {
        self.send_total += took;
        self.stats.send_time_max = self.stats.send_time_max.max(took);
        if let Some(last) = self.last_send.replace(started) {
            let gap = started.saturating_duration_since(last);
            let bucket = usize::try_from(gap.as_micros() / INTERVAL_BUCKET.as_micros())
                .unwrap_or(usize::MAX);
            self.intervals[bucket.min(INTERVAL_BUCKETS - 1)] += 1;
        }
    }
}

fn checked_opus(frame: &AudioFrame) -> Result<(), Error> {
    if frame.kind() != AudioKind::Opus {
        return Err(Error::InvalidArgument("an Opus source produced a PCM frame".into()));
    }
    let n = frame.opus().len();
    if n == 0 || n > MAX_OPUS {
        return Err(Error::Opus(format!("a source produced an Opus packet of {n} bytes")));
    }
    Ok(())
}

/// A connection's state shared by its task and the clock.
pub(crate) struct Conn {
    /// The sans-IO core.
    pub(crate) call: Call,
    /// What is playing, if anything.
    playback: Option<Playback>,
    /// Whether the clock holds this connection in its list.
    registered: bool,
    /// The address the UDP socket is connected to (see [`send_datagram`]).
    connected: Option<SocketAddr>,
}

/// The clock's packet buffers, shared by every connection it serves (so they stay in cache).
struct Buffers {
    packet: Box<[u8]>,
    scratch: Box<[u8]>,
}

impl Buffers {
    fn new() -> Self {
        Self {
            packet: vec![0; MAX_DATAGRAM + 64].into_boxed_slice(),
            scratch: vec![0; MAX_DATAGRAM + 64].into_boxed_slice(),
        }
    }
}

impl Conn {
    /// What is playing.
    pub(crate) fn playback_mut(&mut self) -> Option<&mut Playback> {
        self.playback.as_mut()
    }

    /// The address the UDP socket is connected to, for [`send_datagram`].
    pub(crate) fn connected_mut(&mut self) -> &mut Option<SocketAddr> {
        &mut self.connected
    }

    /// Whether something is playing.
    pub(crate) fn is_playing(&self) -> bool {
        self.playback.is_some()
    }

    /// Takes the playback out; the clock drops the connection at its next tick.
    pub(crate) fn take_playback(&mut self) -> Option<Playback> {
        self.playback.take()
    }

    /// One tick for this connection. Returns whether it is still playing.
    fn tick(&mut self, socket: &UdpSocket, now: Instant, late: bool, bufs: &mut Buffers) -> bool {
        let Self { call, playback, connected, .. } = self;
        let Buffers { packet, scratch } = bufs;
        let Some(p) = playback.as_mut() else { return false };
        if late {
            p.stats.late_ticks += 1;
        }
        // With DAVE, nothing can be sent until the group exists: the playback waits for it.
        if !call.can_send() {
            return true;
        }
        let next = p.next();
        if matches!(next, Next::Skip) {
            if p.paused && p.speaking && p.silence_left == 0 {
                p.speaking = false;
                call.set_speaking(false, now);
            }
            call.skip_frame();
            return true;
        }
        if !p.speaking && p.finished.is_none() {
            p.speaking = true;
            call.set_speaking(true, now);
        }
        let started = Instant::now();
        let frame = match next {
            Next::Frame => p.current(),
            _ => &SILENCE_FRAME[..],
        };
        match call.build_audio(frame, packet, scratch) {
            Ok(Some((to, n))) => send_datagram(socket, connected, &packet[..n], to),
            Ok(None) => {}
            Err(e) => {
                let _ = p.events.try_send(VoiceEvent::Error(format!("sending audio: {e}")));
            }
        }
        if let Ok(Some((to, n))) = call.poll_report(started, SystemTime::now, packet) {
            send_datagram(socket, connected, &packet[..n], to);
        }
        p.record_send(started, started.elapsed());
        if p.finished.is_some() && p.silence_left == 0 {
            if p.speaking {
                p.speaking = false;
                call.set_speaking(false, now);
            }
            if let Some(mut p) = playback.take() {
                p.complete();
            }
            return false;
        }
        true
    }
}

/// Sends one datagram without waiting; a full socket buffer drops it, as the network would.
///
/// On Unix the socket is first connected to `to` (once per address; every datagram of a voice
/// connection goes to its server's one address): the kernel then keeps the route instead of
/// looking it up for each datagram, about a tenth of a send on loopback, and drops datagrams from
/// anywhere else before they reach the process. `connected` is shared by everything that sends on
/// the socket, so a new server address (a server move) reconnects it before its IP discovery.
pub(crate) fn send_datagram(
    socket: &UdpSocket,
    connected: &mut Option<SocketAddr>,
    data: &[u8],
    to: SocketAddr,
) {
    let sent = if cfg!(unix) && (*connected == Some(to) || socket.connect(to).is_ok()) {
        *connected = Some(to);
        socket.send(data)
    } else {
        socket.send_to(data, to)
    };
    if let Err(e) = sent
        && e.kind() != std::io::ErrorKind::WouldBlock
    {
        tracing::debug!("sending a datagram to {to}: {e}");
    }
}

/// What a connection task and the clock share.
pub(crate) struct Link {
    state: Mutex<Conn>,
    /// Signalled when the clock left outputs in the core for the connection task.
    pub(crate) notify: Notify,
    /// A non-blocking clone of the connection's UDP socket.
    socket: UdpSocket,
}

impl Link {
    pub(crate) fn new(call: Call, socket: UdpSocket) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Conn { call, playback: None, registered: false, connected: None }),
            notify: Notify::new(),
            socket,
        })
    }

    /// Locks the shared state. A panic elsewhere while it was held leaves a consistent core (no
    /// core method panics half-way on input), so a poisoned lock is taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Conn> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `playback` on the clock, returning the playback it replaces.
    pub(crate) fn play(self: &Arc<Self>, playback: Playback) -> Result<Option<Playback>, Error> {
        let (old, register) = {
            let mut conn = self.lock();
            let old = conn.playback.replace(playback);
            let register = !conn.registered;
            conn.registered = true;
            (old, register)
        };
        if register && let Err(e) = pacer().register(Arc::downgrade(self)) {
            let mut conn = self.lock();
            conn.registered = false;
            if let Some(p) = conn.playback.take() {
                drop(conn);
                p.finish(None);
            }
            return Err(e);
        }
        Ok(old)
    }

    /// Serves one tick, containing a panic of the source's code (read on this thread): that
    /// playback ends with [`Error::SourcePanicked`], the clock and every other connection go on.
    /// Returns whether the connection stays on the clock.
    fn serve_guarded(&self, now: Instant, late: bool, bufs: &mut Buffers) -> bool {
        let served = catch_unwind(AssertUnwindSafe(|| self.serve(now, late, bufs)));
        let panic = match served {
            Ok(keep) => return keep,
            Err(panic) => panic,
        };
        // The core was not touched by the source's read (it comes first in a tick), so the state
        // behind the poisoned lock is whole.
        let playback = {
            let mut conn = self.lock();
            conn.registered = false;
            let playback = conn.take_playback();
            if playback.as_ref().is_some_and(Playback::is_speaking) {
                conn.call.set_speaking(false, now);
            }
            playback
        };
        if let Some(p) = playback {
            let error = Error::SourcePanicked(crate::error::panic_message(&*panic));
            // Its cleanup may panic too; the clock must not.
            let _ = catch_unwind(AssertUnwindSafe(|| p.finish(Some(error))));
        }
        self.notify.notify_one();
        false
    }

    /// Serves one tick. Returns whether the connection stays on the clock.
    fn serve(&self, now: Instant, late: bool, bufs: &mut Buffers) -> bool {
        let (keep, wake) = {
            let mut conn = self.lock();
            let keep = conn.tick(&self.socket, now, late, bufs);
            if !keep {
                conn.registered = false;
            }
            (keep, conn.call.has_output())
        };
        if wake {
            self.notify.notify_one();
        }
        keep
    }
}

/// The process-wide clock.
struct Pacer {
    state: Mutex<PacerState>,
    wake: Condvar,
}

struct PacerState {
    incoming: Vec<Weak<Link>>,
    running: bool,
}

fn pacer() -> &'static Pacer {
    static PACER: OnceLock<Pacer> = OnceLock::new();
    PACER.get_or_init(|| Pacer {
        state: Mutex::new(PacerState { incoming: Vec::new(), running: false }),
        wake: Condvar::new(),
    })
}

impl Pacer {
    fn lock(&self) -> MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&'static self, link: Weak<Link>) -> Result<(), Error> {
        let mut state = self.lock();
        if !state.running {
            std::thread::Builder::new()
                .name("voxwire-pacer".into())
                .spawn(move || self.run())
                .map_err(|source| Error::Io { what: "starting the send clock", source })?;
            state.running = true;
        }
        state.incoming.push(link);
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    fn run(&self) {
        let origin = Instant::now();
        let frame_ns = u64::try_from(FRAME.as_nanos()).unwrap_or(u64::MAX);
        let at = |tick: u64| origin + Duration::from_nanos(tick.saturating_mul(frame_ns));
        // The first grid point at or after `now`.
        let next_index = |now: Instant| -> u64 {
            let since = now.saturating_duration_since(origin).as_nanos();
            u64::try_from(since.div_ceil(FRAME.as_nanos())).unwrap_or(u64::MAX)
        };
        let mut links: Vec<Weak<Link>> = Vec::new();
        let mut bufs = Buffers::new();
        let mut tick = 0u64;
        loop {
            {
                let mut state = self.lock();
                if links.is_empty() && state.incoming.is_empty() {
                    while state.incoming.is_empty() {
                        state = self.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                    }
                    // Idle until now: start at the next grid point.
                    tick = tick.max(next_index(Instant::now()));
                }
                links.append(&mut state.incoming);
            }
            let deadline = at(tick);
            let now = Instant::now();
            if deadline > now {
                std::thread::sleep(deadline - now);
                continue;
            }
            if now > at(tick + MAX_CATCH_UP) {
                // A long stall: skip the missed ticks rather than burst them.
                tick = next_index(now);
                continue;
            }
            let late = now > deadline + LATE;
            links.retain(|w| {
                w.upgrade().is_some_and(|link| link.serve_guarded(now, late, &mut bufs))
            });
            tick += 1;
        }
    }
}
