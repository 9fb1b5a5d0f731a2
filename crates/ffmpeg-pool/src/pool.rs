//! The global, lazy worker pool that runs FFmpeg jobs.
//!
//! Workers are plain threads (never tokio workers): each runs one job at a time, and a job owns
//! at most one FFmpeg child at a time, so the number of live children never exceeds the worker
//! limit `min(per_core * cores, hard_cap)`. Workers start when a job finds no idle worker and
//! exit after [`PoolConfig::idle_timeout`] without work. When every worker is busy the job
//! queues; the queue is ordered by [`Priority`] and, within a priority, first come first
//! served. A queued job's priority can still be raised (a prefetch that a player now waits for).

use std::collections::HashSet;
use std::process::{ChildStdin, ChildStdout, Command};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::process::{Supervised, ToolsConfig};

/// How urgent a job is. Higher runs first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Priority {
    /// Work ahead of need: encoding a queued track, refilling a read-ahead that is not low.
    Prefetch = 0,
    /// Probes, capability checks, PCM decodes.
    #[default]
    Normal = 1,
    /// A player is waiting for these frames now.
    Playback = 2,
}

/// Pool limits and defaults.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub(crate) tools: ToolsConfig,
    pub(crate) per_core: usize,
    pub(crate) hard_cap: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) cache_budget: usize,
    pub(crate) spill_dir: Option<std::path::PathBuf>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            tools: ToolsConfig::default(),
            per_core: 1,
            hard_cap: 8,
            idle_timeout: Duration::from_secs(30),
            cache_budget: 64 << 20,
            spill_dir: None,
        }
    }
}

impl PoolConfig {
    /// One worker per core, at most 8, idle workers exit after 30 s, 64 MiB of cached Opus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `ffmpeg` and `ffprobe` are.
    #[must_use]
    pub fn tools(mut self, tools: ToolsConfig) -> Self {
        self.tools = tools;
        self
    }

    /// Workers (and so FFmpeg children) per logical CPU core (at least 1).
    #[must_use]
    pub fn per_core(mut self, n: usize) -> Self {
        self.per_core = n.max(1);
        self
    }

    /// Absolute limit of workers whatever the core count (at least 1).
    #[must_use]
    pub fn hard_cap(mut self, n: usize) -> Self {
        self.hard_cap = n.max(1);
        self
    }

    /// How long an idle worker waits for a job before it exits.
    #[must_use]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Bytes of encoded Opus the transcode-once cache may hold (packets plus their bookkeeping).
    #[must_use]
    pub fn cache_budget(mut self, bytes: usize) -> Self {
        self.cache_budget = bytes;
        self
    }

    /// Evicted tracks are written to this directory and read back on the next play instead of
    /// being encoded again.
    #[must_use]
    pub fn spill_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// The worker limit on this machine: `min(per_core * cores, hard_cap)`.
    pub fn worker_limit(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        (self.per_core * cores).min(self.hard_cap).max(1)
    }
}

/// A snapshot of the pool's activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Worker threads alive.
    pub workers: usize,
    /// Workers running a job.
    pub busy: usize,
    /// Jobs waiting for a worker.
    pub queued: usize,
    /// FFmpeg/ffprobe children alive now.
    pub live_children: usize,
    /// Their process ids.
    pub child_pids: Vec<u32>,
    /// Children spawned since the pool was created.
    pub spawned_total: u64,
    /// Most children alive at once.
    pub peak_children: usize,
    /// Jobs that had to wait in the queue.
    pub jobs_waited: u64,
    /// Bytes held by the transcode-once cache.
    pub cache_bytes: usize,
    /// Tracks in the cache.
    pub cache_tracks: usize,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for a worker; `ahead` jobs of equal or higher priority were queued before it.
    Queued {
        /// Jobs ahead of it when it was queued.
        ahead: usize,
    },
    /// Running on a worker.
    Running,
    /// Finished (successfully or not) or cancelled.
    Done,
}

type JobFn = Box<dyn FnOnce(&JobCtx) + Send>;

struct QueuedJob {
    seq: u64,
    job: Arc<JobShared>,
    run: JobFn,
}

/// The part of a job shared between its handle and the worker running it.
pub(crate) struct JobShared {
    cancel: AtomicBool,
    priority: AtomicU8,
    status: Mutex<JobStatus>,
    child: Mutex<Option<Supervised>>,
}

impl JobShared {
    fn new(priority: Priority) -> Arc<Self> {
        Arc::new(Self {
            cancel: AtomicBool::new(false),
            priority: AtomicU8::new(priority as u8),
            status: Mutex::new(JobStatus::Running),
            child: Mutex::new(None),
        })
    }

    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
        if let Some(c) = lock(&self.child).as_mut() {
            c.kill();
        }
    }

    pub(crate) fn raise(&self, p: Priority) {
        self.priority.fetch_max(p as u8, Ordering::SeqCst);
    }

    pub(crate) fn status(&self) -> JobStatus {
        *lock(&self.status)
    }
}

/// A submitted job. Dropping it cancels the job (killing its child) unless it was
/// [`detach`](Self::detach)ed.
pub struct JobHandle {
    job: Arc<JobShared>,
    detached: bool,
}

impl std::fmt::Debug for JobHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle").field("status", &self.status()).finish_non_exhaustive()
    }
}

impl JobHandle {
    /// Where the job is.
    pub fn status(&self) -> JobStatus {
        self.job.status()
    }

    /// Raises the job's priority (no effect once it runs).
    pub fn raise(&self, p: Priority) {
        self.job.raise(p);
    }

    /// Cancels now: a queued job never runs, a running one has its child killed.
    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// Lets the job run to completion even when this handle is dropped.
    pub fn detach(mut self) {
        self.detached = true;
    }

    pub(crate) fn shared(&self) -> &Arc<JobShared> {
        &self.job
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.detached {
            self.job.cancel();
        }
    }
}

struct State {
    queue: Vec<QueuedJob>,
    seq: u64,
    workers: usize,
    idle: usize,
    busy: usize,
    children: HashSet<u32>,
    peak_children: usize,
    shutdown: bool,
}

pub(crate) struct Shared {
    pub(crate) config: PoolConfig,
    limit: usize,
    state: Mutex<State>,
    wake: Condvar,
    spawned: AtomicU64,
    waited: AtomicU64,
    pub(crate) cache: Mutex<Cache>,
    /// Streaming segments waiting for an FFmpeg run (several may share one).
    pub(crate) segments: Mutex<Vec<crate::jobs::SegmentRequest>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool. Cheap to clone; every clone is the same pool. Most programs use
/// [`Pool::global`].
#[derive(Clone)]
pub struct Pool {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("stats", &self.stats()).finish()
    }
}

static GLOBAL: OnceLock<Pool> = OnceLock::new();

impl Pool {
    /// A new pool. No worker starts until the first job.
    pub fn new(config: PoolConfig) -> Self {
        let limit = config.worker_limit();
        let cache = Cache::new(config.cache_budget, config.spill_dir.clone());
        Self {
            shared: Arc::new(Shared {
                config,
                limit,
                state: Mutex::new(State {
                    queue: Vec::new(),
                    seq: 0,
                    workers: 0,
                    idle: 0,
                    busy: 0,
                    children: HashSet::new(),
                    peak_children: 0,
                    shutdown: false,
                }),
                wake: Condvar::new(),
                spawned: AtomicU64::new(0),
                waited: AtomicU64::new(0),
                cache: Mutex::new(cache),
                segments: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The process-wide pool, created with [`PoolConfig::default`] on first use unless
    /// [`Pool::init_global`] chose its configuration before.
    pub fn global() -> &'static Self {
        GLOBAL.get_or_init(|| Self::new(PoolConfig::default()))
    }

    /// Sets the process-wide pool's configuration. Fails with [`Error::InvalidConfig`] when the
    /// global pool already exists.
    pub fn init_global(config: PoolConfig) -> Result<&'static Self> {
        let mut fresh = Some(config);
        let pool = GLOBAL.get_or_init(|| Self::new(fresh.take().unwrap_or_default()));
        if fresh.is_some() {
            return Err(Error::InvalidConfig("the global pool is already initialised"));
        }
        Ok(pool)
    }

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Maximum concurrent workers (and FFmpeg children).
    pub fn worker_limit(&self) -> usize {
        self.shared.limit
    }

    /// A snapshot of the pool's activity.
    pub fn stats(&self) -> PoolStats {
        let (cache_bytes, cache_tracks) = {
            let c = lock(&self.shared.cache);
            (c.bytes(), c.len())
        };
        let st = lock(&self.shared.state);
        let mut child_pids: Vec<u32> = st.children.iter().copied().collect();
        child_pids.sort_unstable();
        PoolStats {
            workers: st.workers,
            busy: st.busy,
            queued: st.queue.len(),
            live_children: st.children.len(),
            child_pids,
            spawned_total: self.shared.spawned.load(Ordering::Relaxed),
            peak_children: st.peak_children,
            jobs_waited: self.shared.waited.load(Ordering::Relaxed),
            cache_bytes,
            cache_tracks,
        }
    }

    /// Stops accepting jobs, cancels queued ones and lets workers exit after their current job.
    pub fn shutdown(&self) {
        let queued = {
            let mut st = lock(&self.shared.state);
            st.shutdown = true;
            std::mem::take(&mut st.queue)
        };
        for q in queued {
            q.job.cancel();
            *lock(&q.job.status) = JobStatus::Done;
        }
        // Their runs will never come: streams waiting for a segment end now.
        let segments = std::mem::take(&mut *lock(&self.shared.segments));
        for r in segments {
            r.abandon(Error::PoolClosed);
        }
        self.shared.wake.notify_all();
    }

    /// Queues `run` to execute on a worker. The closure learns of cancellation through its
    /// [`JobCtx`].
    pub(crate) fn submit(&self, priority: Priority, run: JobFn) -> Result<JobHandle> {
        let job = JobShared::new(priority);
        let mut st = lock(&self.shared.state);
        if st.shutdown {
            return Err(Error::PoolClosed);
        }
        st.seq += 1;
        let seq = st.seq;
        let waiting = st.queue.len() + 1;
        let can_start = waiting <= st.idle || st.workers < self.shared.limit;
        if can_start {
            *lock(&job.status) = JobStatus::Running;
        } else {
            let ahead = st
                .queue
                .iter()
                .filter(|q| q.job.priority.load(Ordering::Relaxed) >= priority as u8)
                .count();
            *lock(&job.status) = JobStatus::Queued { ahead };
            self.shared.waited.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(ahead, ?priority, "ffmpeg pool full: job queued");
        }
        st.queue.push(QueuedJob { seq, job: Arc::clone(&job), run });
        if waiting > st.idle && st.workers < self.shared.limit {
            st.workers += 1;
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("ffmpeg-pool".into())
                .stack_size(256 * 1024)
                .spawn(move || worker(&shared));
            if let Err(e) = spawned {
                st.workers -= 1;
                st.queue.pop();
                return Err(Error::Io { what: "starting a pool worker", source: e });
            }
        } else {
            self.shared.wake.notify_one();
        }
        Ok(JobHandle { job, detached: false })
    }
}

fn pop_best(st: &mut State) -> Option<QueuedJob> {
    let best = st
        .queue
        .iter()
        .enumerate()
        .max_by_key(|(_, q)| (q.job.priority.load(Ordering::Relaxed), std::cmp::Reverse(q.seq)))
        .map(|(i, _)| i)?;
    Some(st.queue.swap_remove(best))
}

fn worker(shared: &Arc<Shared>) {
    loop {
        let next = {
            let mut st = lock(&shared.state);
            loop {
                if let Some(job) = pop_best(&mut st) {
                    st.busy += 1;
                    break Some(job);
                }
                if st.shutdown {
                    break None;
                }
                st.idle += 1;
                let deadline = Instant::now() + shared.config.idle_timeout;
                let (g, timeout) = shared
                    .wake
                    .wait_timeout(st, shared.config.idle_timeout)
                    .unwrap_or_else(PoisonError::into_inner);
                st = g;
                st.idle -= 1;
                if timeout.timed_out() && st.queue.is_empty() && Instant::now() >= deadline {
                    break None;
                }
            }
        };
        let Some(q) = next else {
            lock(&shared.state).workers -= 1;
            return;
        };
        *lock(&q.job.status) = JobStatus::Running;
        let ctx = JobCtx { shared: Arc::clone(shared), job: Arc::clone(&q.job) };
        if !ctx.cancelled() {
            // A panicking job must not take the worker's bookkeeping with it.
            let run = q.run;
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ctx)));
        }
        drop(ctx);
        *lock(&q.job.status) = JobStatus::Done;
        lock(&shared.state).busy -= 1;
    }
}

/// What a running job sees: its cancellation flag and the way to spawn its child.
pub(crate) struct JobCtx {
    shared: Arc<Shared>,
    job: Arc<JobShared>,
}

impl JobCtx {
    /// Whether the job was cancelled.
    pub(crate) fn cancelled(&self) -> bool {
        self.job.cancel.load(Ordering::SeqCst)
    }

    /// The tools configuration.
    pub(crate) fn tools(&self) -> &ToolsConfig {
        &self.shared.config.tools
    }

    /// Spawns the job's child (one at a time), registered with the pool and killed if the job
    /// is cancelled.
    pub(crate) fn spawn(
        &self,
        cmd: Command,
        pipe_stdin: bool,
    ) -> Result<(ChildStdout, Option<ChildStdin>)> {
        if self.cancelled() {
            return Err(Error::Cancelled);
        }
        self.reap_child();
        let mut child = Supervised::spawn(cmd, self.tools().stderr_limit_bytes(), pipe_stdin)?;
        let stdout = child.take_stdout().ok_or(Error::Io {
            what: "child stdout",
            source: std::io::Error::other("not piped"),
        })?;
        let stdin = child.take_stdin();
        let pid = child.id();
        {
            let mut st = lock(&self.shared.state);
            st.children.insert(pid);
            st.peak_children = st.peak_children.max(st.children.len());
        }
        self.shared.spawned.fetch_add(1, Ordering::Relaxed);
        *lock(&self.job.child) = Some(child);
        if self.cancelled() {
            self.job.cancel();
        }
        Ok((stdout, stdin))
    }

    /// Waits for the child to exit: `Ok` on success, [`Error::Cancelled`] when the job was
    /// cancelled, else the child's failure with its stderr tail.
    pub(crate) fn finish_child(&self) -> Result<()> {
        let child = lock(&self.job.child).take();
        let Some(child) = child else { return Ok(()) };
        let pid = child.id();
        let result = if self.cancelled() {
            drop(child);
            Err(Error::Cancelled)
        } else {
            child.finish()
        };
        lock(&self.shared.state).children.remove(&pid);
        result
    }

    /// Kills and reaps the child, if any.
    pub(crate) fn reap_child(&self) {
        let child = lock(&self.job.child).take();
        if let Some(child) = child {
            let pid = child.id();
            drop(child);
            lock(&self.shared.state).children.remove(&pid);
        }
    }
}

impl Drop for JobCtx {
    fn drop(&mut self) {
        self.reap_child();
    }
}

/// Reads `stdout` to the end in chunks, handing each to `f`; stops early when `f` says so or the
/// job is cancelled.
pub(crate) fn pump(
    ctx: &JobCtx,
    mut stdout: ChildStdout,
    mut f: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    use std::io::Read;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if ctx.cancelled() {
            return Err(Error::Cancelled);
        }
        let n = match stdout.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::Io { what: "reading ffmpeg output", source }),
        };
        if !f(buf.get(..n).unwrap_or_default())? {
            return Ok(());
        }
    }
}
