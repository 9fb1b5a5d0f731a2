//! Discord's UDP control packets: IP discovery (protocol.md 4.2), keepalives and the native UDP
//! ping (protocol.md 4.3).

use crate::{Error, Ssrc};

/// Size of an IP-discovery request or response.
pub const IP_DISCOVERY_LEN: usize = 74;
/// The IP-discovery "length" field: bytes after the length field.
pub const IP_DISCOVERY_BODY_LEN: u16 = 70;
/// Size of the NUL-padded address field.
pub const IP_DISCOVERY_ADDRESS_LEN: usize = 64;
/// Type of an IP-discovery request.
pub const IP_DISCOVERY_REQUEST: u16 = 1;
/// Type of an IP-discovery response.
pub const IP_DISCOVERY_RESPONSE: u16 = 2;
/// First word of a native UDP ping request.
pub const PING_REQUEST_MAGIC: u32 = 0x1337_CAFE;
/// First word of a native UDP ping response.
pub const PING_RESPONSE_MAGIC: u32 = 0x1337_F00D;
/// Size of a UDP ping request or response.
pub const PING_LEN: usize = 8;

/// An IP-discovery packet (request or response), as a parsed value borrowing its address.
///
/// ```
/// use voxwire_rtp::discord::IpDiscovery;
/// use voxwire_rtp::Ssrc;
/// let reply = IpDiscovery::response(Ssrc(7), "203.0.113.9", 50_004);
/// let mut buf = [0u8; 74];
/// reply.write_into(&mut buf)?;
/// let parsed = IpDiscovery::parse(&buf)?;
/// assert_eq!(parsed, reply);
/// assert_eq!(parsed.address, "203.0.113.9");
/// assert_eq!(IpDiscovery::request(Ssrc(7)).to_bytes()?[..4], [0, 1, 0, 70]);
/// # Ok::<(), voxwire_rtp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpDiscovery<'a> {
    /// [`IP_DISCOVERY_REQUEST`] or [`IP_DISCOVERY_RESPONSE`].
    pub kind: u16,
    /// The sender's SSRC from Ready.
    pub ssrc: Ssrc,
    /// The external address as ASCII (empty in a request).
    pub address: &'a str,
    /// The external UDP port (0 in a request).
    pub port: u16,
}

impl<'a> IpDiscovery<'a> {
    /// A request: type 1, the SSRC, address and port zero.
    pub const fn request(ssrc: Ssrc) -> Self {
        Self { kind: IP_DISCOVERY_REQUEST, ssrc, address: "", port: 0 }
    }

    /// A response: type 2, with the address and port the server saw.
    pub const fn response(ssrc: Ssrc, address: &'a str, port: u16) -> Self {
        Self { kind: IP_DISCOVERY_RESPONSE, ssrc, address, port }
    }

    /// Whether this is a request (type 1).
    pub const fn is_request(&self) -> bool {
        self.kind == IP_DISCOVERY_REQUEST
    }

    /// Parses a 74-byte request or response. The address must be ASCII up to the first NUL
    /// (and may fill all 64 bytes without one).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let bytes: &[u8; IP_DISCOVERY_LEN] = data.try_into().map_err(|_| Error::Truncated {
            what: "IP discovery packet",
            expected: IP_DISCOVERY_LEN,
            actual: data.len(),
        })?;
        let kind = u16::from_be_bytes([bytes[0], bytes[1]]);
        if kind != IP_DISCOVERY_REQUEST && kind != IP_DISCOVERY_RESPONSE {
            return Err(Error::Malformed {
                what: "IP discovery packet",
                field: "type",
                expected: u32::from(IP_DISCOVERY_RESPONSE),
                actual: u32::from(kind),
            });
        }
        let length = u16::from_be_bytes([bytes[2], bytes[3]]);
        if length != IP_DISCOVERY_BODY_LEN {
            return Err(Error::Malformed {
                what: "IP discovery packet",
                field: "length",
                expected: u32::from(IP_DISCOVERY_BODY_LEN),
                actual: u32::from(length),
            });
        }
        let ssrc = Ssrc(u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]));
        let field = bytes.get(8..8 + IP_DISCOVERY_ADDRESS_LEN).unwrap_or_default();
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        let (addr, rest) = field.split_at(end);
        if rest.iter().any(|&b| b != 0) {
            return Err(Error::BadAddress { reason: "non-zero bytes after the terminating NUL" });
        }
        if !addr.is_ascii() {
            return Err(Error::BadAddress { reason: "not ASCII" });
        }
        let address =
            core::str::from_utf8(addr).map_err(|_| Error::BadAddress { reason: "not ASCII" })?;
        let port = u16::from_be_bytes([bytes[72], bytes[73]]);
        Ok(Self { kind, ssrc, address, port })
    }

    /// Writes the 74 bytes into the front of `out`.
    pub fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let available = out.len();
        let out: &mut [u8; IP_DISCOVERY_LEN] = out
            .get_mut(..IP_DISCOVERY_LEN)
            .and_then(|o| o.try_into().ok())
            .ok_or(Error::BufferTooSmall { needed: IP_DISCOVERY_LEN, available })?;
        let addr = self.address.as_bytes();
        if !addr.is_ascii() || addr.contains(&0) {
            return Err(Error::BadAddress { reason: "not ASCII without NUL" });
        }
        if addr.len() > IP_DISCOVERY_ADDRESS_LEN {
            return Err(Error::BadAddress { reason: "longer than 64 bytes" });
        }
        out.fill(0);
        out[0..2].copy_from_slice(&self.kind.to_be_bytes());
        out[2..4].copy_from_slice(&IP_DISCOVERY_BODY_LEN.to_be_bytes());
        out[4..8].copy_from_slice(&self.ssrc.get().to_be_bytes());
        out[8..8 + addr.len()].copy_from_slice(addr);
        out[72..74].copy_from_slice(&self.port.to_be_bytes());
        Ok(IP_DISCOVERY_LEN)
    }

    /// The 74 bytes as an array.
    pub fn to_bytes(&self) -> Result<[u8; IP_DISCOVERY_LEN], Error> {
        let mut out = [0; IP_DISCOVERY_LEN];
        self.write_into(&mut out)?;
        Ok(out)
    }
}

/// Discord's native UDP ping (protocol.md 4.3): a request carries `0x1337CAFE` and a
/// little-endian sequence number; the response echoes the sequence after `0x1337F00D`.
///
/// ```
/// use voxwire_rtp::discord::UdpPing;
/// let req = UdpPing::Request(5).to_bytes();
/// assert_eq!(req, [0x13, 0x37, 0xCA, 0xFE, 5, 0, 0, 0]);
/// assert_eq!(UdpPing::parse(&req)?, UdpPing::Request(5));
/// assert_eq!(UdpPing::Request(5).response(), UdpPing::Response(5));
/// # Ok::<(), voxwire_rtp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UdpPing {
    /// `0x1337CAFE || seq (LE)`.
    Request(u32),
    /// `0x1337F00D || seq (LE)`.
    Response(u32),
}

impl UdpPing {
    /// Parses a ping request or response. Exactly 8 bytes.
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let b: &[u8; PING_LEN] = data.try_into().map_err(|_| Error::Truncated {
            what: "UDP ping",
            expected: PING_LEN,
            actual: data.len(),
        })?;
        let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let seq = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        match magic {
            PING_REQUEST_MAGIC => Ok(Self::Request(seq)),
            PING_RESPONSE_MAGIC => Ok(Self::Response(seq)),
            _ => Err(Error::Malformed {
                what: "UDP ping",
                field: "magic",
                expected: PING_REQUEST_MAGIC,
                actual: magic,
            }),
        }
    }

    /// The 8 bytes.
    pub const fn to_bytes(self) -> [u8; PING_LEN] {
        let (magic, seq) = match self {
            Self::Request(s) => (PING_REQUEST_MAGIC, s),
            Self::Response(s) => (PING_RESPONSE_MAGIC, s),
        };
        let m = magic.to_be_bytes();
        let s = seq.to_le_bytes();
        [m[0], m[1], m[2], m[3], s[0], s[1], s[2], s[3]]
    }

    /// The response a server sends to this ping (a response maps to itself).
    #[must_use]
    pub const fn response(self) -> Self {
        match self {
            Self::Request(s) | Self::Response(s) => Self::Response(s),
        }
    }
}

/// The discord.js keepalive (protocol.md 4.3): a little-endian u32 counter, then 4 zero bytes.
pub const fn keepalive_djs(counter: u32) -> [u8; 8] {
    let c = counter.to_le_bytes();
    [c[0], c[1], c[2], c[3], 0, 0, 0, 0]
}

/// The songbird keepalive (protocol.md 4.3): the sender's SSRC, big-endian.
pub const fn keepalive_ssrc(ssrc: Ssrc) -> [u8; 4] {
    ssrc.get().to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_rejects_wrong_sizes_and_fields() {
        let mut buf = IpDiscovery::response(Ssrc(1), "1.2.3.4", 9).to_bytes().unwrap();
        assert!(matches!(IpDiscovery::parse(&buf[..73]), Err(Error::Truncated { .. })));
        buf[3] = 71;
        assert!(matches!(IpDiscovery::parse(&buf), Err(Error::Malformed { field: "length", .. })));
        buf[3] = 70;
        buf[1] = 3;
        assert!(matches!(IpDiscovery::parse(&buf), Err(Error::Malformed { field: "type", .. })));
        buf[1] = 2;
        buf[20] = b'x';
        assert!(matches!(IpDiscovery::parse(&buf), Err(Error::BadAddress { .. })));
    }

    #[test]
    fn discovery_layout() {
        let b = IpDiscovery::response(Ssrc(0x0102_0304), "10.0.0.1", 0xC350).to_bytes().unwrap();
        assert_eq!(&b[..8], &[0, 2, 0, 70, 1, 2, 3, 4]);
        assert_eq!(&b[8..16], b"10.0.0.1");
        assert!(b[16..72].iter().all(|&x| x == 0));
        assert_eq!(&b[72..], &[0xC3, 0x50]);
        let long = "1".repeat(65);
        assert!(IpDiscovery::response(Ssrc(1), &long, 1).to_bytes().is_err());
        let full = "1".repeat(64);
        let b = IpDiscovery::response(Ssrc(1), &full, 1).to_bytes().unwrap();
        assert_eq!(IpDiscovery::parse(&b).unwrap().address, full);
    }

    #[test]
    fn keepalives() {
        assert_eq!(keepalive_djs(0x0102_0304), [4, 3, 2, 1, 0, 0, 0, 0]);
        assert_eq!(keepalive_ssrc(Ssrc(0x0102_0304)), [1, 2, 3, 4]);
        assert!(UdpPing::parse(&[0; 8]).is_err());
        assert_eq!(UdpPing::parse(&UdpPing::Response(9).to_bytes()).unwrap(), UdpPing::Response(9));
    }
}
