//! A big-endian cursor over a byte slice that cannot panic.

use crate::Error;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
    full: usize,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(data: &'a [u8], what: &'static str) -> Self {
        Self { data, what, full: data.len() }
    }

    pub(crate) const fn remaining(&self) -> &'a [u8] {
        self.data
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let Some((head, rest)) = self.data.split_at_checked(n) else {
            return Err(Error::Truncated {
                what: self.what,
                expected: self.full - self.data.len() + n,
                actual: self.full,
            });
        };
        self.data = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let Some((head, rest)) = self.data.split_first_chunk::<N>() else {
            return Err(Error::Truncated {
                what: self.what,
                expected: self.full - self.data.len() + N,
                actual: self.full,
            });
        };
        self.data = rest;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}

/// A big-endian writer into a caller buffer whose size was checked beforehand. Writes past the
/// end are dropped rather than panicking; callers check `needed` first.
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Takes the first `needed` bytes of `out`, or fails.
    pub(crate) fn new(out: &'a mut [u8], needed: usize) -> Result<Self, Error> {
        let available = out.len();
        let out = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed, available })?;
        Ok(Self { out, pos: 0 })
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + n) {
            dst.fill(0);
        }
        self.pos += n;
    }

    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }
}
