//! Annex B byte streams (ITU-T H.264 / H.265 Annex B): split a stream into access units, and
//! write access units.
//!
//! [`AccessUnits`] is a zero-copy iterator over a whole stream. A NAL unit starts a new access
//! unit when the current one already has a coded slice and the NAL unit is one that may only
//! precede the first slice of a picture (H264: AUD, SPS, PPS, SEI, types 14–18; H265: VPS, SPS,
//! PPS, AUD, prefix SEI, types 41–44 and 48–55), or is a slice that begins a new picture
//! (H264 `first_mb_in_slice == 0`; H265 `first_slice_segment_in_pic_flag == 1`).

use std::io::Write;

use crate::nal::{StartCode, find_start_code};
use crate::{Codec, Error};

/// Zero-copy iterator over the access units of an Annex B stream. Each item includes the start
/// codes of its NAL units as they appear in the stream; bytes before the first start code are
/// skipped.
#[derive(Debug, Clone)]
pub struct AccessUnits<'a> {
    codec: Codec,
    data: &'a [u8],
    next: Option<StartCode>,
}

impl<'a> AccessUnits<'a> {
    /// Splits `data` as an H264 or H265 stream.
    pub fn new(codec: Codec, data: &'a [u8]) -> Result<Self, Error> {
        if !codec.is_h26x() {
            return Err(Error::Container {
                container: "Annex B",
                reason: "codec is not H264 or H265",
            });
        }
        Ok(Self { codec, data, next: find_start_code(data, 0) })
    }

    /// `(is_vcl, begins_new_access_unit_if_after_vcl)` for a NAL unit.
    fn classify(&self, nal: &[u8]) -> (bool, bool) {
        if self.codec == Codec::H265 {
            let t = nal.first().map_or(63, |b| (b >> 1) & 0x3F);
            if t < 32 {
                (true, nal.get(2).is_some_and(|b| b & 0x80 != 0))
            } else {
                (false, matches!(t, 32..=35 | 39 | 41..=44 | 48..=55))
            }
        } else {
            match nal.first().map_or(0, |b| b & 0x1F) {
                1 | 5 => (true, nal.get(1).is_some_and(|b| b & 0x80 != 0)),
                6..=9 | 14..=18 => (false, true),
                _ => (false, false),
            }
        }
    }
}

impl<'a> Iterator for AccessUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let first = self.next?;
        let mut cur = first;
        let mut has_vcl = false;
        loop {
            let following = find_start_code(self.data, cur.nal_start);
            let end = following.map_or(self.data.len(), |s| s.code_start);
            let nal = self.data.get(cur.nal_start..end).unwrap_or_default();
            let (vcl, boundary) = self.classify(nal);
            if has_vcl && boundary {
                self.next = Some(cur);
                return self.data.get(first.code_start..cur.code_start);
            }
            has_vcl |= vcl;
            let Some(n) = following else {
                self.next = None;
                return self.data.get(first.code_start..);
            };
            cur = n;
        }
    }
}

/// Writes access units to an Annex B stream (they already carry start codes, as the
/// depacketizers produce them).
#[derive(Debug)]
pub struct AnnexBWriter<W: Write> {
    out: W,
    units: u64,
}

impl<W: Write> AnnexBWriter<W> {
    /// A writer.
    pub const fn new(out: W) -> Self {
        Self { out, units: 0 }
    }

    /// Appends one access unit, which must begin with a start code.
    pub fn write_access_unit(&mut self, au: &[u8]) -> Result<(), Error> {
        if find_start_code(au, 0)
            .is_none_or(|s| au.get(..s.code_start).is_none_or(|b| b.iter().any(|&x| x != 0)))
        {
            return Err(Error::Container {
                container: "Annex B",
                reason: "access unit does not begin with a start code",
            });
        }
        self.out.write_all(au)?;
        self.units += 1;
        Ok(())
    }

    /// Access units written.
    pub const fn units(&self) -> u64 {
        self.units
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, Error> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h264_access_units() {
        let stream = [
            0, 0, 0, 1, 0x09, 0xF0, // AUD
            0, 0, 0, 1, 0x67, 0x42, // SPS
            0, 0, 1, 0x68, 0xCE, // PPS
            0, 0, 1, 0x65, 0x88, 0x11, // IDR, first_mb 0
            0, 0, 1, 0x65, 0x22, 0x11, // IDR, second slice (first_mb != 0)
            0, 0, 0, 1, 0x09, 0xF0, // AUD: new AU
            0, 0, 1, 0x41, 0x9A, // P slice
            0, 0, 1, 0x41, 0x9B, // P slice, first_mb 0: new AU
            0, 0, 1, 0x06, 0x05, // SEI after slice: new AU
            0, 0, 1, 0x41, 0x9C,
        ];
        let aus: Vec<&[u8]> = AccessUnits::new(Codec::H264, &stream).unwrap().collect();
        assert_eq!(aus.len(), 4);
        assert_eq!(aus[0], &stream[..29]);
        assert_eq!(aus[1], &stream[29..40]);
        assert_eq!(aus[2], &stream[40..45]);
        assert_eq!(aus[3], &stream[45..]);
    }

    #[test]
    fn h265_access_units() {
        let stream = [
            0, 0, 0, 1, 0x40, 0x01, 0x0C, // VPS
            0, 0, 0, 1, 0x26, 0x01, 0xAF, // IDR, first slice
            0, 0, 0, 1, 0x26, 0x01, 0x2F, // IDR, second segment
            0, 0, 0, 1, 0x02, 0x01, 0xD0, // TRAIL, first slice: new AU
        ];
        let aus: Vec<&[u8]> = AccessUnits::new(Codec::H265, &stream).unwrap().collect();
        assert_eq!(aus, [&stream[..21], &stream[21..]]);
        assert!(AccessUnits::new(Codec::Vp8, &stream).is_err());
        assert_eq!(AccessUnits::new(Codec::H265, &[1, 2, 3]).unwrap().count(), 0);
    }

    #[test]
    fn writer_checks_start_code() {
        let mut w = AnnexBWriter::new(Vec::new());
        w.write_access_unit(&[0, 0, 0, 1, 0x65, 1]).unwrap();
        assert!(w.write_access_unit(&[0x65, 1]).is_err());
        assert_eq!(w.units(), 1);
        assert_eq!(w.finish().unwrap(), [0, 0, 0, 1, 0x65, 1]);
    }
}
