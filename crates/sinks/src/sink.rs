//! The [`Sink`] trait and tree helpers.

use std::time::Instant;

use crate::error::Errors;
use crate::{Codec, Error, MediaPacket, MediaType};

/// A node of the receive sink tree.
///
/// # Call order
///
/// The receive path asks the root [`wants`](Self::wants) for each media type and codec before
/// doing work (no Opus decode when nothing wants PCM, no depacketizing of a codec nobody
/// records), then calls [`write`](Self::write) for each packet the root wants, and
/// [`tick`](Self::tick) periodically (every 20 ms is right) with the current time so
/// time-driven sinks (silence fill, delayed FEC decisions) can act without a clock of their own.
/// When listening stops it calls [`cleanup`](Self::cleanup) once on the root, which finalizes
/// the whole tree: files get their headers patched, FFmpeg children are waited for.
///
/// A parent forwards a packet only to the children that want it. Sinks own their children
/// (`Box<dyn Sink>`), so the tree has no cycles and no shared mutable state.
///
/// Dropping a tree without `cleanup` still closes every file and kills FFmpeg children, but a
/// file's final header patch is only guaranteed by `cleanup`; the periodic patch of the WAV sinks
/// keeps even a dropped or crashed recording readable.
pub trait Sink: Send {
    /// A short name for diagnostics and [`walk`].
    fn name(&self) -> &'static str;

    /// Whether this sink, or any descendant, wants packets of this media type and codec.
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        let mut any = false;
        self.for_each_child(&mut |c| any |= c.wants(media, codec));
        any
    }

    /// Takes one packet.
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error>;

    /// Advances time; the default forwards to every child.
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let mut errors = Errors::default();
        self.for_each_child_mut(&mut |c| errors.push(c.tick(now)));
        errors.into_result()
    }

    /// Visits the direct children.
    fn for_each_child(&self, _f: &mut dyn FnMut(&dyn Sink)) {}

    /// Visits the direct children mutably.
    fn for_each_child_mut(&mut self, _f: &mut dyn FnMut(&mut dyn Sink)) {}

    /// Flushes and releases this sink's own resources (not its children's). Called by
    /// [`cleanup`](Self::cleanup) before the children are cleaned, so a sink can flush buffered
    /// packets into its children first.
    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Whether [`cleanup`](Self::cleanup) has run.
    fn is_closed(&self) -> bool;

    /// Finalizes this sink and then its whole subtree, depth first. Every node is cleaned even if
    /// some fail; the first error is returned. Idempotent.
    fn cleanup(&mut self) -> Result<(), Error> {
        let mut errors = Errors::default();
        errors.push(self.finish());
        self.for_each_child_mut(&mut |c| errors.push(c.cleanup()));
        errors.into_result()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        (**self).wants(media, codec)
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        (**self).write(packet)
    }
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        (**self).tick(now)
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        (**self).for_each_child(f);
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        (**self).for_each_child_mut(f);
    }
    fn finish(&mut self) -> Result<(), Error> {
        (**self).finish()
    }
    fn is_closed(&self) -> bool {
        (**self).is_closed()
    }
    fn cleanup(&mut self) -> Result<(), Error> {
        (**self).cleanup()
    }
}

/// Visits `root` and every descendant depth first, parents before children, with their depth
/// (the root is 0).
pub fn walk(root: &dyn Sink, f: &mut dyn FnMut(&dyn Sink, usize)) {
    fn go(s: &dyn Sink, depth: usize, f: &mut dyn FnMut(&dyn Sink, usize)) {
        f(s, depth);
        s.for_each_child(&mut |c| go(c, depth + 1, f));
    }
    go(root, 0, f);
}

/// Writes `packet` to `child` if it wants it.
pub fn forward(child: &mut dyn Sink, packet: &MediaPacket) -> Result<(), Error> {
    if child.wants(packet.media_type(), packet.codec) { child.write(packet) } else { Ok(()) }
}
