//! Building RTP packets into caller-owned buffers.

use crate::ext::{self, ExtensionElement, ExtensionForm};
use crate::packet::{EXTENSION_PREAMBLE_LEN, FIXED_HEADER_LEN};
use crate::{Error, PayloadType, RtpTimestamp, SeqNo, Ssrc};

/// Describes an RTP packet to write. Nothing is allocated: the builder borrows the CSRCs,
/// extension elements and payload, [`RtpPacketBuilder::calculate_size`] tells the exact size in
/// advance, and [`RtpPacketBuilder::write_into`] writes into a buffer the caller owns.
///
/// ```
/// use voxwire_rtp::ext::ExtensionElement;
/// use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};
/// let ext = [ExtensionElement::new(1, &[0x80 | 30]), ExtensionElement::new(10, b"audio")];
/// let b = RtpPacketBuilder::new(PayloadType::DISCORD_OPUS, SeqNo(7), RtpTimestamp(960), Ssrc(42))
///     .extensions(&ext)
///     .payload(&[0xF8, 0xFF, 0xFE]);
/// let mut buf = [0u8; 1460];
/// let n = b.write_into(&mut buf)?;
/// assert_eq!(n, b.calculate_size()?);
/// let p = RtpPacket::parse(&buf[..n])?;
/// assert_eq!(p.extension_by_id(10), Some(&b"audio"[..]));
/// assert_eq!(p.payload(), &[0xF8, 0xFF, 0xFE]);
/// # Ok::<(), voxwire_rtp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct RtpPacketBuilder<'a> {
    marker: bool,
    payload_type: PayloadType,
    sequence_number: SeqNo,
    timestamp: RtpTimestamp,
    ssrc: Ssrc,
    csrcs: &'a [Ssrc],
    extensions: &'a [ExtensionElement<'a>],
    extension_form: Option<ExtensionForm>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpPacketBuilder<'a> {
    /// A packet with no marker, CSRCs, extensions, payload or padding.
    pub const fn new(
        payload_type: PayloadType,
        sequence_number: SeqNo,
        timestamp: RtpTimestamp,
        ssrc: Ssrc,
    ) -> Self {
        Self {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrcs: &[],
            extensions: &[],
            extension_form: None,
            payload: &[],
            padding: 0,
        }
    }

    /// Sets the M bit.
    pub const fn marker(mut self, marker: bool) -> Self {
        self.marker = marker;
        self
    }

    /// Sets the contributing sources (at most 15).
    pub const fn csrcs(mut self, csrcs: &'a [Ssrc]) -> Self {
        self.csrcs = csrcs;
        self
    }

    /// Sets the RFC 8285 header-extension elements. With an empty slice no extension (X=0) is
    /// written. The form is the one-byte form when every element fits it, otherwise two-byte,
    /// unless [`Self::extension_form`] forces one.
    pub const fn extensions(mut self, elements: &'a [ExtensionElement<'a>]) -> Self {
        self.extensions = elements;
        self
    }

    /// Forces the extension element form.
    pub const fn extension_form(mut self, form: ExtensionForm) -> Self {
        self.extension_form = Some(form);
        self
    }

    /// Sets the payload.
    pub const fn payload(mut self, payload: &'a [u8]) -> Self {
        self.payload = payload;
        self
    }

    /// Appends `n` bytes of padding (P=1, the last byte holds `n`); 0 means no padding.
    pub const fn padding(mut self, n: u8) -> Self {
        self.padding = n;
        self
    }

    fn form(&self) -> Result<Option<ExtensionForm>, Error> {
        if self.extensions.is_empty() {
            return Ok(None);
        }
        match self.extension_form {
            Some(f) => Ok(Some(f)),
            None => ExtensionForm::for_elements(self.extensions).map(Some),
        }
    }

    /// The extension body length (elements padded to 32 bits), 0 without extensions.
    fn extension_body_len(&self, form: Option<ExtensionForm>) -> Result<usize, Error> {
        let Some(form) = form else { return Ok(0) };
        let len = ext::padded_elements_len(form, self.extensions);
        if len / 4 > usize::from(u16::MAX) {
            return Err(Error::FieldOverflow {
                what: "extension length in words",
                value: len / 4,
                max: usize::from(u16::MAX),
            });
        }
        Ok(len)
    }

    /// The header length: fixed part, CSRCs and the extension block.
    pub fn header_len(&self) -> Result<usize, Error> {
        if self.csrcs.len() > 15 {
            return Err(Error::TooManyCsrcs { count: self.csrcs.len() });
        }
        let form = self.form()?;
        let ext = match form {
            Some(_) => EXTENSION_PREAMBLE_LEN + self.extension_body_len(form)?,
            None => 0,
        };
        Ok(FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext)
    }

    /// The exact number of bytes [`Self::write_into`] writes.
    pub fn calculate_size(&self) -> Result<usize, Error> {
        Ok(self.header_len()? + self.payload.len() + usize::from(self.padding))
    }

    /// Writes the header only (fixed part, CSRCs, extension block) and returns its length, for
    /// callers that produce the payload in place after it. The P bit is set as configured; the
    /// caller then writes the payload and any padding.
    pub fn write_header_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let header_len = self.header_len()?;
        let available = out.len();
        let out = out
            .get_mut(..header_len)
            .ok_or(Error::BufferTooSmall { needed: header_len, available })?;
        let (fixed, rest) = out.split_at_mut(FIXED_HEADER_LEN);
        let form = self.form()?;
        fixed[0] = 0x80
            | if self.padding > 0 { 0x20 } else { 0 }
            | if form.is_some() { 0x10 } else { 0 }
            | self.csrcs.len() as u8;
        fixed[1] = u8::from(self.marker) << 7 | self.payload_type.get();
        fixed[2..4].copy_from_slice(&self.sequence_number.get().to_be_bytes());
        fixed[4..8].copy_from_slice(&self.timestamp.get().to_be_bytes());
        fixed[8..12].copy_from_slice(&self.ssrc.get().to_be_bytes());
        let (csrc_out, rest) = rest.split_at_mut(4 * self.csrcs.len());
        for (dst, c) in csrc_out.chunks_exact_mut(4).zip(self.csrcs) {
            dst.copy_from_slice(&c.get().to_be_bytes());
        }
        if let Some(form) = form {
            let (pre, body) = rest.split_at_mut(EXTENSION_PREAMBLE_LEN);
            let words = (body.len() / 4) as u16;
            pre[..2].copy_from_slice(&form.profile().to_be_bytes());
            pre[2..].copy_from_slice(&words.to_be_bytes());
            ext::write_elements(form, self.extensions, body)?;
        }
        Ok(header_len)
    }

    /// Writes the whole packet into the front of `out`; returns the bytes written.
    pub fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let total = self.calculate_size()?;
        let available = out.len();
        let out = out.get_mut(..total).ok_or(Error::BufferTooSmall { needed: total, available })?;
        let header_len = self.write_header_into(out)?;
        let (payload_out, pad_out) = out
            .get_mut(header_len..)
            .ok_or(Error::BufferTooSmall { needed: total, available })?
            .split_at_mut(self.payload.len());
        payload_out.copy_from_slice(self.payload);
        if let Some((last, zeros)) = pad_out.split_last_mut() {
            zeros.fill(0);
            *last = self.padding;
        }
        Ok(total)
    }
}
