//! Mixing and volume on one 20 ms frame.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use voxwire_sources::FRAME_LEN;
use voxwire_sources::dsp::{GainRamp, mix_into};

fn inputs(n: usize) -> Vec<[i16; FRAME_LEN]> {
    (0..n)
        .map(|k| {
            let mut f = [0i16; FRAME_LEN];
            for (i, s) in f.iter_mut().enumerate() {
                *s = i16::try_from((i * 37 + k * 1013) % 4001).unwrap_or(0) - 2000;
            }
            f
        })
        .collect()
}

fn mix(c: &mut Criterion) {
    let mut g = c.benchmark_group("mix_20ms");
    for n in [2usize, 4, 16, 64] {
        let data = inputs(n);
        let refs: Vec<&[i16; FRAME_LEN]> = data.iter().collect();
        let mut out = [0i16; FRAME_LEN];
        g.bench_function(format!("{n}_inputs"), |b| {
            b.iter(|| mix_into(black_box(&mut out), black_box(&refs)));
        });
    }
    // Loud inputs whose sum needs soft clipping on every sample.
    let loud = vec![[20_000i16; FRAME_LEN]; 16];
    let refs: Vec<&[i16; FRAME_LEN]> = loud.iter().collect();
    let mut out = [0i16; FRAME_LEN];
    g.bench_function("16_inputs_clipping", |b| {
        b.iter(|| mix_into(black_box(&mut out), black_box(&refs)));
    });
    g.finish();
}

fn volume(c: &mut Criterion) {
    let mut g = c.benchmark_group("volume_20ms");
    let src = inputs(1).remove(0);
    let mut frame = src;
    let mut ramp = GainRamp::new(0.7);
    g.bench_function("steady", |b| b.iter(|| ramp.apply(black_box(&mut frame), 0.7)));
    let mut flip = false;
    g.bench_function("ramping", |b| {
        b.iter(|| {
            flip = !flip;
            ramp.apply(black_box(&mut frame), if flip { 0.3 } else { 0.9 });
        });
    });
    g.finish();
}

criterion_group!(benches, mix, volume);
criterion_main!(benches);
