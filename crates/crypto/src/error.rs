//! The crate's one error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- transport encryption ---------------------------------------------------------------

    // --- DAVE -------------------------------------------------------------------------------
}
