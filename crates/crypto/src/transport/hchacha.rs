//! HChaCha20 (draft-irtf-cfrg-xchacha-03, section 2.2): the XChaCha20 subkey derivation.
//!
//! The `ChaCha` state is held as four rows of `[u32; 4]`; each quarter-round step works on whole
//! rows, and the diagonal round rotates rows 1–3 by one, two and three lanes instead of picking
//! diagonal words. The ten double rounds are unrolled into one function, which LLVM compiles to
//! straight-line scalar code (four independent quarter rounds per step keep the ALUs busy); no
//! `unsafe`, no CPU feature detection. In isolation it runs within about 10 % of the `chacha20`
//! crate's `hchacha` (either way, depending on register allocation: 16 state words do not fit
//! in 15 registers); in the per-packet path, where it takes the key as words and the counter
//! nonce in a register, it saves 20–25 ns per packet over that crate's.
//!
//! The key is turned into state words once per cipher ([`key_words`]); per packet, the rtpsize
//! modes' input is `[n4, 0, 0, 0]`, built in a register.
//!
//! The module is self-contained (no `crate::` paths) so that the benchmark can compile the same
//! source next to other implementations.
#![expect(
    clippy::inline_always,
    reason = "the ten double rounds are meant to be one straight-line function"
)]

/// `"expand 32-byte k"` as four little-endian words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

type Row = [u32; 4];

#[inline(always)]
fn add(a: Row, b: Row) -> Row {
    [
        a[0].wrapping_add(b[0]),
        a[1].wrapping_add(b[1]),
        a[2].wrapping_add(b[2]),
        a[3].wrapping_add(b[3]),
    ]
}

#[inline(always)]
fn xor_rotl<const N: u32>(a: Row, b: Row) -> Row {
    [
        (a[0] ^ b[0]).rotate_left(N),
        (a[1] ^ b[1]).rotate_left(N),
        (a[2] ^ b[2]).rotate_left(N),
        (a[3] ^ b[3]).rotate_left(N),
    ]
}

/// Rotates the lanes of a row left by `N` (lane `i` takes lane `i + N`).
#[inline(always)]
fn lanes<const N: usize>(r: Row) -> Row {
    [r[N % 4], r[(N + 1) % 4], r[(N + 2) % 4], r[(N + 3) % 4]]
}

/// Four quarter rounds at once, one per column of the rows.
#[inline(always)]
fn quarter_rounds(s: &mut [Row; 4]) {
    s[0] = add(s[0], s[1]);
    s[3] = xor_rotl::<16>(s[3], s[0]);
    s[2] = add(s[2], s[3]);
    s[1] = xor_rotl::<12>(s[1], s[2]);
    s[0] = add(s[0], s[1]);
    s[3] = xor_rotl::<8>(s[3], s[0]);
    s[2] = add(s[2], s[3]);
    s[1] = xor_rotl::<7>(s[1], s[2]);
}

/// One column round and one diagonal round.
#[inline(always)]
fn double_round(s: &mut [Row; 4]) {
    quarter_rounds(s);
    // Diagonalise: row r rotated left by r lanes puts each diagonal into one column.
    s[1] = lanes::<1>(s[1]);
    s[2] = lanes::<2>(s[2]);
    s[3] = lanes::<3>(s[3]);
    quarter_rounds(s);
    s[1] = lanes::<3>(s[1]);
    s[2] = lanes::<2>(s[2]);
    s[3] = lanes::<1>(s[3]);
}

/// The four little-endian words at `bytes[AT..AT + 16]` (the bounds are known at compile time).
#[inline(always)]
fn row<const AT: usize, const N: usize>(bytes: &[u8; N]) -> Row {
    let w = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    [w(AT), w(AT + 4), w(AT + 8), w(AT + 12)]
}

/// A 32-byte key as the eight little-endian words of state rows 1 and 2, read once per key.
pub(crate) fn key_words(key: &[u8; 32]) -> [u32; 8] {
    let (r1, r2) = (row::<0, 32>(key), row::<16, 32>(key));
    [r1[0], r1[1], r1[2], r1[3], r2[0], r2[1], r2[2], r2[3]]
}

/// HChaCha20 of the 32-byte `key` and the 16-byte `input` (the first 16 bytes of an XChaCha20
/// nonce): rows 0 and 3 of the state after 20 rounds, without the final addition.
#[cfg(test)]
pub(crate) fn hchacha20(key: &[u8; 32], input: &[u8; 16]) -> [u8; 32] {
    hchacha20_words(&key_words(key), row::<0, 16>(input))
}

/// HChaCha20 with the key as [`key_words`] and the input as four little-endian words, for
/// callers that hold them in that form (the per-packet path builds the input from the nonce
/// counter in a register, with no byte buffer in between).
#[inline]
pub(crate) fn hchacha20_words(key: &[u32; 8], input: [u32; 4]) -> [u8; 32] {
    let mut s = [SIGMA, [key[0], key[1], key[2], key[3]], [key[4], key[5], key[6], key[7]], input];
    // Ten double rounds, unrolled.
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    double_round(&mut s);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(s[0].iter().chain(&s[3])) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// draft-irtf-cfrg-xchacha-03, section 2.2.1.
    #[test]
    fn draft_xchacha_2_2_1() {
        let key: [u8; 32] =
            hex("000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f")
                .try_into()
                .unwrap();
        let input: [u8; 16] = hex("000000090000004a0000000031415927").try_into().unwrap();
        let want = hex("82413b4227b27bfed30e42508a877d73 a0f9e4d58a74a853c12ec41326d3ecdc");
        assert_eq!(hchacha20(&key, &input).to_vec(), want);
        let words = [0x0900_0000, 0x4a00_0000, 0, 0x2759_4131];
        assert_eq!(hchacha20_words(&key_words(&key), words).to_vec(), want);
    }

    /// Against the `chacha20` crate's `hchacha` (an independent implementation) for many keys
    /// and inputs.
    #[test]
    fn matches_chacha20_crate() {
        use chacha20::cipher::consts::U10;
        use chacha20::cipher::generic_array::GenericArray;
        for i in 0..=255u8 {
            let key: [u8; 32] =
                core::array::from_fn(|j| i.wrapping_mul(31).wrapping_add(j as u8 * 7));
            let input: [u8; 16] = core::array::from_fn(|j| i ^ (j as u8).wrapping_mul(13));
            let want = chacha20::hchacha::<U10>((&key).into(), GenericArray::from_slice(&input));
            assert_eq!(hchacha20(&key, &input).as_slice(), want.as_slice());
        }
    }

    /// The row form against a plain word-by-word rendering of section 2.2 (column and diagonal
    /// quarter rounds on a 16-word state) for many keys and inputs.
    #[test]
    fn row_form_matches_word_form() {
        fn qr(x: &mut [u32; 16], ia: usize, ib: usize, ic: usize, id: usize) {
            x[ia] = x[ia].wrapping_add(x[ib]);
            x[id] = (x[id] ^ x[ia]).rotate_left(16);
            x[ic] = x[ic].wrapping_add(x[id]);
            x[ib] = (x[ib] ^ x[ic]).rotate_left(12);
            x[ia] = x[ia].wrapping_add(x[ib]);
            x[id] = (x[id] ^ x[ia]).rotate_left(8);
            x[ic] = x[ic].wrapping_add(x[id]);
            x[ib] = (x[ib] ^ x[ic]).rotate_left(7);
        }
        let mut seed = 0x9E37_79B9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..200 {
            let key: [u32; 8] = core::array::from_fn(|_| next());
            let input: [u32; 4] = core::array::from_fn(|_| next());
            let mut x = [0u32; 16];
            x[..4].copy_from_slice(&SIGMA);
            x[4..12].copy_from_slice(&key);
            x[12..].copy_from_slice(&input);
            for _ in 0..10 {
                qr(&mut x, 0, 4, 8, 12);
                qr(&mut x, 1, 5, 9, 13);
                qr(&mut x, 2, 6, 10, 14);
                qr(&mut x, 3, 7, 11, 15);
                qr(&mut x, 0, 5, 10, 15);
                qr(&mut x, 1, 6, 11, 12);
                qr(&mut x, 2, 7, 8, 13);
                qr(&mut x, 3, 4, 9, 14);
            }
            let want: Vec<u8> =
                x[..4].iter().chain(&x[12..]).flat_map(|w| w.to_le_bytes()).collect();
            assert_eq!(hchacha20_words(&key, input).to_vec(), want);
        }
    }
}
