//! Replays every committed seed corpus through its target, and checks that every target has a
//! binary and a non-empty corpus.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_target_has_a_binary_and_a_corpus() {
    for t in voxwire_fuzz::all() {
        let bin = root().join("src/bin").join(format!("{}.rs", t.name));
        assert!(bin.is_file(), "target {} has no binary at {}", t.name, bin.display());
        let corpus = root().join("corpus").join(t.name);
        let n = std::fs::read_dir(&corpus).map_or(0, Iterator::count);
        assert!(n > 0, "target {} has no seed corpus in {}", t.name, corpus.display());
    }
}

#[test]
fn replay_all_corpora() {
    let mut total = 0;
    for t in voxwire_fuzz::all() {
        let dir = root().join("corpus").join(t.name);
        total += voxwire_fuzz::replay_path(&dir, t.run).expect("corpus readable");
    }
    eprintln!("replayed {total} corpus inputs");
}
