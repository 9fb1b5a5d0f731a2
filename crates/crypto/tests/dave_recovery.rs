//! A malformed commit: members reject it with op 31, the server removes and re-adds them, and
//! the group recovers instead of getting stuck. Commits that keep failing make the server wait
//! longer before each re-add of the same member, and the group still ends whole.

mod dave_support;

use dave_support::Call;
use openmls::prelude::MlsMessageIn;
use openmls::prelude::tls_codec::Deserialize;
use std::time::Duration;

use voxwire_crypto::dave::ServerEvent;

#[test]
fn malformed_commit_leads_to_recovery() {
    let mut call = Call::new();
    call.join(1);
    call.join(2);
    call.map_all_ssrcs();
    call.run(300);
    assert_eq!(call.settled_group().len(), 2);

    // Corrupt the next commit's membership tag (its last byte) on its way to the server. The
    // server cannot check it (it is keyed with the group's secrets) and announces it; the
    // members reject it.
    let mut tampered = false;
    call.tamper_commit = Some(Box::new(move |_from, payload: &mut Vec<u8>| {
        if !tampered {
            let mut rest = payload.as_slice();
            MlsMessageIn::tls_deserialize(&mut rest).unwrap();
            let commit_len = payload.len() - rest.len();
            payload[commit_len - 1] ^= 0x55;
            tampered = true;
        }
        true
    }));
    call.join(3);
    call.map_all_ssrcs();
    call.run(2000);

    let op31: usize = call.clients.values().map(|c| c.op31_sent).sum();
    assert!(op31 > 0, "the corrupted commit is reported");
    assert!(call.server_events.iter().any(|e| matches!(e, ServerEvent::RecoveryStarted { .. })));
    // Recovered: everybody is in one group again, with the same privacy code, and media flows.
    let mut group = call.settled_group();
    group.sort_unstable();
    assert_eq!(group, vec![1, 2, 3]);
    let codes: Vec<_> =
        call.clients.values().map(|c| c.session.privacy_code().map(str::to_owned)).collect();
    assert!(codes[0].is_some());
    assert!(codes.iter().all(|c| c == &codes[0]));
    let before: Vec<u64> = call.clients.values().map(|c| c.received.len() as u64).collect();
    for _ in 0..5 {
        call.send_media();
    }
    for (c, b) in call.clients.values().zip(before) {
        assert!(c.received.len() as u64 >= b + 10, "media flows after recovery");
    }
}

#[test]
fn a_member_that_keeps_rejecting_commits_is_re_added_with_backoff() {
    let mut call = Call::new();
    call.media = false;
    call.join(1);
    call.join(2);
    call.map_all_ssrcs();
    call.run(300);

    // The next eight commits are corrupted on their way: each one is rejected with op 31, and
    // the members that reject them are removed and re-added again and again.
    let mut left = 8;
    call.tamper_commit = Some(Box::new(move |_from, payload: &mut Vec<u8>| {
        if left > 0 {
            left -= 1;
            let mut rest = payload.as_slice();
            MlsMessageIn::tls_deserialize(&mut rest).unwrap();
            let commit_len = payload.len() - rest.len();
            payload[commit_len - 1] ^= 0x55;
        }
        true
    }));
    let start = call.now;
    call.join(3);
    call.map_all_ssrcs();
    call.run(30_000);
    let elapsed = call.now - start;

    let count = |f: fn(&ServerEvent) -> bool| call.server_events.iter().filter(|e| f(e)).count();
    let recoveries = count(|e| matches!(e, ServerEvent::RecoveryStarted { .. }));
    let deferred = count(|e| matches!(e, ServerEvent::RecoveryDeferred { .. }));
    assert!(recoveries >= 5, "corrupted commits are reported: {recoveries}");
    assert!(deferred > 0, "repeated recoveries wait before the re-add");
    // Without the backoff the rounds take well under a second of the call's time; with it, a
    // member's second, third and fourth re-adds alone wait 1 + 2 + 4 s.
    assert!(elapsed >= Duration::from_secs(7), "re-adds were spread out: {elapsed:?}");
    let mut group = call.settled_group();
    group.sort_unstable();
    assert_eq!(group, vec![1, 2, 3], "the group ends whole after {elapsed:?}");
}
