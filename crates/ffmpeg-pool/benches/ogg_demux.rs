//! Hot path of every transcode: splitting FFmpeg's Ogg Opus output into packets, at the page
//! sizes FFmpeg writes (1 s pages) and at small pages, with and without the CRC check.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use voxwire_ffmpeg::ogg::{OggOpusDemuxer, flags, opus_head, write_page};

/// `seconds` of 20 ms packets of `bytes` each, `per_page` packets a page.
fn stream(seconds: usize, bytes: usize, per_page: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_page(&mut out, flags::BOS, 0, 1, 0, &[&opus_head(2, 312)]);
    write_page(&mut out, 0, 0, 1, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
    let packet: Vec<u8> = std::iter::once(0xfc).chain((1..bytes).map(|i| i as u8)).collect();
    let packets = vec![packet.as_slice(); per_page];
    for page in 0..seconds * 50 / per_page {
        let granule = i64::try_from((page + 1) * per_page * 960).unwrap_or(i64::MAX);
        write_page(&mut out, 0, granule, 1, u32::try_from(page + 2).unwrap_or(u32::MAX), &packets);
    }
    out
}

fn demux(c: &mut Criterion) {
    let mut g = c.benchmark_group("ogg_demux_60s");
    // 64 kbit/s is 160 bytes a packet; 128 kbit/s is 320.
    for (bytes, per_page) in [(160, 50), (320, 50), (160, 5)] {
        let data = stream(60, bytes, per_page);
        g.throughput(Throughput::Bytes(data.len() as u64));
        for crc in [true, false] {
            let id = BenchmarkId::new(
                if crc { "crc" } else { "no_crc" },
                format!("{bytes}B_x{per_page}"),
            );
            g.bench_with_input(id, &data, |b, data| {
                b.iter(|| {
                    let mut d = if crc {
                        OggOpusDemuxer::new()
                    } else {
                        OggOpusDemuxer::new().without_crc_check()
                    };
                    let mut n = 0u32;
                    for chunk in data.chunks(16 * 1024) {
                        d.push(chunk);
                        while let Ok(Some(p)) = d.poll_packet() {
                            n += p.samples;
                        }
                    }
                    n
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, demux);
criterion_main!(benches);
