//! Telling the datagrams on Discord's one UDP socket apart (protocol.md 4.1, RFC 5761 §4).

use crate::discord::{
    IP_DISCOVERY_BODY_LEN, IP_DISCOVERY_LEN, IP_DISCOVERY_REQUEST, IP_DISCOVERY_RESPONSE,
    PING_REQUEST_MAGIC, PING_RESPONSE_MAGIC,
};
use crate::packet::FIXED_HEADER_LEN;

/// What a datagram looks like. The classification reads at most 8 bytes and validates nothing
/// else: parse the datagram with the matching parser afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DatagramKind {
    /// A 74-byte IP-discovery request (type 1, length 70).
    IpDiscoveryRequest,
    /// A 74-byte IP-discovery response (type 2, length 70).
    IpDiscoveryResponse,
    /// A native UDP ping request (`0x1337CAFE`).
    PingRequest,
    /// A native UDP ping response (`0x1337F00D`).
    PingResponse,
    /// RTCP: version 2 and a second byte in `192..=223` (RFC 5761 §4).
    Rtcp,
    /// RTP: version 2, at least 12 bytes, not RTCP.
    Rtp,
    /// A 4- or 8-byte keepalive (songbird's SSRC, discord.js's counter).
    Keepalive,
    /// None of the above.
    Unknown,
}

/// Whether the first two bytes say RTCP under RFC 5761 §4: version 2 and the packet-type byte
/// in `192..=223` (which, read as RTP, is M=1 with payload type `64..=95`, so RTP payload types
/// 64..=95 must not be used on a muxed socket; Discord's are 96..=127 and 0..=63 free).
#[inline]
pub fn is_rtcp(data: &[u8]) -> bool {
    matches!(data, [b0, b1, ..] if b0 >> 6 == 2 && (192..=223).contains(b1))
}

/// Classifies one received datagram in the order protocol.md 4.1 gives.
///
/// ```
/// use voxwire_rtp::demux::{classify, DatagramKind};
/// assert_eq!(classify(&[0x80, 200, 0, 6, 0, 0, 0, 1]), DatagramKind::Rtcp);
/// assert_eq!(classify(&[0x80, 0x78, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), DatagramKind::Rtp);
/// assert_eq!(classify(&[0x13, 0x37, 0xF0, 0x0D, 1, 0, 0, 0]), DatagramKind::PingResponse);
/// ```
pub fn classify(data: &[u8]) -> DatagramKind {
    if data.len() == IP_DISCOVERY_LEN
        && let [t0, t1, l0, l1, ..] = *data
        && u16::from_be_bytes([l0, l1]) == IP_DISCOVERY_BODY_LEN
    {
        match u16::from_be_bytes([t0, t1]) {
            IP_DISCOVERY_REQUEST => return DatagramKind::IpDiscoveryRequest,
            IP_DISCOVERY_RESPONSE => return DatagramKind::IpDiscoveryResponse,
            _ => {}
        }
    }
    if data.len() >= 8
        && let Some(m) = data.first_chunk::<4>()
    {
        match u32::from_be_bytes(*m) {
            PING_REQUEST_MAGIC => return DatagramKind::PingRequest,
            PING_RESPONSE_MAGIC => return DatagramKind::PingResponse,
            _ => {}
        }
    }
    if data.len() >= 8 && is_rtcp(data) {
        return DatagramKind::Rtcp;
    }
    if data.len() >= FIXED_HEADER_LEN && data.first().is_some_and(|b| b >> 6 == 2) {
        return DatagramKind::Rtp;
    }
    if data.len() == 4 || data.len() == 8 {
        return DatagramKind::Keepalive;
    }
    DatagramKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ssrc;
    use crate::discord::{IpDiscovery, UdpPing, keepalive_djs};

    #[test]
    fn classifies_every_kind() {
        let req = IpDiscovery::request(Ssrc(1)).to_bytes().unwrap();
        assert_eq!(classify(&req), DatagramKind::IpDiscoveryRequest);
        let resp = IpDiscovery::response(Ssrc(1), "1.1.1.1", 1).to_bytes().unwrap();
        assert_eq!(classify(&resp), DatagramKind::IpDiscoveryResponse);
        assert_eq!(classify(&UdpPing::Request(1).to_bytes()), DatagramKind::PingRequest);
        assert_eq!(classify(&keepalive_djs(3)), DatagramKind::Keepalive);
        assert_eq!(classify(&[0, 0, 0, 1]), DatagramKind::Keepalive);
        assert_eq!(classify(&[0x81, 201, 0, 1, 0, 0, 0, 1]), DatagramKind::Rtcp);
        assert_eq!(classify(&[0x80, 191, 0, 1, 0, 0, 0, 1]), DatagramKind::Keepalive);
        assert_eq!(classify(&[0x80; 3]), DatagramKind::Unknown);
        assert!(!is_rtcp(&[0x40, 200]));
        assert!(is_rtcp(&[0x80, 223]));
        assert!(!is_rtcp(&[0x80, 224]));
    }
}
