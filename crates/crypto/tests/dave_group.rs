//! Members join, a member leaves, a slow member lags behind a transition: frames flow both ways
//! throughout and no recoverable frame is lost.

mod dave_support;

use dave_support::Call;
use voxwire_crypto::dave::DaveEvent;

#[test]
fn joins_leaves_and_slow_member_lose_no_frame() {
    let mut call = Call::new();
    call.join(1);
    call.run(100);
    assert!(!call.clients[&1].session.is_ready(), "a sole member has no group");

    // Initial group creation with two members.
    call.join(2);
    call.map_all_ssrcs();
    call.run(200);
    assert_eq!(call.settled_group().len(), 2);
    for c in call.clients.values() {
        assert!(c.session.is_ready());
        assert!(c.events.contains(&DaveEvent::Ready));
    }
    let code1 = call.clients[&1].session.privacy_code().unwrap().to_owned();
    assert_eq!(code1.len(), 30);
    assert_eq!(call.clients[&2].session.privacy_code(), Some(code1.as_str()));
    let v12 = call.clients[&1].session.verification_code(2).unwrap();
    assert_eq!(v12.len(), 45);
    assert_eq!(call.clients[&2].session.verification_code(1).unwrap(), v12);

    // A third member joins; its SSRC is mapped at the others only later, so its first frames
    // are held and released once mapped.
    call.join(3);
    call.run(200);
    assert_eq!(call.settled_group().len(), 3);
    for _ in 0..5 {
        call.send_media();
    }
    assert!(call.clients[&1].session.stats().held_now > 0, "frames of an unmapped SSRC are held");
    call.map_all_ssrcs();
    call.drain_held();
    assert_eq!(call.clients[&1].session.stats().held_now, 0);
    let code3 = call.clients[&3].session.privacy_code().unwrap().to_owned();
    assert_ne!(code3, code1, "new epoch, new privacy code");

    // A member leaves.
    call.leave(2);
    call.run(200);
    assert_eq!(call.settled_group(), vec![1, 3]);

    // A slow member: member 3's gateway stalls while 4 joins. The server executes the
    // transition after its timeout; member 1 sends with the new key; member 3 holds those frames
    // and decrypts them once it catches up.
    call.clients.get_mut(&3).unwrap().paused = true;
    call.join(4);
    call.map_all_ssrcs();
    // `run` steps the clock until the server's transition timeout executes without member 3.
    call.run(400);
    assert!(call.clients[&1].session.epoch() > call.clients[&3].session.epoch());
    let held = call.clients[&3].session.stats().held_now;
    assert!(held > 0, "new-epoch frames wait for the slow member's commit");
    call.clients.get_mut(&3).unwrap().paused = false;
    call.run(400);
    for _ in 0..10 {
        call.send_media();
    }
    call.assert_no_loss();
    let s3 = *call.clients[&3].session.stats();
    assert!(s3.released >= held);
    assert_eq!(s3.held_now, 0);
}
