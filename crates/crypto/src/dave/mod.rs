//! DAVE end-to-end encryption.
