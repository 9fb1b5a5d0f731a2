//! `AudioJitterBuffer` as it was before the hot path moved to integer nanoseconds (commit
//! 7fe3f19), frozen so that `jitter.rs` measures old and new code in the same run on the same
//! machine. Not part of the crate; only the audio push/poll path is used.

mod audio;
mod delay;

pub(crate) use audio::{AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout};

fn fill(buf: &mut Vec<u8>, data: &[u8]) {
    buf.clear();
    buf.reserve_exact(data.len());
    buf.extend_from_slice(data);
}
