//! Known-answer vectors of protocol.md 7.4 and 7.9.

use voxwire_crypto::dave::{KeyRatchet, codes};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn key_ratchet_generations_0_and_1() {
    let base: [u8; 16] = hex("cedd61b1b8a1ca69046554282cf70b7b").try_into().unwrap();
    let mut r = KeyRatchet::new(&base);
    let (k0, n0) = r.advance();
    assert_eq!(k0.to_vec(), hex("7530f9a9945e2d2e06d0651f7b2a864b"));
    assert_eq!(n0.to_vec(), hex("301e5f4b74090f985e726bb2"));
    assert_eq!(r.advance().0.to_vec(), hex("cddd06e0f3437596bacb9c06a0329c49"));
}

#[test]
fn displayable_codes() {
    assert_eq!(codes::displayable_code(&hex("aabbccddee"), 5, 5).unwrap(), "05870");
    let data = hex("aabbccddeebbccddeeffccddeeffaaddeeffaabbeeffaabbccffaabbccdd");
    assert_eq!(codes::displayable_code(&data, 30, 5).unwrap(), "058708105556138052119572494877");
    assert_eq!(codes::privacy_code(&data).unwrap(), "058708105556138052119572494877");
}

#[test]
fn pairwise_fingerprint_and_verification_code() {
    let a = codes::key_fingerprint(0, &[0u8; 33], 1234);
    let b = codes::key_fingerprint(0, &[0u8; 65], 5678);
    let fp = codes::pairwise_fingerprint(&a, &b).unwrap();
    assert_eq!(&fp[..8], &[0x85, 0x81, 0xf1, 0x2c, 0x24, 0x87, 0x4f, 0xc3]);
    // order-independent
    assert_eq!(codes::pairwise_fingerprint(&b, &a).unwrap(), fp);
    assert_eq!(
        codes::displayable_code(&fp, 45, 5).unwrap(),
        "167087148466685475014767895181229783641225826"
    );
    assert_eq!(
        codes::verification_code(&[0u8; 33], 1234, &[0u8; 65], 5678).unwrap(),
        "167087148466685475014767895181229783641225826"
    );
}
