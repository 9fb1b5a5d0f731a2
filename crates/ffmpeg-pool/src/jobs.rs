//! The jobs the pool runs: Opus transcodes (cached or streamed), PCM decodes, probes and
//! capability checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::buffer::{Buffer, Weighted};
use crate::capabilities::Capabilities;
use crate::config::{OpusConfig, StreamConfig};
use crate::error::{Error, Result};
use crate::input::Input;
use crate::ogg::{FRAME_SAMPLES, OPUS_RATE, OggOpusDemuxer, OggPageSplitter, OpusPacket};
use crate::pool::{JobCtx, JobHandle, JobShared, Pool, Priority, lock, pump};
use crate::probe::ProbeInfo;
use crate::reader::{PacketReader, PcmReader, Refill};

const FRAME: Duration = Duration::from_millis(20);

/// Ends a buffer with [`Error::Cancelled`] if its job ends (or is dropped unrun) without
/// finishing it.
struct FinishGuard<T: Weighted>(Arc<Buffer<T>>, bool);

impl<T: Weighted> Drop for FinishGuard<T> {
    fn drop(&mut self) {
        if self.1 {
            self.0.finish(Err(Error::Cancelled));
        }
    }
}

/// Runs FFmpeg to Ogg Opus and hands each packet to `on_packet` until it returns `false`.
fn encode(
    ctx: &JobCtx,
    input: Input,
    cfg: &OpusConfig,
    span: Option<(Duration, Duration)>,
    mut on_packet: impl FnMut(OpusPacket) -> bool,
) -> Result<()> {
    let mut cmd = ctx.tools().ffmpeg_command();
    let (arg, feeder) = input.into_arg();
    cfg.apply(&mut cmd, arg, span.map(|s| s.0), span.map(|s| s.1));
    let (stdout, stdin) = ctx.spawn(cmd, feeder.is_some())?;
    let _feed = feeder.and_then(|f| f.start(stdin));
    let mut demux = OggOpusDemuxer::new().without_crc_check();
    let mut wanted = true;
    pump(ctx, stdout, |chunk| {
        demux.push(chunk);
        while let Some(p) = demux.poll_packet()? {
            wanted = wanted && on_packet(p);
        }
        Ok(wanted)
    })?;
    if !wanted {
        ctx.reap_child();
        return Err(Error::Cancelled);
    }
    ctx.finish_child()?;
    demux.finish()
}

impl Pool {
    /// Plays `input` from the transcode-once cache: the first call encodes it (on a worker,
    /// at `priority`), every later call with the same input and settings shares the packets,
    /// including while the encode is still running (reading starts with the first packets).
    ///
    /// One-shot inputs (pipes, bytes) cannot be cached and are streamed as by
    /// [`stream`](Self::stream) with one process.
    pub fn play(&self, input: Input, cfg: &OpusConfig, priority: Priority) -> Result<PacketReader> {
        let Some(key) = input.cache_key().map(|k| format!("{k}|{}", cfg.key())) else {
            return self.stream(input, cfg, &StreamConfig::new().segment(None));
        };
        let mut cache = crate::pool_cache(self);
        if let Some(e) = cache.get(&key) {
            if let Some(j) = &e.encoder {
                j.raise(priority);
            }
            return Ok(PacketReader::shared(Arc::clone(&e.buf), e.encoder.clone()));
        }
        if let Some(buf) = cache.unspill(&key) {
            return Ok(PacketReader::shared(buf, None));
        }
        let buf = Buffer::new(true, 0);
        let job_buf = Arc::clone(&buf);
        let cfg2 = cfg.clone();
        let pool = self.clone();
        let handle = self.submit(
            priority,
            Box::new(move |ctx| {
                let guard = FinishGuard(job_buf, true);
                let r = encode(ctx, input, &cfg2, None, |p| guard.0.push(p, &|| false));
                // Evict under the cache lock before readers learn of the end, so that what they
                // see next (stats, a new play) already reflects the budget.
                let mut cache = crate::pool_cache(&pool);
                guard.0.finish(r);
                cache.evict();
            }),
        )?;
        let encoder = Arc::clone(handle.shared());
        handle.detach();
        cache.insert(key, Arc::clone(&buf), Some(Arc::clone(&encoder)));
        Ok(PacketReader::shared(buf, Some(encoder)))
    }

    /// Starts encoding `input` into the cache at [`Priority::Prefetch`] without reading it.
    pub fn prefetch(&self, input: Input, cfg: &OpusConfig) -> Result<()> {
        if input.cache_key().is_none() {
            return Err(Error::Input("one-shot inputs cannot be prefetched"));
        }
        self.play(input, cfg, Priority::Prefetch).map(drop)
    }

    /// Streams `input` with bounded read-ahead and nothing cached: seekable inputs are encoded
    /// in segments (FFmpeg runs once per segment, restarted at an offset), one-shot inputs by
    /// one process held back by its pipe. Dropping the reader kills the process.
    pub fn stream(
        &self,
        input: Input,
        cfg: &OpusConfig,
        stream: &StreamConfig,
    ) -> Result<PacketReader> {
        let frames = |d: Duration| (d.as_millis() / FRAME.as_millis()).max(1) as u64;
        match stream.segment {
            Some(seg) if input.is_seekable() => {
                let buf = Buffer::new(false, usize::MAX);
                let mut seg = Segments {
                    pool: self.clone(),
                    input,
                    cfg: cfg.clone(),
                    first_packets: frames(stream.first_segment.min(seg)),
                    seg_packets: frames(seg),
                    low_water: frames(stream.read_ahead),
                    batch: stream.batch,
                    next: 0,
                    priority: Arc::new(AtomicU8::new(Priority::Playback as u8)),
                    current: None,
                };
                seg.start(&buf, Priority::Playback)?;
                Ok(PacketReader::streaming(buf, Some(Box::new(seg)), None))
            }
            _ => {
                let per_second = cfg.bitrate as usize / 8 + 50 * size_of::<OpusPacket>();
                let capacity = per_second * stream.read_ahead.as_millis() as usize / 1000;
                let buf = Buffer::new(false, capacity.max(4096));
                let job_buf = Arc::clone(&buf);
                let cfg = cfg.clone();
                let handle = self.submit(
                    Priority::Playback,
                    Box::new(move |ctx| {
                        let guard = FinishGuard(job_buf, true);
                        let r = encode(ctx, input, &cfg, None, |p| {
                            guard.0.push(p, &|| ctx.cancelled())
                        });
                        guard.0.finish(r);
                    }),
                )?;
                Ok(PacketReader::streaming(buf, None, Some(handle)))
            }
        }
    }

    /// Decodes `input` to s16le 48 kHz stereo PCM, with at most about one second read ahead.
    /// `input_options` go before `-i` (such as `["-f", "lavfi"]`).
    pub fn decode_pcm(&self, input: Input, input_options: &[&str]) -> Result<PcmReader> {
        let buf = Buffer::new(false, 4 * crate::config::PCM_FRAME_BYTES * 50);
        let job_buf = Arc::clone(&buf);
        let opts: Vec<String> = input_options.iter().map(|s| (*s).to_owned()).collect();
        let handle = self.submit(
            Priority::Playback,
            Box::new(move |ctx| {
                let guard = FinishGuard(job_buf, true);
                let r = (|| {
                    let mut cmd = ctx.tools().ffmpeg_command();
                    let (arg, feeder) = input.into_arg();
                    cmd.args(&opts).arg("-i").arg(arg);
                    cmd.args([
                        "-map", "0:a:0", "-vn", "-f", "s16le", "-ar", "48000", "-ac", "2", "pipe:1",
                    ]);
                    let (stdout, stdin) = ctx.spawn(cmd, feeder.is_some())?;
                    let _feed = feeder.and_then(|f| f.start(stdin));
                    pump(ctx, stdout, |chunk| {
                        Ok(guard.0.push(Bytes::copy_from_slice(chunk), &|| ctx.cancelled()))
                    })?;
                    ctx.finish_child()
                })();
                guard.0.finish(r);
            }),
        )?;
        Ok(PcmReader::new(buf, handle))
    }

    fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&JobCtx) -> Result<T> + Send + 'static,
    ) -> Result<(tokio::sync::oneshot::Receiver<Result<T>>, JobHandle)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let handle = self.submit(
            Priority::Normal,
            Box::new(move |ctx| {
                let _ = tx.send(f(ctx));
            }),
        )?;
        Ok((rx, handle))
    }

    /// Probes `input` with ffprobe on a worker, blocking the calling thread.
    pub fn probe(&self, input: Input) -> Result<ProbeInfo> {
        let (rx, _h) = self.run_blocking(move |ctx| probe_job(ctx, input))?;
        rx.blocking_recv().unwrap_or(Err(Error::Cancelled))
    }

    /// Probes `input` with ffprobe on a worker.
    pub async fn probe_async(&self, input: Input) -> Result<ProbeInfo> {
        let (rx, _h) = self.run_blocking(move |ctx| probe_job(ctx, input))?;
        rx.await.unwrap_or(Err(Error::Cancelled))
    }

    /// Runs `ffmpeg -encoders`, `-decoders` and `-hwaccels` on a worker, blocking.
    pub fn capabilities(&self) -> Result<Capabilities> {
        let (rx, _h) = self.run_blocking(capabilities_job)?;
        rx.blocking_recv().unwrap_or(Err(Error::Cancelled))
    }

    /// Runs `ffmpeg -encoders`, `-decoders` and `-hwaccels` on a worker.
    pub async fn capabilities_async(&self) -> Result<Capabilities> {
        let (rx, _h) = self.run_blocking(capabilities_job)?;
        rx.await.unwrap_or(Err(Error::Cancelled))
    }
}

fn collect(
    ctx: &JobCtx,
    cmd: std::process::Command,
    feeder: Option<crate::input::Feeder>,
) -> Result<Vec<u8>> {
    let (stdout, stdin) = ctx.spawn(cmd, feeder.is_some())?;
    let _feed = feeder.and_then(|f| f.start(stdin));
    let mut out = Vec::new();
    pump(ctx, stdout, |c| {
        out.extend_from_slice(c);
        Ok(true)
    })?;
    ctx.finish_child()?;
    Ok(out)
}

fn probe_job(ctx: &JobCtx, input: Input) -> Result<ProbeInfo> {
    let mut cmd = ctx.tools().ffprobe_command();
    cmd.args(["-print_format", "json", "-show_format", "-show_streams"]);
    let (arg, feeder) = input.into_arg();
    cmd.arg("-i").arg(arg);
    ProbeInfo::parse_json(&collect(ctx, cmd, feeder)?)
}

fn capabilities_job(ctx: &JobCtx) -> Result<Capabilities> {
    let mut text = Vec::new();
    for flag in ["-encoders", "-decoders", "-hwaccels"] {
        let mut cmd = std::process::Command::new(ctx.tools().ffmpeg_path());
        cmd.args(["-hide_banner", flag]);
        text.push(String::from_utf8_lossy(&collect(ctx, cmd, None)?).into_owned());
    }
    Capabilities::parse(&text[0], &text[1], &text[2])
}

/// One streaming segment waiting for an FFmpeg run.
pub(crate) struct SegmentRequest {
    seq: u64,
    input: Input,
    cfg: OpusConfig,
    start: Duration,
    length: Duration,
    /// Leading packets to drop (the encoder's warm-up frame of a segment after the first).
    skip: u64,
    /// Packets to keep.
    packets: u64,
    buf: Arc<Buffer<OpusPacket>>,
    /// The reader's urgency, raised while it runs low.
    priority: Arc<AtomicU8>,
    batch: usize,
}

impl SegmentRequest {
    /// Ends the segment's stream with `error` (the pool closed before it ran).
    pub(crate) fn abandon(self, error: Error) {
        self.buf.finish(Err(error));
    }
}

/// Takes the most urgent waiting segment (then the oldest) and up to `batch - 1` more with the
/// same encoding settings that may share a run (`batch > 1`), in the same order; segments whose
/// reader is gone are dropped.
fn take_batch(pool: &Pool) -> Vec<SegmentRequest> {
    let mut queue = lock(&pool.shared.segments);
    queue.retain(|r| !r.buf.is_closed());
    let key = |r: &SegmentRequest| (std::cmp::Reverse(r.priority.load(Ordering::Relaxed)), r.seq);
    queue.sort_by_key(key);
    let Some(first) = queue.first() else { return Vec::new() };
    let (cfg, batch) = (first.cfg.clone(), first.batch);
    let mut taken = Vec::new();
    let mut i = 0;
    while i < queue.len() && taken.len() < batch {
        if queue.get(i).is_some_and(|r| r.cfg == cfg && (taken.is_empty() || r.batch > 1)) {
            taken.push(queue.remove(i));
        } else {
            i += 1;
        }
    }
    taken
}

/// Runs one FFmpeg for a batch of waiting segments (or none, when other runs took them all):
/// every segment is an input with its own `-ss`/`-t` and a logical stream of the one Ogg
/// output, whose pages are routed to that segment's reader. The process is killed once every
/// reader of the batch is gone.
fn run_batch(ctx: &JobCtx, pool: &Pool) {
    let batch = take_batch(pool);
    let Some(cfg) = batch.first().map(|r| r.cfg.clone()) else { return };
    let mut guards: Vec<FinishGuard<OpusPacket>> =
        batch.iter().map(|r| FinishGuard(Arc::clone(&r.buf), true)).collect();
    let mut inputs = Vec::with_capacity(batch.len());
    let mut plan = Vec::with_capacity(batch.len());
    // Each segment again, alone: if the shared run fails before a segment got a packet (one bad
    // input makes FFmpeg exit), that segment is retried on its own, so that only the bad input
    // fails.
    let shared_run = batch.len() > 1;
    let mut retry: Vec<Option<SegmentRequest>> = Vec::with_capacity(batch.len());
    for r in batch {
        retry.push(r.input.try_clone().filter(|_| shared_run).map(|input| SegmentRequest {
            input,
            cfg: r.cfg.clone(),
            buf: Arc::clone(&r.buf),
            priority: Arc::clone(&r.priority),
            batch: 1,
            ..r
        }));
        inputs.push((r.input.into_arg().0, Some(r.start), Some(r.length)));
        plan.push((r.skip, r.packets));
    }
    let mut cmd = ctx.tools().ffmpeg_command();
    cfg.apply_many(&mut cmd, inputs);
    // Per stream: packets seen, packets kept, whether its reader still wants them.
    let mut progress: Vec<(u64, u64, bool)> = plan.iter().map(|_| (0, 0, true)).collect();
    let r = (|| {
        let (stdout, _) = ctx.spawn(cmd, false)?;
        let mut split = OggPageSplitter::default();
        let mut demux: Vec<OggOpusDemuxer> =
            plan.iter().map(|_| OggOpusDemuxer::new().without_crc_check()).collect();
        pump(ctx, stdout, |chunk| {
            split.push(chunk);
            while let Some((i, page)) = split.poll_page()? {
                let (Some(d), Some(&(skip, n)), Some(pr), Some(g)) =
                    (demux.get_mut(i), plan.get(i), progress.get_mut(i), guards.get_mut(i))
                else {
                    continue;
                };
                d.push(&page);
                while let Some(p) = d.poll_packet()? {
                    pr.0 += 1;
                    if pr.0 > skip && pr.1 < n && pr.2 {
                        pr.1 += 1;
                        pr.2 = g.0.push(p, &|| ctx.cancelled());
                        if pr.1 == n && pr.2 {
                            g.1 = false;
                            g.0.segment_done();
                        }
                    }
                }
            }
            Ok(progress.iter().any(|p| p.2))
        })?;
        if progress.iter().all(|p| !p.2) {
            ctx.reap_child();
            return Err(Error::Cancelled);
        }
        ctx.finish_child()?;
        let cut = split.pending();
        for (d, g) in demux.iter().zip(guards.iter_mut()) {
            if g.1 {
                // FFmpeg ended this stream short of the segment: the input ended there, which
                // is the end of the track (or, with a page cut off, an error).
                let r = if cut > 0 {
                    Err(Error::Truncated { expected: cut + 1, actual: cut })
                } else {
                    d.finish()
                };
                g.1 = false;
                g.0.finish(r);
            }
        }
        Ok(())
    })();
    if let Err(e) = r {
        let alone = shared_run && !ctx.cancelled() && matches!(e, Error::Exited { .. });
        let e = Arc::new(e);
        for ((g, p), again) in guards.iter_mut().zip(&progress).zip(&mut retry) {
            if !g.1 {
                continue;
            }
            g.1 = false;
            match again.take().filter(|_| alone && p.0 == 0) {
                Some(req) => requeue(pool, req),
                None => g.0.finish(Err(Error::Shared(Arc::clone(&e)))),
            }
        }
    }
}

/// Queues a segment again with a run of its own.
fn requeue(pool: &Pool, req: SegmentRequest) {
    let buf = Arc::clone(&req.buf);
    let priority = if req.priority.load(Ordering::Relaxed) >= Priority::Playback as u8 {
        Priority::Playback
    } else {
        Priority::Prefetch
    };
    lock(&pool.shared.segments).push(req);
    let p = pool.clone();
    match pool.submit(priority, Box::new(move |ctx| run_batch(ctx, &p))) {
        Ok(h) => h.detach(),
        Err(e) => buf.finish(Err(e)),
    }
}

/// Segment-by-segment refill of a streaming reader.
struct Segments {
    pool: Pool,
    input: Input,
    cfg: OpusConfig,
    first_packets: u64,
    seg_packets: u64,
    low_water: u64,
    batch: usize,
    next: u64,
    priority: Arc<AtomicU8>,
    /// The run queued for this reader's latest segment (another run may serve it first).
    current: Option<Arc<JobShared>>,
}

impl Segments {
    /// Queues the segment starting at packet `self.next`: the first segment is short so that
    /// playback starts quickly, and each later one twice as long as the one before, up to
    /// `seg_packets` (so that many readers starting at once each get their next seconds soon,
    /// instead of all waiting for full segments). A segment after the first
    /// starts one frame early and its first packet (the encoder's warm-up) is dropped, so packets
    /// line up with a single whole-file encode. The segment waits in the pool's segment queue,
    /// and a run is submitted for it; whichever run starts first may take it with others.
    fn start(&mut self, buf: &Arc<Buffer<OpusPacket>>, priority: Priority) -> Result<()> {
        let first = self.next;
        let n = if first == 0 {
            self.first_packets
        } else {
            // Encoded so far: first * (2^k - 1) after k segments, so the next one (first * 2^k)
            // is what has been encoded plus the first, capped.
            (first + self.first_packets).min(self.seg_packets)
        };
        let skip = u64::from(first > 0);
        let frame_us = u64::from(FRAME_SAMPLES) * 1_000_000 / u64::from(OPUS_RATE);
        let input = self.input.try_clone().ok_or(Error::Input("segments need a seekable input"))?;
        self.priority.store(priority as u8, Ordering::Relaxed);
        buf.lock().in_flight = true;
        let seq = SEGMENT_SEQ.fetch_add(1, Ordering::Relaxed);
        lock(&self.pool.shared.segments).push(SegmentRequest {
            seq,
            input,
            cfg: self.cfg.clone(),
            start: Duration::from_micros((first - skip) * frame_us),
            length: Duration::from_micros((n + skip) * frame_us),
            skip,
            packets: n,
            buf: Arc::clone(buf),
            priority: Arc::clone(&self.priority),
            batch: self.batch,
        });
        let pool = self.pool.clone();
        match self.pool.submit(priority, Box::new(move |ctx| run_batch(ctx, &pool))) {
            Ok(h) => {
                // The run may serve other readers: dropping this reader must not cancel it.
                self.current = Some(Arc::clone(h.shared()));
                h.detach();
                self.next += n;
                Ok(())
            }
            Err(e) => {
                lock(&self.pool.shared.segments).retain(|r| r.seq != seq);
                buf.lock().in_flight = false;
                Err(e)
            }
        }
    }
}

static SEGMENT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Refill for Segments {
    fn refill(&mut self, ahead: u64, buf: &Arc<Buffer<OpusPacket>>) {
        if ahead >= self.low_water || buf.is_done() {
            return;
        }
        let priority =
            if ahead < self.low_water / 3 { Priority::Playback } else { Priority::Prefetch };
        if buf.lock().in_flight {
            // A segment still waiting becomes urgent once the read-ahead runs low.
            self.priority.fetch_max(priority as u8, Ordering::Relaxed);
            if let Some(job) = &self.current {
                job.raise(priority);
            }
            return;
        }
        if let Err(e) = self.start(buf, priority) {
            buf.finish(Err(e));
        }
    }

    fn waiting_on(&self) -> Option<&Arc<JobShared>> {
        self.current.as_ref()
    }
}
