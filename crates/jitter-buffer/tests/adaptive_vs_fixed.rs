//! On the jittery profiles, the adaptive playout delay has a lower late rate than a fixed 60 ms
//! buffer at no more mean added delay; on the calm ones it adds far less delay. Deterministic:
//! seeded netsim on a virtual clock.

#[path = "support/quality.rs"]
mod quality;

use quality::{Policy, Quality};

fn mean(profile: &str, policy: Policy) -> (f64, f64, f64) {
    let p = quality::profiles().into_iter().find(|p| p.name == profile).expect("profile exists");
    let runs: Vec<Quality> = (0..3).map(|seed| quality::run(&p, policy, seed, 120)).collect();
    let n = 3.0;
    (
        runs.iter().map(Quality::late_rate).sum::<f64>() / n,
        runs.iter().map(Quality::mean_added_delay_ms).sum::<f64>() / n,
        runs.iter().map(Quality::mean_latency_ms).sum::<f64>() / n,
    )
}

#[test]
fn adaptive_beats_fixed_on_jittery_profiles() {
    for profile in ["jitter-40", "jitter-120"] {
        let (a_late, a_delay, a_lat) = mean(profile, Policy::Adaptive);
        let (f_late, f_delay, f_lat) = mean(profile, Policy::Fixed60);
        println!(
            "{profile}: adaptive late {a_late:.4} delay {a_delay:.1} latency {a_lat:.1}; fixed late {f_late:.4} delay {f_delay:.1} latency {f_lat:.1}"
        );
        assert!(f_late > 0.005, "{profile}: the fixed buffer must be stressed (late {f_late})");
        assert!(a_late < f_late / 2.0, "{profile}: adaptive late {a_late} vs fixed {f_late}");
        assert!(a_delay <= f_delay, "{profile}: adaptive delay {a_delay} vs fixed {f_delay}");
        assert!(a_lat <= f_lat, "{profile}: adaptive latency {a_lat} vs fixed {f_lat}");
    }
}

#[test]
fn adaptive_shrinks_on_calm_profiles() {
    for profile in ["clean", "loss-5", "bursty-15"] {
        let (a_late, a_delay, _) = mean(profile, Policy::Adaptive);
        let (_, f_delay, _) = mean(profile, Policy::Fixed60);
        assert!(a_late < 0.002, "{profile}: late {a_late}");
        assert!(a_delay < f_delay / 3.0, "{profile}: adaptive {a_delay} ms vs fixed {f_delay} ms");
    }
}

#[test]
fn reordering_is_absorbed() {
    let (late, _, _) = mean("reorder", Policy::Adaptive);
    let (seed_late, _, _) = mean("reorder", Policy::Seed);
    assert!(late < 0.01, "late {late}");
    assert!(late <= seed_late, "adaptive {late} vs seed-001 {seed_late}");
}

#[test]
fn delay_grows_in_a_burst_and_shrinks_after() {
    let p =
        quality::profiles().into_iter().find(|p| p.name == "jitter-120").expect("profile exists");
    let q = quality::run(&p, Policy::Adaptive, 1, 120);
    let max = q.trajectory.iter().map(|t| t.1).fold(0.0, f64::max);
    let calm = q.trajectory.iter().filter(|t| t.1 < 15.0).count();
    assert!(max > 150.0, "never grew: max {max} ms");
    assert!(
        calm * 2 > q.trajectory.len(),
        "did not shrink back: {calm} of {} samples under 15 ms",
        q.trajectory.len()
    );
}
