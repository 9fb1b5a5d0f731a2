//! Cross-crate and comparison benchmarks for voxwire. Per-crate hot paths are benchmarked in each
//! crate's own `benches/`; this package holds the ones that span crates. Run them with
//! `cargo xtask bench criterion` or `cargo bench -p voxwire-benches`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
