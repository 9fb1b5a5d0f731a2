//! Strategies shared by the integration tests.
#![allow(dead_code, unreachable_pub, reason = "each test file uses a different subset")]

use proptest::prelude::*;

/// An owned description of a packet, from which a builder is made.
#[derive(Clone, Debug)]
pub struct PacketSpec {
    pub marker: bool,
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub csrcs: Vec<u32>,
    pub two_byte: bool,
    pub ext: Vec<(u8, Vec<u8>)>,
    pub payload: Vec<u8>,
    pub padding: u8,
}

fn one_byte_elements() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)), 0..6)
}

fn two_byte_elements() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)), 1..6)
}

pub fn packet_spec() -> impl Strategy<Value = PacketSpec> {
    (
        (any::<bool>(), 0u8..=127, any::<u16>(), any::<u32>(), any::<u32>()),
        prop::collection::vec(any::<u32>(), 0..=15),
        prop_oneof![
            one_byte_elements().prop_map(|e| (false, e)),
            two_byte_elements().prop_map(|e| (true, e))
        ],
        prop::collection::vec(any::<u8>(), 0..1300),
        prop_oneof![Just(0u8), 1u8..=255],
    )
        .prop_map(|((marker, pt, seq, ts, ssrc), csrcs, (two_byte, ext), payload, padding)| {
            PacketSpec { marker, pt, seq, ts, ssrc, csrcs, two_byte, ext, payload, padding }
        })
}
