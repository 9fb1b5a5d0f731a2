//! RTP header extensions: the RFC 3550 §5.3.1 block, and RFC 8285 one-byte and two-byte
//! elements (iterate, look up by id, write).

use crate::Error;

/// Profile of the RFC 8285 one-byte form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// Profile of the RFC 8285 two-byte form (the low 4 bits are "appbits", written as 0).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;
/// Mask selecting the fixed part of the two-byte profile.
pub const TWO_BYTE_PROFILE_MASK: u16 = 0xFFF0;

/// Which RFC 8285 element form a block uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// One-byte headers (profile `0xBEDE`): id `1..=14`, `1..=16` data bytes.
    OneByte,
    /// Two-byte headers (profile `0x100X`): id `1..=255`, `0..=255` data bytes.
    TwoByte,
}

impl ExtensionForm {
    /// The form a profile denotes, or `None` for a non-RFC 8285 profile.
    #[inline]
    pub const fn from_profile(profile: u16) -> Option<Self> {
        if profile == ONE_BYTE_PROFILE {
            Some(Self::OneByte)
        } else if profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE {
            Some(Self::TwoByte)
        } else {
            None
        }
    }

    /// The profile written for this form.
    #[inline]
    pub const fn profile(self) -> u16 {
        match self {
            Self::OneByte => ONE_BYTE_PROFILE,
            Self::TwoByte => TWO_BYTE_PROFILE,
        }
    }

    /// Whether an element with `id` and `len` data bytes can be written in this form.
    #[inline]
    pub const fn can_encode(self, id: u8, len: usize) -> bool {
        match self {
            Self::OneByte => id >= 1 && id <= 14 && len >= 1 && len <= 16,
            Self::TwoByte => id >= 1 && len <= 255,
        }
    }

    /// The smallest form that can carry all `elements`: one-byte when possible.
    #[inline]
    pub fn for_elements(elements: &[ExtensionElement<'_>]) -> Result<Self, Error> {
        if elements.iter().all(|e| Self::OneByte.can_encode(e.id, e.data.len())) {
            return Ok(Self::OneByte);
        }
        match elements.iter().find(|e| !Self::TwoByte.can_encode(e.id, e.data.len())) {
            None => Ok(Self::TwoByte),
            Some(e) => {
                Err(Error::ExtensionNotEncodable { id: e.id, len: e.data.len(), form: "two-byte" })
            }
        }
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::OneByte => "one-byte",
            Self::TwoByte => "two-byte",
        }
    }

    const fn element_header_len(self) -> usize {
        match self {
            Self::OneByte => 1,
            Self::TwoByte => 2,
        }
    }
}

/// One RFC 8285 header-extension element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExtensionElement<'a> {
    /// The local identifier (`1..=14` one-byte, `1..=255` two-byte).
    pub id: u8,
    /// The element data.
    pub data: &'a [u8],
}

impl<'a> ExtensionElement<'a> {
    /// An element.
    #[inline]
    pub const fn new(id: u8, data: &'a [u8]) -> Self {
        Self { id, data }
    }
}

/// The raw header-extension block of an RTP packet: profile and body (RFC 3550 §5.3.1).
///
/// When the profile is an RFC 8285 one, the body's elements were validated when the block was
/// parsed, so [`HeaderExtension::elements`] cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    profile: u16,
    body: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    /// Splits the extension block off the front of `rest` (the bytes after the CSRCs).
    /// `offset` is where `rest` starts in the packet, for error context.
    #[inline]
    pub(crate) fn split(rest: &'a [u8], offset: usize) -> Result<(Self, &'a [u8]), Error> {
        let (pre, rest) = rest.split_first_chunk::<4>().ok_or(Error::Truncated {
            what: "RTP extension preamble",
            expected: offset + 4,
            actual: offset + rest.len(),
        })?;
        let profile = u16::from_be_bytes([pre[0], pre[1]]);
        let body_len = 4 * usize::from(u16::from_be_bytes([pre[2], pre[3]]));
        let (body, rest) = rest.split_at_checked(body_len).ok_or(Error::Truncated {
            what: "RTP extension body",
            expected: offset + 4 + body_len,
            actual: offset + 4 + rest.len(),
        })?;
        if let Some(form) = ExtensionForm::from_profile(profile) {
            validate(form, body)?;
        }
        Ok((Self { profile, body }, rest))
    }

    /// The 16-bit profile ("defined by profile") field.
    #[inline]
    pub const fn profile(&self) -> u16 {
        self.profile
    }

    /// The RFC 8285 form, or `None` for another profile.
    #[inline]
    pub const fn form(&self) -> Option<ExtensionForm> {
        ExtensionForm::from_profile(self.profile)
    }

    /// The body after the 4-byte preamble (a multiple of 4 bytes).
    #[inline]
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The RFC 8285 elements (none for a non-RFC 8285 profile).
    #[inline]
    pub fn elements(&self) -> ExtensionElements<'a> {
        match self.form() {
            Some(form) => ExtensionElements { form, body: self.body },
            None => ExtensionElements::empty(),
        }
    }
}

/// Checks every element of an RFC 8285 element area.
fn validate(form: ExtensionForm, body: &[u8]) -> Result<(), Error> {
    let mut pos = 0;
    while let Some(&b) = body.get(pos) {
        match form {
            ExtensionForm::OneByte => {
                let id = b >> 4;
                if id == 0 {
                    pos += 1;
                    continue;
                }
                if id == 15 {
                    return Ok(());
                }
                let len = usize::from(b & 0x0F) + 1;
                if pos + 1 + len > body.len() {
                    return Err(Error::ExtensionOverrun {
                        id,
                        offset: pos,
                        len,
                        block_len: body.len(),
                    });
                }
                pos += 1 + len;
            }
            ExtensionForm::TwoByte => {
                if b == 0 {
                    pos += 1;
                    continue;
                }
                let Some(&len) = body.get(pos + 1) else {
                    return Err(Error::ExtensionOverrun {
                        id: b,
                        offset: pos,
                        len: 0,
                        block_len: body.len(),
                    });
                };
                let len = usize::from(len);
                if pos + 2 + len > body.len() {
                    return Err(Error::ExtensionOverrun {
                        id: b,
                        offset: pos,
                        len,
                        block_len: body.len(),
                    });
                }
                pos += 2 + len;
            }
        }
    }
    Ok(())
}

/// Iterator over validated RFC 8285 elements. Padding bytes (id 0) are skipped; in the one-byte form an
/// element with id 15 ends the iteration (RFC 8285 §4.2).
#[derive(Clone, Debug)]
pub struct ExtensionElements<'a> {
    form: ExtensionForm,
    body: &'a [u8],
}

impl<'a> ExtensionElements<'a> {
    /// An iterator that yields nothing.
    #[inline]
    pub const fn empty() -> Self {
        Self { form: ExtensionForm::OneByte, body: &[] }
    }

    /// Validates an element area on its own, e.g. the decrypted start of an rtpsize plaintext,
    /// where the elements are not contiguous with the preamble.
    ///
    /// ```
    /// use voxwire_rtp::ext::{ExtensionElements, ONE_BYTE_PROFILE};
    /// let body = [0x10, 0x7F, 0x90, 0x02, 0x00, 0x00, 0x00, 0x00]; // id 1 = 0x7F, id 9 = 0x02
    /// let els = ExtensionElements::parse(ONE_BYTE_PROFILE, &body)?;
    /// assert_eq!(els.get(9), Some(&[0x02][..]));
    /// assert_eq!(els.count(), 2);
    /// # Ok::<(), voxwire_rtp::Error>(())
    /// ```
    pub fn parse(profile: u16, body: &'a [u8]) -> Result<Self, Error> {
        let form = ExtensionForm::from_profile(profile)
            .ok_or(Error::UnsupportedExtensionProfile { profile })?;
        validate(form, body)?;
        Ok(Self { form, body })
    }

    /// The form of the elements.
    #[inline]
    pub const fn form(&self) -> ExtensionForm {
        self.form
    }

    /// The data of the first element with `id`.
    #[inline]
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.clone().find(|e| e.id == id).map(|e| e.data)
    }
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = ExtensionElement<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&b, rest) = self.body.split_first()?;
            // A zero byte is padding in both forms; in the one-byte form a header with id 0 is
            // skipped as one byte whatever its length nibble says (as libwebrtc does).
            if b == 0 || (self.form == ExtensionForm::OneByte && b >> 4 == 0) {
                self.body = rest;
                continue;
            }
            let (id, len, rest) = match self.form {
                ExtensionForm::OneByte => {
                    let id = b >> 4;
                    if id == 15 {
                        self.body = &[];
                        return None;
                    }
                    (id, usize::from(b & 0x0F) + 1, rest)
                }
                ExtensionForm::TwoByte => {
                    let Some((&len, rest)) = rest.split_first() else {
                        self.body = &[];
                        return None;
                    };
                    (b, usize::from(len), rest)
                }
            };
            let Some((data, rest)) = rest.split_at_checked(len) else {
                self.body = &[];
                return None;
            };
            self.body = rest;
            return Some(ExtensionElement { id, data });
        }
    }
}

impl core::iter::FusedIterator for ExtensionElements<'_> {}

/// Bytes the elements take in `form`, before padding to a 32-bit boundary.
#[inline]
pub fn elements_len(form: ExtensionForm, elements: &[ExtensionElement<'_>]) -> usize {
    elements.iter().map(|e| form.element_header_len() + e.data.len()).sum()
}

/// Bytes the elements take in `form`, padded to a multiple of 4 (the extension body length).
#[inline]
pub fn padded_elements_len(form: ExtensionForm, elements: &[ExtensionElement<'_>]) -> usize {
    elements_len(form, elements).next_multiple_of(4)
}

/// Writes `elements` in `form` into the front of `out`, zero-padded to a multiple of 4 bytes.
/// Returns the bytes written ([`padded_elements_len`]). This is the extension body only, without
/// the preamble: the form rtpsize encryption puts at the start of its plaintext.
pub fn write_elements(
    form: ExtensionForm,
    elements: &[ExtensionElement<'_>],
    out: &mut [u8],
) -> Result<usize, Error> {
    if let Some(e) = elements.iter().find(|e| !form.can_encode(e.id, e.data.len())) {
        return Err(Error::ExtensionNotEncodable {
            id: e.id,
            len: e.data.len(),
            form: form.name(),
        });
    }
    let total = padded_elements_len(form, elements);
    let available = out.len();
    let out = out.get_mut(..total).ok_or(Error::BufferTooSmall { needed: total, available })?;
    write_elements_unchecked(form, elements, out);
    Ok(total)
}

/// Writes elements already checked with [`ExtensionForm::can_encode`] into `out`, which is
/// exactly [`padded_elements_len`] long. Never panics; a short `out` is left partly written.
#[inline]
pub(crate) fn write_elements_unchecked(
    form: ExtensionForm,
    elements: &[ExtensionElement<'_>],
    out: &mut [u8],
) {
    let mut rest = out;
    for e in elements {
        let len = e.data.len();
        let head: &[u8] = match form {
            ExtensionForm::OneByte => &[(e.id << 4) | (len as u8).wrapping_sub(1)],
            ExtensionForm::TwoByte => &[e.id, len as u8],
        };
        let Some((h, tail)) = rest.split_at_mut_checked(head.len()) else { return };
        h.copy_from_slice(head);
        let Some((d, tail)) = tail.split_at_mut_checked(len) else { return };
        d.copy_from_slice(e.data);
        rest = tail;
    }
    rest.fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_iterates_and_stops_at_15() {
        let body = [0x10, 0xAA, 0x00, 0x21, 1, 2, 0xF0, 0x30, 9];
        let els: Vec<_> = ExtensionElements::parse(ONE_BYTE_PROFILE, &body).unwrap().collect();
        assert_eq!(els, [ExtensionElement::new(1, &[0xAA]), ExtensionElement::new(2, &[1, 2])]);
    }

    #[test]
    fn two_byte_zero_length_and_padding() {
        let body = [5, 0, 0, 200, 2, 7, 8, 0];
        let els: Vec<_> = ExtensionElements::parse(0x1003, &body).unwrap().collect();
        assert_eq!(els, [ExtensionElement::new(5, &[]), ExtensionElement::new(200, &[7, 8])]);
    }

    #[test]
    fn overrun_is_rejected() {
        let body = [0x13, 1, 2, 3];
        assert_eq!(
            ExtensionElements::parse(ONE_BYTE_PROFILE, &body).unwrap_err(),
            Error::ExtensionOverrun { id: 1, offset: 0, len: 4, block_len: 4 }
        );
        assert!(ExtensionElements::parse(0x1000, &[7]).is_err());
        assert!(ExtensionElements::parse(0x1234, &[]).is_err());
    }

    #[test]
    fn form_selection() {
        let small = [ExtensionElement::new(14, &[0; 16])];
        assert_eq!(ExtensionForm::for_elements(&small).unwrap(), ExtensionForm::OneByte);
        let big = [ExtensionElement::new(1, &[0; 17])];
        assert_eq!(ExtensionForm::for_elements(&big).unwrap(), ExtensionForm::TwoByte);
        let id15 = [ExtensionElement::new(15, &[1])];
        assert_eq!(ExtensionForm::for_elements(&id15).unwrap(), ExtensionForm::TwoByte);
        let empty = [ExtensionElement::new(3, &[])];
        assert_eq!(ExtensionForm::for_elements(&empty).unwrap(), ExtensionForm::TwoByte);
        let bad = [ExtensionElement::new(0, &[1])];
        assert!(ExtensionForm::for_elements(&bad).is_err());
    }

    #[test]
    fn write_pads_to_words() {
        let els = [ExtensionElement::new(1, &[0x7F]), ExtensionElement::new(10, b"audio")];
        let mut out = [0xFF; 12];
        let n = write_elements(ExtensionForm::OneByte, &els, &mut out).unwrap();
        assert_eq!(n, 8);
        assert_eq!(&out[..8], &[0x10, 0x7F, 0xA4, b'a', b'u', b'd', b'i', b'o']);
        let mut small = [0; 7];
        assert!(matches!(
            write_elements(ExtensionForm::OneByte, &els, &mut small),
            Err(Error::BufferTooSmall { needed: 8, available: 7 })
        ));
    }
}
