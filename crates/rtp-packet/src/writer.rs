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
    #[inline]
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
    #[inline]
    pub const fn marker(mut self, marker: bool) -> Self {
        self.marker = marker;
        self
    }

    /// Sets the contributing sources (at most 15).
    #[inline]
    pub const fn csrcs(mut self, csrcs: &'a [Ssrc]) -> Self {
        self.csrcs = csrcs;
        self
    }

    /// Sets the RFC 8285 header-extension elements. With an empty slice no extension (X=0) is
    /// written. The form is the one-byte form when every element fits it, otherwise two-byte,
    /// unless [`Self::extension_form`] forces one.
    #[inline]
    pub const fn extensions(mut self, elements: &'a [ExtensionElement<'a>]) -> Self {
        self.extensions = elements;
        self
    }

    /// Forces the extension element form.
    #[inline]
    pub const fn extension_form(mut self, form: ExtensionForm) -> Self {
        self.extension_form = Some(form);
        self
    }

    /// Sets the payload.
    #[inline]
    pub const fn payload(mut self, payload: &'a [u8]) -> Self {
        self.payload = payload;
        self
    }

    /// Appends `n` bytes of padding (P=1, the last byte holds `n`); 0 means no padding.
    #[inline]
    pub const fn padding(mut self, n: u8) -> Self {
        self.padding = n;
        self
    }

    /// Checks the description once and works out the extension form and the header length.
    #[inline]
    fn layout(&self) -> Result<Layout, Error> {
        if self.csrcs.len() > 15 {
            return Err(Error::TooManyCsrcs { count: self.csrcs.len() });
        }
        let (form, ext_body) = if self.extensions.is_empty() {
            (None, 0)
        } else {
            let form = match self.extension_form {
                Some(f) => {
                    if let Some(e) =
                        self.extensions.iter().find(|e| !f.can_encode(e.id, e.data.len()))
                    {
                        return Err(Error::ExtensionNotEncodable {
                            id: e.id,
                            len: e.data.len(),
                            form: f.name(),
                        });
                    }
                    f
                }
                None => ExtensionForm::for_elements(self.extensions)?,
            };
            let len = ext::padded_elements_len(form, self.extensions);
            if len / 4 > usize::from(u16::MAX) {
                return Err(Error::FieldOverflow {
                    what: "extension length in words",
                    value: len / 4,
                    max: usize::from(u16::MAX),
                });
            }
            (Some(form), len)
        };
        let ext_block = if form.is_some() { EXTENSION_PREAMBLE_LEN + ext_body } else { 0 };
        Ok(Layout {
            form,
            ext_body,
            header_len: FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext_block,
        })
    }

    /// The header length: fixed part, CSRCs and the extension block.
    #[inline]
    pub fn header_len(&self) -> Result<usize, Error> {
        Ok(self.layout()?.header_len)
    }

    /// The exact number of bytes [`Self::write_into`] writes.
    #[inline]
    pub fn calculate_size(&self) -> Result<usize, Error> {
        Ok(self.header_len()? + self.payload.len() + usize::from(self.padding))
    }

    /// Writes the header only (fixed part, CSRCs, extension block) and returns its length, for
    /// callers that produce the payload in place after it. The P bit is set as configured; the
    /// caller then writes the payload and any padding.
    #[inline]
    pub fn write_header_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let layout = self.layout()?;
        let available = out.len();
        let out = out
            .get_mut(..layout.header_len)
            .ok_or(Error::BufferTooSmall { needed: layout.header_len, available })?;
        self.write_header(&layout, out);
        Ok(layout.header_len)
    }

    /// Writes the header described by a checked `layout` into `out`, which is exactly
    /// `layout.header_len` long.
    #[inline]
    fn write_header(&self, layout: &Layout, out: &mut [u8]) {
        let Some((fixed, rest)) = out.split_first_chunk_mut::<FIXED_HEADER_LEN>() else { return };
        let seq = self.sequence_number.get().to_be_bytes();
        let ts = self.timestamp.get().to_be_bytes();
        let ssrc = self.ssrc.get().to_be_bytes();
        *fixed = [
            0x80 | if self.padding > 0 { 0x20 } else { 0 }
                | if layout.form.is_some() { 0x10 } else { 0 }
                | self.csrcs.len() as u8,
            u8::from(self.marker) << 7 | self.payload_type.get(),
            seq[0],
            seq[1],
            ts[0],
            ts[1],
            ts[2],
            ts[3],
            ssrc[0],
            ssrc[1],
            ssrc[2],
            ssrc[3],
        ];
        let mut rest = rest;
        for c in self.csrcs {
            let Some((dst, tail)) = rest.split_first_chunk_mut::<4>() else { return };
            *dst = c.get().to_be_bytes();
            rest = tail;
        }
        if let Some(form) = layout.form
            && let Some((pre, body)) = rest.split_first_chunk_mut::<EXTENSION_PREAMBLE_LEN>()
        {
            let p = form.profile().to_be_bytes();
            let w = ((layout.ext_body / 4) as u16).to_be_bytes();
            *pre = [p[0], p[1], w[0], w[1]];
            ext::write_elements_unchecked(form, self.extensions, body);
        }
    }

    /// Writes the whole packet into the front of `out`; returns the bytes written.
    #[inline]
    pub fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let layout = self.layout()?;
        let total = layout.header_len + self.payload.len() + usize::from(self.padding);
        let available = out.len();
        let out = out.get_mut(..total).ok_or(Error::BufferTooSmall { needed: total, available })?;
        let (header, rest) = out.split_at_mut(layout.header_len);
        self.write_header(&layout, header);
        let (payload_out, pad_out) = rest.split_at_mut(self.payload.len());
        payload_out.copy_from_slice(self.payload);
        if let Some((last, zeros)) = pad_out.split_last_mut() {
            zeros.fill(0);
            *last = self.padding;
        }
        Ok(total)
    }
}

/// What [`RtpPacketBuilder::layout`] works out once per packet.
#[derive(Clone, Copy, Debug)]
struct Layout {
    form: Option<ExtensionForm>,
    ext_body: usize,
    header_len: usize,
}
