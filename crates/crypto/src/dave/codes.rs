//! Displayable codes (protocol.md 7.9): the voice privacy code and pairwise verification codes.

use crate::Error;
use core::fmt::Write as _;

/// Salt of the pairwise fingerprint's scrypt.
const FINGERPRINT_SALT: [u8; 16] = [
    0x24, 0xca, 0xb1, 0x7a, 0x7a, 0xf8, 0xec, 0x2b, 0x82, 0xb4, 0x12, 0xb9, 0x2d, 0xab, 0x19, 0x2e,
];

/// `displayable_code(data, total_digits, group)`: groups of `group` big-endian bytes, each reduced
/// mod 10^group and zero-padded.
pub fn displayable_code(data: &[u8], total_digits: usize, group: usize) -> Result<String, Error> {
    if group == 0 || group > 8 || !total_digits.is_multiple_of(group) || data.len() < total_digits {
        return Err(Error::DaveDisplayableCode { len: data.len(), total_digits, group });
    }
    let modulus = 10u64.pow(group as u32);
    let mut out = String::with_capacity(total_digits);
    for chunk in data[..total_digits].chunks_exact(group) {
        let v = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // writing to a String cannot fail
        let _ = write!(out, "{:0width$}", v % modulus, width = group);
    }
    Ok(out)
}

/// The voice privacy code: 30 digits from the MLS epoch authenticator.
pub fn privacy_code(epoch_authenticator: &[u8]) -> Result<String, Error> {
    displayable_code(epoch_authenticator, 30, 5)
}

/// `u16be(version) || signature_public_key || u64be(user_id)`.
pub fn key_fingerprint(version: u16, signature_key: &[u8], user_id: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + signature_key.len() + 8);
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(signature_key);
    v.extend_from_slice(&user_id.to_be_bytes());
    v
}

/// The 64-byte pairwise fingerprint of two members' key fingerprints (scrypt N=16384, r=8, p=2).
pub fn pairwise_fingerprint(a: &[u8], b: &[u8]) -> Result<[u8; 64], Error> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut input = Vec::with_capacity(lo.len() + hi.len());
    input.extend_from_slice(lo);
    input.extend_from_slice(hi);
    let params = scrypt::Params::new(14, 8, 2, 64).map_err(|_| Error::DaveFingerprint)?;
    let mut out = [0u8; 64];
    scrypt::scrypt(&input, &FINGERPRINT_SALT, &params, &mut out)
        .map_err(|_| Error::DaveFingerprint)?;
    Ok(out)
}

/// The 45-digit verification code two members compare out of band.
pub fn verification_code(
    local_key: &[u8],
    local_user: u64,
    remote_key: &[u8],
    remote_user: u64,
) -> Result<String, Error> {
    let fp = pairwise_fingerprint(
        &key_fingerprint(0, local_key, local_user),
        &key_fingerprint(0, remote_key, remote_user),
    )?;
    displayable_code(&fp, 45, 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn displayable_code_known_answers() {
        assert_eq!(displayable_code(&hex("aabbccddee"), 5, 5).unwrap(), "05870");
        let long = hex("aabbccddeebbccddeeffccddeeffaaddeeffaabbeeffaabbccffaabbccdd");
        assert_eq!(displayable_code(&long, 30, 5).unwrap(), "058708105556138052119572494877");
        assert!(displayable_code(&long, 31, 5).is_err());
        assert!(displayable_code(&long[..4], 5, 5).is_err());
        assert!(displayable_code(&long, 27, 9).is_err());
    }
}
