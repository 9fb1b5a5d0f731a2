//! WAV files: one per stream ([`WavSink`]), with a crash-safe header.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use voxwire_sources::wav::{HEADER_LEN, write_header};

use crate::{Codec, Error, MediaPacket, MediaType, Sink};

/// Default interval between header patches: one second of audio.
pub const DEFAULT_PATCH_INTERVAL_FRAMES: u64 = 48_000;

/// Largest data chunk a WAV header can describe.
const MAX_DATA: u64 = u32::MAX as u64 - 36;

/// Writes 48 kHz stereo 16-bit PCM as WAV to any `Write + Seek`, patching the header sizes every
/// `patch_interval` sample frames and on [`finish`](Self::finish), so a process that dies
/// mid-recording leaves a file that plays up to the last patch (and tools that trust the file
/// length over the header play all of it).
#[derive(Debug)]
pub(crate) struct WavWriter<W: Write + Seek> {
    out: W,
    data_len: u64,
    since_patch: u64,
    patch_interval: u64,
    bytes: Vec<u8>,
}

impl<W: Write + Seek> WavWriter<W> {
    pub(crate) fn new(mut out: W, patch_interval: u64) -> std::io::Result<Self> {
        let mut h = [0u8; HEADER_LEN];
        write_header(&mut h, 0);
        out.write_all(&h)?;
        Ok(Self {
            out,
            data_len: 0,
            since_patch: 0,
            patch_interval: patch_interval.max(1),
            bytes: Vec::with_capacity(7680),
        })
    }

    /// Appends interleaved samples.
    pub(crate) fn write(&mut self, samples: &[i16]) -> std::io::Result<()> {
        let n = samples.len() as u64 * 2;
        if self.data_len + n > MAX_DATA {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "WAV data chunk would exceed 4 GiB",
            ));
        }
        self.bytes.clear();
        self.bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        self.out.write_all(&self.bytes)?;
        self.data_len += n;
        self.since_patch += samples.len() as u64 / 2;
        if self.since_patch >= self.patch_interval {
            self.patch()?;
        }
        Ok(())
    }

    /// Appends `frames` sample frames of silence.
    pub(crate) fn write_silence(&mut self, frames: u64) -> std::io::Result<()> {
        const CHUNK: [i16; 1920] = [0; 1920];
        let mut left = frames * 2;
        while left > 0 {
            let n = left.min(CHUNK.len() as u64) as usize;
            self.write(&CHUNK[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Writes the current sizes into the header and flushes.
    pub(crate) fn patch(&mut self) -> std::io::Result<()> {
        self.since_patch = 0;
        let data = self.data_len as u32;
        self.out.seek(SeekFrom::Start(4))?;
        self.out.write_all(&data.saturating_add(36).to_le_bytes())?;
        self.out.seek(SeekFrom::Start(40))?;
        self.out.write_all(&data.to_le_bytes())?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()
    }

    /// Sample frames written.
    pub(crate) fn frames(&self) -> u64 {
        self.data_len / 4
    }

    pub(crate) fn get_ref(&self) -> &W {
        &self.out
    }
}

/// Settings of the WAV sinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavConfig {
    /// Sample frames between header patches (default one second). Smaller means less audio
    /// lost to a crash, at the cost of two seeks per patch.
    pub patch_interval_frames: u64,
}

impl Default for WavConfig {
    fn default() -> Self {
        Self { patch_interval_frames: DEFAULT_PATCH_INTERVAL_FRAMES }
    }
}

/// Appends the decoded PCM of every packet it gets to one WAV file (48 kHz, stereo, 16 bit).
///
/// It wants [`Codec::Pcm`]: put it under a [`DecodeSink`](crate::DecodeSink) (and a
/// [`SilenceFill`](crate::SilenceFill) for a continuous timeline), and under a
/// [`PerUserSink`](crate::PerUserSink) for one file per user.
#[derive(Debug)]
pub struct WavSink<W: Write + Seek + Send = BufWriter<File>> {
    writer: Option<WavWriter<W>>,
    path: Option<PathBuf>,
}

impl WavSink {
    /// Creates (truncates) the file at `path`.
    pub fn create(path: impl AsRef<Path>, config: WavConfig) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let file =
            File::create(&path).map_err(|source| Error::File { path: path.clone(), source })?;
        let writer =
            WavWriter::new(BufWriter::with_capacity(64 * 1024, file), config.patch_interval_frames)
                .map_err(|source| Error::File { path: path.clone(), source })?;
        Ok(Self { writer: Some(writer), path: Some(path) })
    }
}

impl<W: Write + Seek + Send> WavSink<W> {
    /// Writes into any seekable writer.
    pub fn new(out: W, config: WavConfig) -> Result<Self, Error> {
        Ok(Self { writer: Some(WavWriter::new(out, config.patch_interval_frames)?), path: None })
    }

    /// Sample frames written so far.
    pub fn frames(&self) -> u64 {
        self.writer.as_ref().map_or(0, WavWriter::frames)
    }

    /// The output, until cleanup.
    pub fn get_ref(&self) -> Option<&W> {
        self.writer.as_ref().map(WavWriter::get_ref)
    }

    fn err(&self, source: std::io::Error) -> Error {
        match &self.path {
            Some(p) => Error::File { path: p.clone(), source },
            None => Error::Io(source),
        }
    }
}

impl<W: Write + Seek + Send> Sink for WavSink<W> {
    fn name(&self) -> &'static str {
        "wav"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        self.writer.is_some() && media == MediaType::Audio && codec == Codec::Pcm
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        let Some(w) = self.writer.as_mut() else { return Err(Error::Closed("wav")) };
        if let Some(pcm) = &packet.pcm {
            let r = w.write(pcm);
            r.map_err(|e| self.err(e))?;
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Error> {
        if let Some(mut w) = self.writer.take() {
            w.patch().map_err(|e| self.err(e))?;
        }
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.writer.is_none()
    }
}

impl<W: Write + Seek + Send> Drop for WavSink<W> {
    fn drop(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            let _ = w.patch();
        }
    }
}
