//! Volume on received PCM.

use std::collections::HashMap;
use std::sync::Arc;

use voxwire_rtp::Ssrc;
use voxwire_sources::FRAME_LEN;
use voxwire_sources::dsp::{GainRamp, VolumeHandle, soft_clip};

use crate::sink::forward;
use crate::{Codec, Error, MediaPacket, Sink};

/// Scales the PCM of every packet by a volume any thread can change through a [`VolumeHandle`],
/// ramped per stream over one 20 ms frame and soft-clipped; other packets pass through.
#[derive(Debug)]
pub struct VolumeSink<S> {
    child: S,
    handle: VolumeHandle,
    ramps: HashMap<Ssrc, GainRamp>,
    frame: Box<[i16; FRAME_LEN]>,
    closed: bool,
}

impl<S: Sink> VolumeSink<S> {
    /// Applies `volume` (1.0 unchanged) to what `child` receives.
    pub fn new(child: S, volume: f32) -> Self {
        Self {
            child,
            handle: VolumeHandle::new(volume),
            ramps: HashMap::new(),
            frame: Box::new([0; FRAME_LEN]),
            closed: false,
        }
    }

    /// The shared volume control.
    pub fn handle(&self) -> VolumeHandle {
        self.handle.clone()
    }
}

impl<S: Sink> Sink for VolumeSink<S> {
    fn name(&self) -> &'static str {
        "volume"
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("volume"));
        }
        let Some(pcm) = packet.pcm.as_ref().filter(|_| packet.codec == Codec::Pcm) else {
            return forward(&mut self.child, packet);
        };
        let target = self.handle.get();
        let ramp = self.ramps.entry(packet.ssrc).or_insert_with(|| GainRamp::new(target));
        if target.to_bits() == 1.0f32.to_bits() && ramp.current().to_bits() == target.to_bits() {
            return forward(&mut self.child, packet);
        }
        let scaled: Arc<[i16]> = if pcm.len() == FRAME_LEN {
            self.frame.copy_from_slice(pcm);
            ramp.apply(&mut self.frame, target);
            Arc::from(&self.frame[..])
        } else {
            *ramp = GainRamp::new(target);
            pcm.iter().map(|&s| soft_clip((f32::from(s) * target) as i32)).collect()
        };
        forward(&mut self.child, &MediaPacket { pcm: Some(scaled), ..packet.clone() })
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
