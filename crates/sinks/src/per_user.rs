//! One child sink per user.

use std::collections::HashMap;
use std::time::Instant;

use voxwire_rtp::Ssrc;

use crate::error::Errors;
use crate::sink::forward;
use crate::{Codec, CodecSet, Error, MediaPacket, MediaType, Sink, StreamKey, UserId};

/// Creates one child per user with a factory, lazily on the user's first packet.
///
/// A packet whose SSRC is not yet mapped to a user is routed by SSRC (unless
/// [`without_ssrc_fallback`](Self::without_ssrc_fallback), which drops it). When a later packet of
/// that SSRC carries the user id, the SSRC's child is *promoted* to the user's key, so one user's
/// recording stays one file. If the user already had a child (from another SSRC, e.g. after a
/// reconnect), the user's child is kept and the SSRC child stays as it is.
pub struct PerUserSink<F> {
    factory: F,
    accepts: CodecSet,
    fallback_to_ssrc: bool,
    children: Vec<(StreamKey, Box<dyn Sink>)>,
    index: HashMap<StreamKey, usize>,
    users: HashMap<Ssrc, UserId>,
    closed: bool,
}

impl<F> std::fmt::Debug for PerUserSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerUserSink")
            .field("accepts", &self.accepts)
            .field("keys", &self.children.iter().map(|(k, _)| *k).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<F> PerUserSink<F>
where
    F: FnMut(StreamKey) -> Result<Box<dyn Sink>, Error> + Send,
{
    /// Creates children with `factory`. `accepts` is what the children will want (they do not
    /// exist before the first packet, so [`Sink::wants`] answers from it): for example
    /// [`CodecSet::PCM`] for WAV files.
    pub fn new(accepts: CodecSet, factory: F) -> Self {
        Self {
            factory,
            accepts,
            fallback_to_ssrc: true,
            children: Vec::new(),
            index: HashMap::new(),
            users: HashMap::new(),
            closed: false,
        }
    }

    /// Drops packets whose SSRC is not mapped to a user instead of routing them by SSRC.
    #[must_use]
    pub fn without_ssrc_fallback(mut self) -> Self {
        self.fallback_to_ssrc = false;
        self
    }

    /// The keys of the children created so far, in creation order.
    pub fn keys(&self) -> impl Iterator<Item = StreamKey> + '_ {
        self.children.iter().map(|(k, _)| *k)
    }

    /// The child for `key`, if created.
    pub fn child(&self, key: StreamKey) -> Option<&dyn Sink> {
        self.index.get(&key).and_then(|&i| self.children.get(i)).map(|(_, c)| c.as_ref())
    }

    fn route(&mut self, packet: &MediaPacket) -> Result<Option<usize>, Error> {
        if let Some(user) = packet.user_id {
            self.users.insert(packet.ssrc, user);
        }
        let user = packet.user_id.or_else(|| self.users.get(&packet.ssrc).copied());
        let key = match user {
            Some(u) => {
                let user_key = StreamKey::User(u);
                let ssrc_key = StreamKey::Ssrc(packet.ssrc);
                if !self.index.contains_key(&user_key)
                    && let Some(i) = self.index.remove(&ssrc_key)
                {
                    if let Some(slot) = self.children.get_mut(i) {
                        slot.0 = user_key;
                    }
                    self.index.insert(user_key, i);
                }
                user_key
            }
            None if self.fallback_to_ssrc => StreamKey::Ssrc(packet.ssrc),
            None => return Ok(None),
        };
        if let Some(&i) = self.index.get(&key) {
            return Ok(Some(i));
        }
        let child = (self.factory)(key).map_err(|e| Error::Factory { key, source: Box::new(e) })?;
        self.children.push((key, child));
        let i = self.children.len() - 1;
        self.index.insert(key, i);
        Ok(Some(i))
    }
}

impl<F> Sink for PerUserSink<F>
where
    F: FnMut(StreamKey) -> Result<Box<dyn Sink>, Error> + Send,
{
    fn name(&self) -> &'static str {
        "per-user"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        !self.closed && self.accepts.wants(media, codec)
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("per-user"));
        }
        match self.route(packet)? {
            Some(i) => match self.children.get_mut(i) {
                Some((_, child)) => forward(child.as_mut(), packet),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let mut errors = Errors::default();
        for (_, c) in &mut self.children {
            errors.push(c.tick(now));
        }
        errors.into_result()
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        for (_, c) in &self.children {
            f(c.as_ref());
        }
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        for (_, c) in &mut self.children {
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
