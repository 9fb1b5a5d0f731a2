//! Differential tests against davey in the same MLS group: davey's encryptor (all six codecs)
//! against our decryptor, our encryptor against davey's decryptor, and byte-identical Opus
//! output from both encryptors at the same nonce.

mod dave_support;

use dave_support::Call;
use davey::{Codec, MediaType};
use voxwire_crypto::dave::{Decrypted, MediaKind};

fn established() -> Call {
    let mut call = Call::new();
    call.media = false; // both encryptors start at nonce 1
    call.join(1);
    call.join(2);
    call.map_all_ssrcs();
    call.run(300);
    assert!(call.clients.values().all(|c| c.session.is_ready()));
    call
}

fn sample_frames() -> Vec<(Codec, MediaType, Vec<u8>)> {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8 | 0x10).collect();
    let mut h264 = vec![
        0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1f, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1, 0x65,
        0x88, 0x84,
    ];
    h264.extend_from_slice(&payload);
    let mut h265 = vec![0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0, 0, 1, 0x26, 0x01, 0xaf];
    h265.extend_from_slice(&payload);
    let mut vp8 = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
    vp8.extend_from_slice(&payload);
    // AV1: temporal delimiter, then a frame OBU with a size field
    let mut av1 = vec![0x12, 0x00, 0x32, 0x90, 0x17];
    av1.extend_from_slice(&payload[..0x0b90]);
    vec![
        (Codec::OPUS, MediaType::AUDIO, payload[..160].to_vec()),
        (Codec::VP8, MediaType::VIDEO, vp8),
        (Codec::VP9, MediaType::VIDEO, payload.clone()),
        (Codec::H264, MediaType::VIDEO, h264),
        (Codec::H265, MediaType::VIDEO, h265),
        (Codec::AV1, MediaType::VIDEO, av1),
    ]
}

#[test]
fn davey_encrypts_we_decrypt_every_codec() {
    let mut call = established();
    let ssrc1 = call.clients[&1].ssrc;
    for (codec, media, frame) in sample_frames() {
        let davey = call.clients.get_mut(&1).unwrap().session.davey_session_mut().unwrap();
        let wire = davey.encrypt(media, codec, &frame).unwrap().into_owned();
        // davey's decryptor yields the codec's canonical frame (e.g. AV1 without the temporal
        // delimiter); ours must produce exactly the same bytes.
        let reference = {
            let c2 = call.clients.get_mut(&2).unwrap().session.davey_session_mut().unwrap();
            c2.decrypt(1, media, &wire).unwrap()
        };
        let kind = if media == MediaType::AUDIO { MediaKind::Audio } else { MediaKind::Video };
        let now = call.now;
        let s2 = &mut call.clients.get_mut(&2).unwrap().session;
        let mut out = vec![0u8; wire.len()];
        match s2.decrypt(ssrc1, kind, &wire, &mut out, now).unwrap() {
            Decrypted::Frame { len, user_id } => {
                assert_eq!(user_id, 1);
                assert_eq!(&out[..len], reference.as_slice(), "{codec:?}");
            }
            other => panic!("{codec:?}: {other:?}"),
        }
    }
}

#[test]
fn we_encrypt_davey_decrypts_and_opus_output_is_identical() {
    let mut call = established();
    for i in 0..50u8 {
        let frame: Vec<u8> = (0..160u16).map(|j| (j as u8).wrapping_mul(i)).collect();
        let c1 = &mut call.clients.get_mut(&1).unwrap().session;
        let mut ours = vec![0u8; 200];
        let n = c1.encrypt_opus(&frame, &mut ours).unwrap();
        let theirs = c1.davey_session_mut().unwrap().encrypt_opus(&frame).unwrap().into_owned();
        let c2 = call.clients.get_mut(&2).unwrap().session.davey_session_mut().unwrap();
        assert_eq!(c2.decrypt(1, MediaType::AUDIO, &ours[..n]).unwrap(), frame);
        assert_eq!(&ours[..n], theirs.as_slice(), "same key, same nonce, same bytes");
    }
}

#[test]
fn tampered_and_replayed_frames_are_not_accepted() {
    let mut call = established();
    let ssrc1 = call.clients[&1].ssrc;
    let now = call.now;
    let mut wire = vec![0u8; 200];
    let n = call.clients.get_mut(&1).unwrap().session.encrypt_opus(&[9u8; 160], &mut wire).unwrap();
    let wire = &wire[..n];
    let s2 = &mut call.clients.get_mut(&2).unwrap().session;
    let mut out = vec![0u8; 256];
    assert!(matches!(
        s2.decrypt(ssrc1, MediaKind::Audio, wire, &mut out, now).unwrap(),
        Decrypted::Frame { .. }
    ));
    assert_eq!(
        s2.decrypt(ssrc1, MediaKind::Audio, wire, &mut out, now).unwrap(),
        Decrypted::Dropped(voxwire_crypto::dave::DropReason::Replay)
    );
    let mut fresh = vec![0u8; 200];
    let n =
        call.clients.get_mut(&1).unwrap().session.encrypt_opus(&[8u8; 160], &mut fresh).unwrap();
    let mut bad = fresh[..n].to_vec();
    bad[3] ^= 1;
    let s2 = &mut call.clients.get_mut(&2).unwrap().session;
    // a forged frame cannot be decided now: it is held, then dropped when the hold expires
    assert_eq!(s2.decrypt(ssrc1, MediaKind::Audio, &bad, &mut out, now).unwrap(), Decrypted::Held);
    s2.handle_timeout(now + std::time::Duration::from_secs(3));
    assert_eq!(s2.stats().dropped_hold_expired, 1);
    // a plain frame once the group is established is dropped
    assert_eq!(
        s2.decrypt(ssrc1, MediaKind::Audio, &[1, 2, 3, 4], &mut out, now).unwrap(),
        Decrypted::Dropped(voxwire_crypto::dave::DropReason::Unencrypted)
    );
    // silence always passes
    assert!(matches!(
        s2.decrypt(ssrc1, MediaKind::Audio, &[0xF8, 0xFF, 0xFE], &mut out, now).unwrap(),
        Decrypted::Passthrough { len: 3 }
    ));
}

/// Our sender with voxwire-video's codec rules against davey's sender with its own: for every
/// video codec, davey's receiver decrypts ours to the same rewritten frame that davey's own
/// sender produces, and at the same nonce the protocol frames are byte-identical.
#[test]
fn video_codec_rules_and_encryption_match_davey() {
    let mut call = established();
    let mut scratch = voxwire_video::dave::DaveFrame::new();
    for (codec, media, frame) in sample_frames() {
        let ours_codec = match codec {
            Codec::VP8 => voxwire_video::Codec::Vp8,
            Codec::VP9 => voxwire_video::Codec::Vp9,
            Codec::H264 => voxwire_video::Codec::H264,
            Codec::H265 => voxwire_video::Codec::H265,
            Codec::AV1 => voxwire_video::Codec::Av1,
            _ => continue,
        };
        let c1 = &mut call.clients.get_mut(&1).unwrap().session;
        let mut ours = vec![0u8; frame.len() + 256];
        let n = c1.encrypt_video(ours_codec, &frame, &mut scratch, &mut ours).unwrap();
        let theirs =
            c1.davey_session_mut().unwrap().encrypt(media, codec, &frame).unwrap().into_owned();
        // Both frames share a nonce, and each receiver decrypts a nonce once: davey's receiver
        // takes ours, our receiver (tested against davey above) takes davey's.
        let ssrc1 = call.clients[&1].ssrc;
        let now = call.now;
        let s2 = &mut call.clients.get_mut(&2).unwrap().session;
        let from_ours = s2.davey_session_mut().unwrap().decrypt(1, media, &ours[..n]).unwrap();
        let mut buf = vec![0u8; theirs.len()];
        let Decrypted::Frame { len, .. } =
            s2.decrypt(ssrc1, MediaKind::Video, &theirs, &mut buf, now).unwrap()
        else {
            panic!("{codec:?}: davey's frame did not decrypt")
        };
        let from_theirs = buf[..len].to_vec();
        assert_eq!(from_ours, scratch.bytes(), "{codec:?}: davey decrypts ours");
        assert_eq!(from_ours, from_theirs, "{codec:?}: same rewritten frame");
        assert_eq!(&ours[..n], theirs.as_slice(), "{codec:?}: same protocol frame");
    }
}
