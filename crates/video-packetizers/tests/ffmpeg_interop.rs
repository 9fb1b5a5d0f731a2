//! Independent decoders: streams encoded by ffmpeg are packetized by voxwire and
//!
//! 1. depacketized by ffmpeg itself, receiving the RTP on 127.0.0.1 from an SDP file (H264,
//!    H265, VP8, VP9; ffmpeg 5.1 has no AV1 RTP depacketizer), and
//! 2. depacketized by voxwire, written with voxwire's Annex B / IVF writers and decoded by
//!    ffmpeg,
//!
//! and both must give the encoded frame count. Skips with a printed reason when ffmpeg, ffprobe
//! or an encoder is missing.
#![expect(
    clippy::disallowed_methods,
    reason = "drives a real ffmpeg process over UDP: readiness polling and pacing need a clock"
)]

use std::io::Write as _;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use voxwire_video::annexb::{AccessUnits, AnnexBWriter};
use voxwire_video::ivf::{IvfHeader, IvfReader, IvfWriter};
use voxwire_video::{
    Av1Depacketizer, Av1Packetizer, Codec, Depacketize, DepacketizerConfig, H26xDepacketizer,
    H26xPacketizer, PacketizerConfig, Packets, Vp8Depacketizer, Vp8Packetizer, Vp9Depacketizer,
    Vp9FrameInfo, Vp9Packetizer,
};

const FRAMES: usize = 30;
const MTU: usize = 1200;
const PT: u8 = 96;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn has_encoder(name: &str) -> bool {
    Command::new("ffmpeg").args(["-hide_banner", "-encoders"]).output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(name))
    })
}

fn work_dir(codec: Codec) -> PathBuf {
    let d =
        std::env::temp_dir().join(format!("voxwire-video-{}-{}", codec.name(), std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Encodes FRAMES frames of a test pattern; returns the file path.
fn encode(codec: Codec, dir: &Path, encoder: &str) -> PathBuf {
    let (args, file): (&[&str], &str) = match codec {
        Codec::H264 => (
            &["-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", "10", "-f", "h264"],
            "in.h264",
        ),
        Codec::H265 => (
            &[
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "log-level=error:bframes=0:keyint=10",
                "-f",
                "hevc",
            ],
            "in.h265",
        ),
        Codec::Vp8 => (
            &["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", "10", "-f", "ivf"],
            "in.ivf",
        ),
        Codec::Vp9 => (
            &[
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-g",
                "10",
                "-lag-in-frames",
                "0",
                "-f",
                "ivf",
            ],
            "in.ivf",
        ),
        Codec::Av1 => match encoder {
            "libaom-av1" => (
                &[
                    "-c:v",
                    "libaom-av1",
                    "-usage",
                    "realtime",
                    "-cpu-used",
                    "8",
                    "-g",
                    "10",
                    "-f",
                    "ivf",
                ],
                "in.ivf",
            ),
            _ => (&["-c:v", "libsvtav1", "-preset", "12", "-g", "10", "-f", "ivf"], "in.ivf"),
        },
    };
    let out = dir.join(file);
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x96:rate=30",
        ])
        .args(["-frames:v", &FRAMES.to_string(), "-pix_fmt", "yuv420p"])
        .args(args)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg encode failed for {codec}");
    out
}

/// Decoded frame count of a file, by ffprobe.
fn decoded_frames(path: &Path) -> usize {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    s.trim().parse().unwrap_or_else(|_| {
        panic!("ffprobe on {}: {s} {}", path.display(), String::from_utf8_lossy(&o.stderr))
    })
}

/// The encoded frames.
fn frames(codec: Codec, data: &[u8]) -> Vec<Vec<u8>> {
    if codec.is_h26x() {
        AccessUnits::new(codec, data).unwrap().map(<[u8]>::to_vec).collect()
    } else {
        IvfReader::new(data).unwrap().map(|f| f.unwrap().data.to_vec()).collect()
    }
}

/// RTP payloads (with marker) of each frame, packetized by voxwire.
fn packetize(codec: Codec, frames: &[Vec<u8>]) -> Vec<Vec<(Vec<u8>, bool)>> {
    let cfg = PacketizerConfig::with_mtu(MTU);
    let mut h26x = codec.is_h26x().then(|| H26xPacketizer::new(codec, cfg).unwrap());
    let mut vp8 = Vp8Packetizer::new(cfg).unwrap();
    let mut vp9 = Vp9Packetizer::new(cfg).unwrap();
    let mut av1 = Av1Packetizer::new(cfg).unwrap();
    let mut buf = [0u8; MTU];
    let mut drain = |mut p: Box<dyn Packets + '_>| {
        let mut v = Vec::new();
        while let Some(r) = p.next_into(&mut buf) {
            let pl = r.unwrap();
            v.push((buf[..pl.len].to_vec(), pl.marker));
        }
        v
    };
    frames
        .iter()
        .map(|f| match codec {
            Codec::H264 | Codec::H265 => {
                drain(Box::new(h26x.as_mut().unwrap().packetize(f).unwrap()))
            }
            Codec::Vp8 => drain(Box::new(vp8.packetize(f).unwrap())),
            Codec::Vp9 => {
                let info = Vp9FrameInfo::parse(f).unwrap();
                drain(Box::new(vp9.packetize_with_info(f, info).unwrap()))
            }
            Codec::Av1 => drain(Box::new(av1.packetize(f).unwrap())),
        })
        .collect()
}

/// Depacketizes with voxwire and writes the file ffmpeg decodes.
fn depacketize_to_file(
    codec: Codec,
    packets: &[Vec<(Vec<u8>, bool)>],
    dir: &Path,
) -> (PathBuf, usize) {
    let dc = DepacketizerConfig::default();
    let mut d: Box<dyn Depacketize> = match codec {
        Codec::H264 => Box::new(H26xDepacketizer::h264(dc)),
        Codec::H265 => Box::new(H26xDepacketizer::h265(dc)),
        Codec::Vp8 => Box::new(Vp8Depacketizer::new(dc)),
        Codec::Vp9 => Box::new(Vp9Depacketizer::new(dc)),
        Codec::Av1 => Box::new(Av1Depacketizer::new(dc)),
    };
    let path = dir.join(if codec.is_h26x() { "ours.annexb" } else { "ours.ivf" });
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut keyframes = 0;
    if codec.is_h26x() {
        let mut w = AnnexBWriter::new(file);
        for frame in packets {
            for (p, m) in frame {
                if let Some(f) = d.push(p, *m).unwrap() {
                    keyframes += usize::from(f.keyframe);
                    w.write_access_unit(f.data).unwrap();
                }
            }
        }
        w.finish().unwrap();
    } else {
        let mut w = IvfWriter::new(file, &IvfHeader::new(codec, 160, 96, 30)).unwrap();
        for (i, frame) in packets.iter().enumerate() {
            for (p, m) in frame {
                if let Some(f) = d.push(p, *m).unwrap() {
                    keyframes += usize::from(f.keyframe);
                    w.write_frame(i as u64, f.data).unwrap();
                }
            }
        }
        w.finish().unwrap().flush().unwrap();
    }
    (path, keyframes)
}

/// An even UDP port on 127.0.0.1 chosen by the OS whose successor (RTCP) is also free.
fn free_rtp_port() -> u16 {
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port();
        if port.is_multiple_of(2)
            && port < u16::MAX
            && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok()
        {
            return port;
        }
    }
}

/// `true` once a UDP socket is bound to `port` (Linux /proc/net/udp).
fn udp_port_bound(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().filter_map(|p| std::fs::read_to_string(p).ok()).any(
        |t| {
            t.lines().skip(1).any(|l| {
                l.split_whitespace().nth(1).is_some_and(|a| format!("{a} ").ends_with(&needle))
            })
        },
    )
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// ffmpeg receives voxwire's RTP and writes what it depacketized; returns that file.
fn ffmpeg_receive(codec: Codec, packets: &[Vec<(Vec<u8>, bool)>], dir: &Path) -> Option<PathBuf> {
    if !Path::new("/proc/net/udp").exists() {
        println!("skip ffmpeg RTP receive: /proc/net/udp is needed to see when ffmpeg listens");
        return None;
    }
    let port = free_rtp_port();
    let sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=voxwire\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=video {port} RTP/AVP {PT}\r\na=rtpmap:{PT} {}/90000\r\n{}",
        codec.name(),
        if codec == Codec::H264 {
            format!("a=fmtp:{PT} packetization-mode=1\r\n")
        } else {
            String::new()
        }
    );
    let sdp_path = dir.join("in.sdp");
    std::fs::write(&sdp_path, sdp).unwrap();
    // ffmpeg 5.1 writes no packets when stream-copying VP9 from RTP into IVF (its RTP
    // timestamps stay invalid there), so VP9 is decoded by the receiving ffmpeg instead and its
    // frame checksums counted.
    let (fmt, name) = match codec {
        Codec::H264 => ("h264", "recv.h264"),
        Codec::H265 => ("hevc", "recv.h265"),
        Codec::Vp9 => ("framecrc", "recv.framecrc"),
        _ => ("ivf", "recv.ivf"),
    };
    let copy = if codec == Codec::Vp9 { "rawvideo" } else { "copy" };
    let out = dir.join(name);
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-y", "-protocol_whitelist", "file,udp,rtp", "-loglevel"])
        .arg(std::env::var("VOXWIRE_FFMPEG_LOG").unwrap_or_else(|_| "error".into()))
        .args(["-reorder_queue_size", "0", "-i"])
        .arg(&sdp_path)
        .args(["-map", "0:v", "-c:v", copy, "-frames:v", &FRAMES.to_string(), "-f", fmt])
        .arg(&out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !udp_port_bound(port) {
        assert!(start.elapsed() < Duration::from_secs(20), "ffmpeg did not bind its RTP port");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut seq: u16 = 0x1234;
    // The stream, then its first frames again so ffmpeg flushes frame FRAMES - 1.
    let rounds = packets
        .iter()
        .enumerate()
        .chain(packets.iter().enumerate().take(5).map(|(i, f)| (i + FRAMES, f)));
    for (i, frame) in rounds {
        for (p, marker) in frame {
            let mut pkt = Vec::with_capacity(12 + p.len());
            pkt.extend_from_slice(&[0x80, PT | if *marker { 0x80 } else { 0 }]);
            pkt.extend_from_slice(&seq.to_be_bytes());
            pkt.extend_from_slice(&(i as u32 * 3000).to_be_bytes());
            pkt.extend_from_slice(&0x5EED_0001u32.to_be_bytes());
            pkt.extend_from_slice(p);
            sock.send_to(&pkt, ("127.0.0.1", port)).unwrap();
            seq = seq.wrapping_add(1);
            // Pace the burst so the receiver's socket buffer never overflows.
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    assert!(
        wait_with_deadline(&mut child, Duration::from_secs(30)),
        "ffmpeg did not finish receiving"
    );
    Some(out)
}

fn run(codec: Codec, encoders: &[&str]) {
    if !have("ffmpeg") || !have("ffprobe") {
        println!("skip {codec}: ffmpeg/ffprobe not installed");
        return;
    }
    let Some(encoder) = encoders.iter().find(|e| has_encoder(e)) else {
        println!("skip {codec}: none of the encoders {encoders:?} in this ffmpeg");
        return;
    };
    let dir = work_dir(codec);
    let input = std::fs::read(encode(codec, &dir, encoder)).unwrap();
    let frames = frames(codec, &input);
    assert_eq!(frames.len(), FRAMES, "{codec}: reader frame count");
    let packets = packetize(codec, &frames);

    let (ours, keyframes) = depacketize_to_file(codec, &packets, &dir);
    assert!(keyframes >= 1, "{codec}: no key frame detected");
    assert_eq!(decoded_frames(&ours), FRAMES, "{codec}: voxwire depacketized stream decodes");

    if codec == Codec::Av1 {
        println!("skip AV1 RTP receive: ffmpeg 5.1 has no AV1 RTP depacketizer");
    } else if let Some(recv) = ffmpeg_receive(codec, &packets, &dir) {
        let frames = if codec == Codec::Vp9 {
            let crc = std::fs::read_to_string(&recv).unwrap();
            crc.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count()
        } else {
            decoded_frames(&recv)
        };
        assert_eq!(frames, FRAMES, "{codec}: ffmpeg depacketized voxwire's RTP");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn h264_libx264() {
    run(Codec::H264, &["libx264"]);
}

#[test]
fn h265_libx265() {
    run(Codec::H265, &["libx265"]);
}

#[test]
fn vp8_libvpx() {
    run(Codec::Vp8, &["libvpx"]);
}

#[test]
fn vp9_libvpx() {
    run(Codec::Vp9, &["libvpx-vp9"]);
}

#[test]
fn av1_libaom_or_svt() {
    run(Codec::Av1, &["libaom-av1", "libsvtav1"]);
}
