//! DAVE frame encryption and decryption: a 160-byte Opus frame and a 30 KB video frame, ours
//! against davey's in the same MLS group.
#![allow(missing_docs)]

#[path = "../tests/dave_support/mod.rs"]
mod dave_support;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use davey::{Codec, MediaType};
use std::hint::black_box;
use voxwire_crypto::dave::MediaKind;

fn group() -> dave_support::Call {
    let mut call = dave_support::Call::new();
    call.join(1);
    call.join(2);
    call.map_all_ssrcs();
    call.run(300);
    call
}

fn bench(c: &mut Criterion) {
    for (name, len, media, codec, kind) in [
        ("opus_160", 160usize, MediaType::AUDIO, Codec::OPUS, MediaKind::Audio),
        ("video_30k", 30_000, MediaType::VIDEO, Codec::VP9, MediaKind::Video),
    ] {
        // The encryption benches run tens of millions of frames, which moves the sender's nonce
        // into later key generations; a receiver accepts a generation only once the ratchet is
        // old enough for that many frames (time stands still here) and holds the frame
        // otherwise. So the decryption benches get a group of their own.
        let mut call = group();
        let mut s1 = call.clients.remove(&1).unwrap().session;
        let frame: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let mut g = c.benchmark_group(format!("dave_{name}"));
        g.throughput(Throughput::Bytes(len as u64));
        let mut out = vec![0u8; len + 64];
        g.bench_function("encrypt/voxwire", |b| {
            b.iter(|| s1.encrypt(black_box(&frame), &[], false, &mut out).unwrap());
        });
        let mut vec_out = Vec::with_capacity(len + 64);
        g.bench_function("encrypt/davey", |b| {
            let d = s1.davey_session_mut().unwrap();
            b.iter(|| d.encrypt_into(media, codec, black_box(&frame), &mut vec_out).unwrap());
        });
        // Each decryption needs a fresh nonce (replay protection), so a new frame is encrypted
        // outside the timed part for every iteration.
        let mut call = group();
        let now = call.now;
        let ssrc1 = call.clients[&1].ssrc;
        let mut s1 = call.clients.remove(&1).unwrap().session;
        let mut s2 = call.clients.remove(&2).unwrap().session;
        let mut plain = vec![0u8; len + 64];
        g.bench_function("decrypt/voxwire", |b| {
            b.iter_batched(
                || {
                    let mut w = vec![0u8; len + 64];
                    let n = s1.encrypt(&frame, &[], false, &mut w).unwrap();
                    w.truncate(n);
                    w
                },
                |w| {
                    let r = s2.decrypt(ssrc1, kind, &w, &mut plain, now).unwrap();
                    // A frame really decrypted (not dropped), and its plaintext observed, so
                    // that the decryption cannot be optimised away as dead stores.
                    assert!(matches!(r, voxwire_crypto::dave::Decrypted::Frame { .. }), "{r:?}");
                    black_box(&plain);
                    r
                },
                BatchSize::SmallInput,
            );
        });
        g.bench_function("decrypt/davey", |b| {
            b.iter_batched(
                || {
                    let d = s1.davey_session_mut().unwrap();
                    d.encrypt(media, codec, &frame).unwrap().into_owned()
                },
                |w| {
                    let d = s2.davey_session_mut().unwrap();
                    let n = d.decrypt_into(1, media, &w, &mut plain).unwrap();
                    black_box(&plain);
                    n
                },
                BatchSize::SmallInput,
            );
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
