//! Fuzz targets for voxwire-ffmpeg: the Ogg Opus demuxer (fed in arbitrary chunks), ffprobe's
//! JSON, and the `ffmpeg -encoders`/`-decoders`/`-hwaccels` listings.

use voxwire_ffmpeg::ProbeInfo;
use voxwire_ffmpeg::capabilities::{parse_codecs, parse_hwaccels};
use voxwire_ffmpeg::ogg::{OggOpusDemuxer, OggPageSplitter, packet_samples};

use crate::Target;

/// voxwire-ffmpeg's targets.
pub const TARGETS: &[Target] = &[
    Target { name: "ffmpeg_ogg_demux", run: ogg_demux },
    Target { name: "ffmpeg_probe_json", run: probe_json },
    Target { name: "ffmpeg_capabilities", run: capabilities },
    Target { name: "ffmpeg_ogg_split", run: ogg_split },
];

/// First byte: chunk size for feeding the rest to the multiplexed-stream page splitter. Pages
/// come out whole (each starts with `OggS`), with a stream index below the limit, and feeding
/// the same bytes in one piece gives the same pages.
pub fn ogg_split(data: &[u8]) {
    let Some((&chunk, body)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let run = |step: usize| {
        let mut s = OggPageSplitter::default();
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            s.push(piece);
            loop {
                match s.poll_page() {
                    Ok(Some(p)) => out.push(p),
                    Ok(None) => break,
                    Err(_) => return (out, false),
                }
            }
        }
        assert!(s.pending() <= body.len());
        (out, true)
    };
    let (chunked, ok_chunked) = run(chunk);
    let (whole, ok_whole) = run(body.len().max(1));
    for (stream, page) in &chunked {
        assert!(*stream < OggPageSplitter::MAX_STREAMS);
        assert!(page.starts_with(b"OggS"));
    }
    assert_eq!(ok_chunked, ok_whole);
    assert_eq!(chunked, whole);
}

/// First byte: chunk size for feeding the rest to the demuxer. Packets that come out have a
/// valid TOC duration, and feeding the same bytes in one piece gives the same packets.
pub fn ogg_demux(data: &[u8]) {
    let Some((&chunk, body)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let run = |step: usize| {
        let mut d = OggOpusDemuxer::new();
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            d.push(piece);
            loop {
                match d.poll_packet() {
                    Ok(Some(p)) => out.push(p),
                    Ok(None) => break,
                    Err(_) => return (out, false),
                }
            }
        }
        let _ = d.finish();
        (out, true)
    };
    let (chunked, ok_chunked) = run(chunk);
    let (whole, ok_whole) = run(body.len().max(1));
    for p in &chunked {
        assert_eq!(packet_samples(&p.data).ok(), Some(p.samples));
    }
    assert_eq!(ok_chunked, ok_whole);
    assert_eq!(chunked, whole);
}

/// Any bytes as ffprobe JSON: no panic; a parsed duration is never negative.
pub fn probe_json(data: &[u8]) {
    if let Ok(p) = ProbeInfo::parse_json(data) {
        let _ = p.audio();
        let _ = p.duration();
    }
}

/// Any text as a codec listing and as a hwaccel listing: no panic; every parsed codec has a
/// name.
pub fn capabilities(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(codecs) = parse_codecs(&text, "fuzz") {
        assert!(codecs.iter().all(|c| !c.name.is_empty() && !c.codec.is_empty()));
    }
    let _ = parse_hwaccels(&text);
}
