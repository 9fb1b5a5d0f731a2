//! IVF container (the framing libvpx and libaom write): a 32-byte file header, then per frame a
//! 12-byte header (size u32 LE, timestamp u64 LE) and the frame.
//!
//! The reader is a zero-copy view over the whole file and validates every length before use.
//! Written here rather than with the `ivf` crate: that crate's reader allocates the untrusted
//! frame length before reading it (a 4 GB allocation from a 4-byte field), its writer panics on
//! I/O errors and always writes the `AV01` fourcc, which rules it out for VP8 and VP9.

use std::io::Write;

use crate::{Codec, Error};

const SIGNATURE: &[u8; 4] = b"DKIF";
/// Size of the IVF file header.
pub const HEADER_LEN: usize = 32;
/// Size of each frame header.
pub const FRAME_HEADER_LEN: usize = 12;

const fn err(reason: &'static str) -> Error {
    Error::Container { container: "IVF", reason }
}

/// The IVF file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfHeader {
    /// Codec fourcc: `VP80`, `VP90`, `AV01`.
    pub fourcc: [u8; 4],
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Timebase denominator (the "frame rate" field).
    pub timebase_den: u32,
    /// Timebase numerator (the "time scale" field).
    pub timebase_num: u32,
    /// Number of frames (informational; writers that stream leave 0).
    pub frame_count: u32,
}

impl IvfHeader {
    /// A header for `codec` with a 1/`rate` timebase.
    pub const fn new(codec: Codec, width: u16, height: u16, rate: u32) -> Self {
        let fourcc = match codec {
            Codec::Vp8 => *b"VP80",
            Codec::Vp9 => *b"VP90",
            Codec::Av1 => *b"AV01",
            Codec::H264 => *b"H264",
            Codec::H265 => *b"H265",
        };
        Self { fourcc, width, height, timebase_den: rate, timebase_num: 1, frame_count: 0 }
    }

    /// The codec the fourcc names, if known.
    pub fn codec(&self) -> Option<Codec> {
        match &self.fourcc {
            b"VP80" => Some(Codec::Vp8),
            b"VP90" => Some(Codec::Vp9),
            b"AV01" => Some(Codec::Av1),
            b"H264" | b"avc1" => Some(Codec::H264),
            b"H265" | b"hvc1" | b"HEVC" => Some(Codec::H265),
            _ => None,
        }
    }

    /// Parses the 32-byte file header.
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let h: &[u8; HEADER_LEN] = data.first_chunk().ok_or(Error::Truncated {
            what: "IVF header",
            expected: HEADER_LEN,
            actual: data.len(),
        })?;
        if &h[0..4] != SIGNATURE {
            return Err(err("missing DKIF signature"));
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        if (u16_at(6) as usize) < HEADER_LEN {
            return Err(err("header length below 32"));
        }
        Ok(Self {
            fourcc: [h[8], h[9], h[10], h[11]],
            width: u16_at(12),
            height: u16_at(14),
            timebase_den: u32_at(16),
            timebase_num: u32_at(20),
            frame_count: u32_at(24),
        })
    }

    /// The 32 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(SIGNATURE);
        h[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        h[8..12].copy_from_slice(&self.fourcc);
        h[12..14].copy_from_slice(&self.width.to_le_bytes());
        h[14..16].copy_from_slice(&self.height.to_le_bytes());
        h[16..20].copy_from_slice(&self.timebase_den.to_le_bytes());
        h[20..24].copy_from_slice(&self.timebase_num.to_le_bytes());
        h[24..28].copy_from_slice(&self.frame_count.to_le_bytes());
        h
    }
}

/// One frame of an IVF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfFrame<'a> {
    /// Presentation timestamp in the header's timebase.
    pub pts: u64,
    /// The frame (VP8/VP9 frame or superframe, AV1 temporal unit).
    pub data: &'a [u8],
}

/// Zero-copy reader over a whole IVF file; iterate it for the frames.
#[derive(Debug, Clone)]
pub struct IvfReader<'a> {
    header: IvfHeader,
    rest: &'a [u8],
}

impl<'a> IvfReader<'a> {
    /// Parses the file header (honouring a declared header length above 32).
    pub fn new(data: &'a [u8]) -> Result<Self, Error> {
        let header = IvfHeader::parse(data)?;
        let declared = u16::from_le_bytes([data[6], data[7]]) as usize;
        let rest = data.get(declared..).ok_or(Error::Truncated {
            what: "IVF header",
            expected: declared,
            actual: data.len(),
        })?;
        Ok(Self { header, rest })
    }

    /// The file header.
    pub const fn header(&self) -> &IvfHeader {
        &self.header
    }
}

impl<'a> Iterator for IvfReader<'a> {
    type Item = Result<IvfFrame<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some((h, body)) = self.rest.split_first_chunk::<FRAME_HEADER_LEN>() else {
            let actual = self.rest.len();
            self.rest = &[];
            return Some(Err(Error::Truncated {
                what: "IVF frame header",
                expected: FRAME_HEADER_LEN,
                actual,
            }));
        };
        let size = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let pts = u64::from_le_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
        let Some((data, rest)) = body.split_at_checked(size) else {
            let actual = body.len();
            self.rest = &[];
            return Some(Err(Error::Truncated { what: "IVF frame", expected: size, actual }));
        };
        self.rest = rest;
        Some(Ok(IvfFrame { pts, data }))
    }
}

/// Streaming IVF writer.
#[derive(Debug)]
pub struct IvfWriter<W: Write> {
    out: W,
    frames: u64,
}

impl<W: Write> IvfWriter<W> {
    /// Writes `header` and returns the writer.
    pub fn new(mut out: W, header: &IvfHeader) -> Result<Self, Error> {
        out.write_all(&header.to_bytes())?;
        Ok(Self { out, frames: 0 })
    }

    /// Appends one frame.
    pub fn write_frame(&mut self, pts: u64, data: &[u8]) -> Result<(), Error> {
        let size = u32::try_from(data.len()).map_err(|_| err("frame larger than 4 GiB"))?;
        let mut h = [0u8; FRAME_HEADER_LEN];
        h[..4].copy_from_slice(&size.to_le_bytes());
        h[4..].copy_from_slice(&pts.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        self.frames += 1;
        Ok(())
    }

    /// Frames written so far.
    pub const fn frames(&self) -> u64 {
        self.frames
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
    fn write_then_read() {
        let header = IvfHeader::new(Codec::Vp9, 320, 240, 30);
        let mut w = IvfWriter::new(Vec::new(), &header).unwrap();
        w.write_frame(0, &[1, 2, 3]).unwrap();
        w.write_frame(1, &[]).unwrap();
        w.write_frame(2, &[9; 100]).unwrap();
        let file = w.finish().unwrap();
        let r = IvfReader::new(&file).unwrap();
        assert_eq!(*r.header(), header);
        assert_eq!(r.header().codec(), Some(Codec::Vp9));
        let frames: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(frames.len(), 3);
        assert_eq!((frames[0].pts, frames[0].data), (0, &[1, 2, 3][..]));
        assert_eq!(frames[2].data.len(), 100);
        // Truncations are errors, not panics.
        assert!(IvfReader::new(&file[..20]).is_err());
        let mut r = IvfReader::new(&file[..file.len() - 1]).unwrap();
        assert!(r.nth(2).unwrap().is_err());
        let mut r = IvfReader::new(&file[..HEADER_LEN + 5]).unwrap();
        assert!(r.next().unwrap().is_err());
        assert!(r.next().is_none());
        let mut bad = file.clone();
        bad[0] = b'X';
        assert!(IvfReader::new(&bad).is_err());
    }
}
