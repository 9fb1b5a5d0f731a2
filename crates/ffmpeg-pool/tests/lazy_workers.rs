//! Workers start on demand, never exceed the limit, and exit when idle.
mod common;

use std::time::Duration;

use common::{TempDir, sine};
use voxwire_ffmpeg::{Input, OpusConfig, Pool, PoolConfig, Priority};

#[test]
fn workers_start_lazily_stay_under_the_cap_and_exit_when_idle() {
    let pool = Pool::new(
        PoolConfig::new().per_core(4).hard_cap(3).idle_timeout(Duration::from_millis(50)),
    );
    assert_eq!(pool.stats().workers, 0, "nothing starts before the first job");
    let dir = TempDir::new("lazy");
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let p = dir.join(&format!("{i}.wav"));
            sine(&p, 200 + 50 * i, 0.5);
            pool.play(Input::File(p), &OpusConfig::new(), Priority::Normal).unwrap()
        })
        .collect();
    assert!(pool.stats().workers <= 3);
    for r in readers {
        assert_eq!(r.map(Result::unwrap).count(), 26);
    }
    let stats = pool.stats();
    assert_eq!(stats.spawned_total, 8);
    assert!(stats.peak_children <= 3, "{stats:?}");
    for _ in 0..500 {
        if pool.stats().workers == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("idle workers did not exit: {:?}", pool.stats());
}
