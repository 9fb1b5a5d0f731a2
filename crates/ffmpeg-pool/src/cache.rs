//! The transcode-once cache: one encode per (input, settings), shared by every reader,
//! evicted least-recently-used by bytes, optionally spilled to disk.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::ogg::{OpusPacket, packet_samples};
use crate::pool::JobShared;

pub(crate) struct Entry {
    pub(crate) buf: Arc<Buffer<OpusPacket>>,
    pub(crate) encoder: Option<Arc<JobShared>>,
    last_used: u64,
}

pub(crate) struct Cache {
    budget: usize,
    spill_dir: Option<PathBuf>,
    entries: HashMap<String, Entry>,
    spilled: HashMap<String, PathBuf>,
    tick: u64,
}

impl Cache {
    pub(crate) fn new(budget: usize, spill_dir: Option<PathBuf>) -> Self {
        Self { budget, spill_dir, entries: HashMap::new(), spilled: HashMap::new(), tick: 0 }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.entries.values().map(|e| e.buf.weight()).sum()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// A live entry for `key` (marking it used), dropping it first if its encode failed.
    pub(crate) fn get(&mut self, key: &str) -> Option<&Entry> {
        if self.entries.get(key).is_some_and(|e| e.buf.is_failed()) {
            self.entries.remove(key);
        }
        self.tick += 1;
        let tick = self.tick;
        let e = self.entries.get_mut(key)?;
        e.last_used = tick;
        Some(e)
    }

    /// A spilled track read back from disk, now a live entry again.
    pub(crate) fn unspill(&mut self, key: &str) -> Option<Arc<Buffer<OpusPacket>>> {
        let path = self.spilled.get(key)?.clone();
        let loaded =
            std::fs::read(&path).map_err(|source| Error::Io { what: "reading spill file", source });
        let packets = loaded.and_then(|data| decode_spill(&Bytes::from(data)));
        let Ok(packets) = packets else {
            self.spilled.remove(key);
            return None;
        };
        let buf = Buffer::new(true, 0);
        for p in packets {
            buf.push(p, &|| false);
        }
        buf.finish(Ok(()));
        self.insert(key.to_owned(), Arc::clone(&buf), None);
        Some(buf)
    }

    pub(crate) fn insert(
        &mut self,
        key: String,
        buf: Arc<Buffer<OpusPacket>>,
        encoder: Option<Arc<JobShared>>,
    ) {
        self.tick += 1;
        self.entries.insert(key, Entry { buf, encoder, last_used: self.tick });
        self.evict();
    }

    /// Evicts finished, unused tracks, least recently used first, until under budget.
    pub(crate) fn evict(&mut self) {
        let mut total = self.bytes();
        while total > self.budget {
            let victim = self
                .entries
                .iter()
                .filter(|(_, e)| e.buf.is_done() && Arc::strong_count(&e.buf) == 1)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            let Some(key) = victim else { break };
            let Some(entry) = self.entries.remove(&key) else { break };
            total = total.saturating_sub(entry.buf.weight());
            if let Some(dir) = &self.spill_dir
                && !entry.buf.is_failed()
            {
                match spill(dir, &key, &entry.buf.snapshot()) {
                    Ok(path) => {
                        self.spilled.insert(key, path);
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot spill an evicted track"),
                }
            }
        }
    }
}

/// Spill file: per packet, `u32` length (LE) then the packet.
fn spill(dir: &std::path::Path, key: &str, packets: &[OpusPacket]) -> Result<PathBuf> {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    let path = dir.join(format!("{:016x}.opuspk", h.finish()));
    let io = |source| Error::Io { what: "writing spill file", source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
    for p in packets {
        let len = u32::try_from(p.data.len()).unwrap_or(u32::MAX);
        f.write_all(&len.to_le_bytes()).map_err(io)?;
        f.write_all(&p.data).map_err(io)?;
    }
    f.flush().map_err(io)?;
    Ok(path)
}

/// Reads a spill file back; packets are slices of the one buffer.
pub(crate) fn decode_spill(data: &Bytes) -> Result<Vec<OpusPacket>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let len_bytes = data
            .get(at..at + 4)
            .ok_or(Error::Truncated { expected: at + 4, actual: data.len() })?;
        let len =
            u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        let end = at + 4 + len;
        if end > data.len() {
            return Err(Error::Truncated { expected: end, actual: data.len() });
        }
        let packet = data.slice(at + 4..end);
        let samples = packet_samples(&packet)?;
        out.push(OpusPacket { data: packet, samples });
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_round_trip() {
        let dir = std::env::temp_dir().join(format!("voxwire-spill-{}", std::process::id()));
        let packets: Vec<OpusPacket> = (0..5u8)
            .map(|i| OpusPacket { data: Bytes::from(vec![0xfc, i, i]), samples: 960 })
            .collect();
        let path = spill(&dir, "k", &packets).unwrap();
        let back = decode_spill(&Bytes::from(std::fs::read(&path).unwrap())).unwrap();
        assert_eq!(back, packets);
        assert!(decode_spill(&Bytes::from_static(&[9, 0, 0, 0, 0xfc])).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn evicts_least_recently_used_finished_tracks() {
        let mut c = Cache::new(1000, None);
        for k in ["a", "b", "c"] {
            let buf = Buffer::new(true, 0);
            buf.push(OpusPacket { data: Bytes::from(vec![0xfc; 400]), samples: 960 }, &|| false);
            buf.finish(Ok(()));
            c.insert(k.into(), buf, None);
            if k == "b" {
                assert!(c.get("a").is_some()); // a is now more recent than b
            }
        }
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some() && c.get("c").is_some());
        assert!(c.bytes() <= 1000);
    }
}
