//! Transport encryption per packet: encrypt and decrypt of a 160-byte audio packet and a
//! 1,200-byte video packet in each mode, for every compiled-in backend (`--features rustcrypto`
//! puts the pure-Rust fallback in the same groups as ring).
//!
//! Targets on the reference 2-core machine (160-byte packet): AES-256-GCM at most 150 ns,
//! XChaCha20-Poly1305 at most 400 ns.
//!
//! The group `transport/parts/160B` measures the pieces of a 160-byte packet on their own (ring's
//! bare AEADs on the same AAD and body, ring's ChaCha20 key set-up, HChaCha20, the general RTP
//! header parser) and XChaCha20-Poly1305 assembled from exactly those pieces: the floor that the
//! full calls above are compared with. HChaCha20 there is this crate's source compiled into the
//! bench; its register allocation (and so its time, within about 10 %) can differ from the
//! library's copy.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! reference machine is shared, and wall time there mostly measures how often the thread was
//! descheduled. Set `VOXWIRE_BENCH_WALL=1` to measure wall time instead.
#![expect(deprecated, reason = "the deprecated secretbox modes are benchmarked too")]

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use voxwire_crypto::transport::{Backend, TransportCipher, TransportConfig, TransportMode};

/// This crate's HChaCha20, compiled from the same source for the parts benchmark.
#[path = "../src/transport/hchacha.rs"]
#[allow(dead_code, unused_imports, reason = "only the per-packet function is benchmarked")]
mod hchacha;

const KEY: [u8; 32] = [0x5A; 32];

/// An RTP packet of `total` bytes before encryption: X=1 with one word of elements, as the
/// native client sends audio, and a payload filling the rest.
fn packet(total: usize) -> Vec<u8> {
    let mut p = vec![0x90, 0x78, 0x01, 0x02, 0, 0, 0x0F, 0x00, 0x11, 0x22, 0x33, 0x44];
    p.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x10, 0x7F, 0x00, 0x00]);
    p.extend((0..total - p.len()).map(|i| i as u8));
    p
}

fn backends() -> Vec<Backend> {
    [Backend::Ring, Backend::RustCrypto].into_iter().filter(|b| b.is_available()).collect()
}

fn modes() -> [TransportMode; 3] {
    [
        TransportMode::AeadAes256GcmRtpsize,
        TransportMode::AeadXChaCha20Poly1305Rtpsize,
        TransportMode::XSalsa20Poly1305Lite,
    ]
}

/// Thread CPU time as a criterion measurement, in nanoseconds (formatted like wall time).
struct ThreadCpuTime {
    /// Only lends its duration formatter.
    wall: WallTime,
}

impl Measurement for ThreadCpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = std::time::Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }

    fn end(&self, cpu: Self::Intermediate) -> Self::Value {
        cpu.elapsed()
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        std::time::Duration::ZERO
    }

    fn to_f64(&self, v: &Self::Value) -> f64 {
        v.as_secs_f64() * 1e9
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    for size in [160usize, 1200] {
        let plain = packet(size);
        for mode in modes() {
            let mut group = c.benchmark_group(format!("transport/{}/{size}B", mode.name()));
            group.throughput(Throughput::Bytes(size as u64));
            // The secretbox modes run on RustCrypto whatever the backend: bench them once.
            let bs = if mode.is_deprecated() { vec![Backend::fastest()] } else { backends() };
            for backend in bs {
                let cfg = TransportConfig::new().backend(backend);
                let mut tx = TransportCipher::with_config(mode, &KEY, &cfg).expect("cipher");
                let rx = TransportCipher::with_config(mode, &KEY, &cfg).expect("cipher");
                let mut buf = vec![0u8; size + tx.overhead()];
                let name = format!("{backend:?}");
                group.bench_function(BenchmarkId::new("encrypt", &name), |b| {
                    b.iter(|| {
                        buf[..size].copy_from_slice(&plain);
                        black_box(tx.encrypt_rtp(black_box(&mut buf), size).expect("encrypt"))
                    });
                });
                buf[..size].copy_from_slice(&plain);
                let n = tx.encrypt_rtp(&mut buf, size).expect("encrypt");
                let sealed = buf[..n].to_vec();
                group.bench_function(BenchmarkId::new("decrypt", &name), |b| {
                    b.iter(|| {
                        buf[..n].copy_from_slice(&sealed);
                        black_box(rx.decrypt_rtp(black_box(&mut buf[..n])).expect("decrypt"))
                    });
                });
            }
            group.finish();
        }
    }
}

/// The parts of one 160-byte packet's work, to see what the full calls add above the floor:
/// ring's AEADs on the same AAD (16 bytes) and body (144 bytes) with the key built once, ring's
/// ChaCha20-Poly1305 key set-up (done per packet for XChaCha20, whose subkey changes with the
/// nonce), HChaCha20 (this crate's, and the `chacha20` crate's), and reading the rtpsize header.
fn parts<M: Measurement>(c: &mut Criterion<M>) {
    use ring::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

    let plain = packet(160);
    let (aad, body) = plain.split_at(16);
    let mut group = c.benchmark_group("transport/parts/160B");
    let nonce = || Nonce::assume_unique_for_key([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (name, alg) in [("aes256gcm", &AES_256_GCM), ("chacha20poly1305", &CHACHA20_POLY1305)] {
        let key = LessSafeKey::new(UnboundKey::new(alg, &KEY).expect("key"));
        let mut data = body.to_vec();
        group.bench_function(format!("ring_{name}_seal"), |b| {
            b.iter(|| {
                data.copy_from_slice(body);
                let t =
                    key.seal_in_place_separate_tag(nonce(), Aad::from(black_box(aad)), &mut data);
                black_box(t.expect("seal"))
            });
        });
        data.copy_from_slice(body);
        let tag = key.seal_in_place_separate_tag(nonce(), Aad::from(aad), &mut data).expect("seal");
        let sealed = data.clone();
        group.bench_function(format!("ring_{name}_open"), |b| {
            b.iter(|| {
                data.copy_from_slice(&sealed);
                let r = key.open_in_place_separate_tag(
                    nonce(),
                    Aad::from(black_box(aad)),
                    tag,
                    &mut data,
                    0..,
                );
                black_box(r.expect("open").len())
            });
        });
    }
    let key_words = hchacha::key_words(&KEY);
    // XChaCha20-Poly1305 from the parts: what the full call cannot go below.
    let mut data = body.to_vec();
    group.bench_function("ring_xchacha20poly1305_seal", |b| {
        b.iter(|| {
            data.copy_from_slice(body);
            let sub = hchacha::hchacha20_words(black_box(&key_words), [1 << 24, 0, 0, 0]);
            let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &sub).expect("key"));
            let t = key.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(black_box(aad)),
                &mut data,
            );
            black_box(t.expect("seal"))
        });
    });
    group.bench_function("ring_chacha20poly1305_key_setup", |b| {
        b.iter(|| {
            LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, black_box(&KEY)).expect("key"))
        });
    });
    group.bench_function("hchacha20_voxwire", |b| {
        b.iter(|| hchacha::hchacha20_words(black_box(&key_words), black_box([1 << 24, 0, 0, 0])));
    });
    group.bench_function("hchacha20_chacha20_crate", |b| {
        use chacha20::cipher::consts::U10;
        use chacha20::cipher::generic_array::GenericArray;
        let input = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        b.iter(|| {
            chacha20::hchacha::<U10>(
                black_box(&KEY).into(),
                GenericArray::from_slice(black_box(&input)),
            )
        });
    });
    group.bench_function("rtpsize_layout", |b| {
        b.iter(|| voxwire_rtp::RtpsizeLayout::parse(black_box(&plain)).expect("layout"));
    });
    group.finish();
}

fn wall() -> bool {
    std::env::var_os("VOXWIRE_BENCH_WALL").is_some()
}

fn bench_cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench(c);
    parts(c);
}

fn bench_wall(c: &mut Criterion<WallTime>) {
    bench(c);
    parts(c);
}

criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime });
    targets = bench_cpu
}
criterion_group!(wall_time, bench_wall);

fn main() {
    if wall() {
        wall_time();
    } else {
        cpu();
    }
    Criterion::default().configure_from_args().final_summary();
}
