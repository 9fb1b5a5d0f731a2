//! RTX (RFC 4588): the retransmission payload format, and the sender's history of recent packets.

use std::time::{Duration, Instant};

use voxwire_rtp::{RtpTimestamp, SeqNo};

use crate::Error;

/// Length of the original sequence number (OSN) that starts an RTX payload.
pub const OSN_LEN: usize = 2;

/// Splits an RTX payload into the original sequence number and the original payload.
pub fn parse_rtx_payload(payload: &[u8]) -> Result<(SeqNo, &[u8]), Error> {
    match payload {
        [hi, lo, rest @ ..] => Ok((SeqNo(u16::from_be_bytes([*hi, *lo])), rest)),
        _ => {
            Err(Error::Truncated { what: "RTX payload", expected: OSN_LEN, actual: payload.len() })
        }
    }
}

/// Size of the RTX payload for an original payload of `len` bytes.
pub const fn rtx_payload_len(len: usize) -> usize {
    len + OSN_LEN
}

/// Writes `OSN || payload` into `out`; returns the bytes written.
pub fn write_rtx_payload(osn: SeqNo, payload: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let need = rtx_payload_len(payload.len());
    let Some(dst) = out.get_mut(..need) else {
        return Err(Error::BufferTooSmall { expected: need, actual: out.len() });
    };
    let (osn_bytes, body) = dst.split_at_mut(OSN_LEN);
    osn_bytes.copy_from_slice(&osn.0.to_be_bytes());
    body.copy_from_slice(payload);
    Ok(need)
}

/// A packet as the sender records it for retransmission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryPacket<'a> {
    /// Original sequence number.
    pub seq: SeqNo,
    /// RTP timestamp (copied into the RTX packet).
    pub timestamp: RtpTimestamp,
    /// Marker bit (copied into the RTX packet).
    pub marker: bool,
    /// The original payload (already DAVE-encrypted: RTX resends the same bytes).
    pub payload: &'a [u8],
}

#[derive(Clone, Debug)]
struct HistorySlot {
    valid: bool,
    seq: SeqNo,
    timestamp: RtpTimestamp,
    marker: bool,
    sent: Option<Instant>,
    resent: Option<Instant>,
    payload: Vec<u8>,
}

/// Counters of an [`RtxHistory`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtxStats {
    /// Packets recorded.
    pub stored: u64,
    /// Packets served for retransmission.
    pub served: u64,
    /// Requests for packets no longer (or never) in the history.
    pub missing: u64,
    /// Requests refused because the packet was resent too recently.
    pub throttled: u64,
}

/// The sender's bounded history of recent packets, indexed by sequence number, served on NACK.
///
/// A ring of `capacity` slots (a power of two) with reusable payload buffers: recording a
/// packet overwrites the one `capacity` sequence numbers before it and allocates nothing once
/// every slot has held a packet. Memory is bounded by `capacity * max_payload`.
#[derive(Clone, Debug)]
pub struct RtxHistory {
    slots: Box<[HistorySlot]>,
    max_payload: usize,
    min_resend_interval: Duration,
    stats: RtxStats,
}

impl RtxHistory {
    /// A history of `capacity` packets (rounded up to a power of two, at least 16) of at most
    /// `max_payload` bytes each; a packet is resent at most once per `min_resend_interval`
    /// (repeated NACKs for one packet within an RTT should not multiply the traffic).
    pub fn new(capacity: usize, max_payload: usize, min_resend_interval: Duration) -> Self {
        let cap = capacity.clamp(16, 1 << 16).next_power_of_two();
        let slots = (0..cap)
            .map(|_| HistorySlot {
                valid: false,
                seq: SeqNo(0),
                timestamp: RtpTimestamp(0),
                marker: false,
                sent: None,
                resent: None,
                payload: Vec::new(),
            })
            .collect();
        Self { slots, max_payload, min_resend_interval, stats: RtxStats::default() }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Counters.
    pub fn stats(&self) -> RtxStats {
        self.stats
    }

    fn index(&self, seq: SeqNo) -> usize {
        usize::from(seq.0) & (self.slots.len() - 1)
    }

    /// Records a packet sent at `now`. Payloads longer than `max_payload` are not recorded.
    pub fn insert(&mut self, pkt: &HistoryPacket<'_>, now: Instant) {
        if pkt.payload.len() > self.max_payload {
            return;
        }
        let i = self.index(pkt.seq);
        let slot = &mut self.slots[i];
        slot.valid = true;
        slot.seq = pkt.seq;
        slot.timestamp = pkt.timestamp;
        slot.marker = pkt.marker;
        slot.sent = Some(now);
        slot.resent = None;
        crate::fill(&mut slot.payload, pkt.payload);
        self.stats.stored += 1;
    }

    /// The packet with this sequence number, if still held.
    pub fn get(&self, seq: SeqNo) -> Option<HistoryPacket<'_>> {
        let slot = &self.slots[self.index(seq)];
        (slot.valid && slot.seq == seq).then(|| HistoryPacket {
            seq,
            timestamp: slot.timestamp,
            marker: slot.marker,
            payload: &slot.payload,
        })
    }

    /// Serves a `NACK`ed packet for retransmission at `now`: `None` when it is gone, or was resent
    /// less than the minimum resend interval ago.
    pub fn resend(&mut self, seq: SeqNo, now: Instant) -> Option<HistoryPacket<'_>> {
        let i = self.index(seq);
        let interval = self.min_resend_interval;
        let slot = &mut self.slots[i];
        if !(slot.valid && slot.seq == seq) {
            self.stats.missing += 1;
            return None;
        }
        if slot.resent.is_some_and(|t| now.saturating_duration_since(t) < interval) {
            self.stats.throttled += 1;
            return None;
        }
        slot.resent = Some(now);
        self.stats.served += 1;
        let slot = &self.slots[i];
        Some(HistoryPacket {
            seq,
            timestamp: slot.timestamp,
            marker: slot.marker,
            payload: &slot.payload,
        })
    }

    /// Bytes of payload storage allocated (bounded by `capacity * max_payload`).
    pub fn payload_bytes_allocated(&self) -> usize {
        self.slots.iter().map(|s| s.payload.capacity()).sum()
    }
}

#[cfg(test)]
#[expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]
mod tests {
    use super::*;

    #[test]
    fn rtx_payload_round_trip() {
        let mut buf = [0u8; 8];
        let n = write_rtx_payload(SeqNo(0xABCD), b"hello", &mut buf).unwrap();
        assert_eq!(n, 7);
        assert_eq!(&buf[..2], &[0xAB, 0xCD]);
        assert_eq!(parse_rtx_payload(&buf[..n]).unwrap(), (SeqNo(0xABCD), &b"hello"[..]));
        assert!(matches!(
            parse_rtx_payload(&[1]),
            Err(Error::Truncated { expected: 2, actual: 1, .. })
        ));
        assert!(matches!(
            write_rtx_payload(SeqNo(1), b"hello", &mut buf[..6]),
            Err(Error::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn history_serves_recent_packets_and_forgets_old_ones() {
        let t = Instant::now();
        let mut h = RtxHistory::new(16, 100, Duration::from_millis(20));
        for s in 65_530u16..=65_535 {
            h.insert(
                &HistoryPacket {
                    seq: SeqNo(s),
                    timestamp: RtpTimestamp(u32::from(s)),
                    marker: false,
                    payload: &[1, 2],
                },
                t,
            );
        }
        for s in 0u16..20 {
            h.insert(
                &HistoryPacket {
                    seq: SeqNo(s),
                    timestamp: RtpTimestamp(u32::from(s)),
                    marker: s == 19,
                    payload: &[3],
                },
                t,
            );
        }
        assert!(h.get(SeqNo(65_535)).is_none()); // overwritten by 15
        assert_eq!(h.get(SeqNo(19)).unwrap().payload, &[3]);
        assert!(h.get(SeqNo(19)).unwrap().marker);
        assert!(h.resend(SeqNo(10), t).is_some());
        assert!(h.resend(SeqNo(10), t + Duration::from_millis(5)).is_none());
        assert!(h.resend(SeqNo(10), t + Duration::from_millis(25)).is_some());
        assert!(h.resend(SeqNo(2), t).is_none());
        assert_eq!(h.stats(), RtxStats { stored: 26, served: 2, missing: 1, throttled: 1 });
        h.insert(
            &HistoryPacket {
                seq: SeqNo(20),
                timestamp: RtpTimestamp(0),
                marker: false,
                payload: &[0; 101],
            },
            t,
        );
        assert!(h.get(SeqNo(20)).is_none());
        assert!(h.payload_bytes_allocated() <= 16 * 100);
    }
}
