//! Filters: by predicate, time window, user, media type and codec.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::sink::forward;
use crate::{Codec, CodecSet, Error, MediaPacket, MediaType, Sink, UserId};

type Predicate = Box<dyn FnMut(&MediaPacket) -> bool + Send>;

enum Rule {
    Predicate(Predicate),
    Window { start: Option<Instant>, duration: Duration },
    Media { codecs: CodecSet, users: Option<HashSet<UserId>> },
}

/// Forwards to its child only the packets its rule accepts.
///
/// Time windows use [`MediaPacket::received_at`], never a clock, so they are deterministic.
///
/// ```
/// use voxwire_sinks::{CallbackSink, Codec, CodecSet, Filter, MediaType, Sink, UserId};
/// let child = CallbackSink::new(CodecSet::ALL, |_| {});
/// let f = Filter::media(child, CodecSet::PCM, None);
/// assert!(f.wants(MediaType::Audio, Codec::Pcm));
/// assert!(!f.wants(MediaType::Audio, Codec::Opus));
/// ```
pub struct Filter<S> {
    child: S,
    rule: Rule,
    closed: bool,
}

impl<S> std::fmt::Debug for Filter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = match &self.rule {
            Rule::Predicate(_) => "predicate",
            Rule::Window { .. } => "window",
            Rule::Media { .. } => "media",
        };
        f.debug_struct("Filter").field("rule", &rule).finish_non_exhaustive()
    }
}

impl<S: Sink> Filter<S> {
    /// Packets for which `predicate` returns true.
    pub fn predicate(
        child: S,
        predicate: impl FnMut(&MediaPacket) -> bool + Send + 'static,
    ) -> Self {
        Self { child, rule: Rule::Predicate(Box::new(predicate)), closed: false }
    }

    /// Packets received within `duration` from `start`, or from the first packet seen when `start`
    /// is `None`.
    pub fn window(child: S, start: Option<Instant>, duration: Duration) -> Self {
        Self { child, rule: Rule::Window { start, duration }, closed: false }
    }

    /// Packets of one user (packets of unmapped SSRCs are dropped).
    pub fn user(child: S, user: UserId) -> Self {
        Self::media(child, CodecSet::ALL, Some(HashSet::from([user])))
    }

    /// Packets whose codec is in `codecs` (use [`CodecSet::media`] for a media type) and, when
    /// `users` is given, whose user is in it.
    pub fn media(child: S, codecs: CodecSet, users: Option<HashSet<UserId>>) -> Self {
        Self { child, rule: Rule::Media { codecs, users }, closed: false }
    }

    fn accepts(&mut self, p: &MediaPacket) -> bool {
        match &mut self.rule {
            Rule::Predicate(f) => f(p),
            Rule::Window { start, duration } => {
                let s = *start.get_or_insert(p.received_at);
                p.received_at >= s && p.received_at.saturating_duration_since(s) < *duration
            }
            Rule::Media { codecs, users } => {
                codecs.contains(p.codec)
                    && users.as_ref().is_none_or(|u| p.user_id.is_some_and(|id| u.contains(&id)))
            }
        }
    }
}

impl<S: Sink> Sink for Filter<S> {
    fn name(&self) -> &'static str {
        "filter"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        let rule = match &self.rule {
            Rule::Media { codecs, .. } => codecs.wants(media, codec),
            _ => true,
        };
        !self.closed && rule && self.child.wants(media, codec)
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("filter"));
        }
        if self.accepts(packet) { forward(&mut self.child, packet) } else { Ok(()) }
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        f(&self.child);
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        f(&mut self.child);
    }
    fn finish(&mut self) -> Result<(), Error> {
        self.closed = true;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}
