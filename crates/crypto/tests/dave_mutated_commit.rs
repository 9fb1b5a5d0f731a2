//! Commits and welcomes cut short or with a flipped byte, at positions spread over the whole
//! message: the external sender and the members turn each into an error (and, where the members
//! see it, the recovery path), never a panic, and the group ends with every member in it.

mod dave_support;

use dave_support::Call;

/// How a commit+welcome is damaged on its way to the server.
#[derive(Clone, Copy, Debug)]
enum Damage {
    CutAt(usize),
    Flip(usize),
}

fn damaged_join(damage: Damage) -> Vec<u64> {
    let mut call = Call::new();
    call.join(1);
    call.join(2);
    call.map_all_ssrcs();
    call.run(300);
    let mut done = false;
    call.tamper_commit = Some(Box::new(move |_from, payload: &mut Vec<u8>| {
        if !done {
            done = true;
            match damage {
                Damage::CutAt(n) => payload.truncate(n.min(payload.len())),
                Damage::Flip(i) => {
                    let i = i.min(payload.len().saturating_sub(1));
                    if let Some(b) = payload.get_mut(i) {
                        *b ^= 0xA5;
                    }
                }
            }
        }
        true
    }));
    call.join(3);
    call.map_all_ssrcs();
    call.run(3000);
    let mut group = call.settled_group();
    group.sort_unstable();
    group
}

#[test]
fn damaged_commits_are_errors_and_the_group_recovers() {
    // The size of the first commit+welcome of a third member, to spread the damage over it.
    let mut probe = Call::new();
    probe.join(1);
    probe.join(2);
    probe.map_all_ssrcs();
    probe.run(300);
    let len = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let seen = std::rc::Rc::clone(&len);
    probe.tamper_commit = Some(Box::new(move |_from, payload: &mut Vec<u8>| {
        if seen.get() == 0 {
            seen.set(payload.len());
        }
        true
    }));
    probe.join(3);
    probe.run(3000);
    let len = len.get();
    assert!(len > 100, "a commit and a welcome: {len} bytes");

    let points = 32;
    for k in 0..points {
        let at = 1 + k * (len - 2) / (points - 1);
        for damage in [Damage::CutAt(at), Damage::Flip(at)] {
            assert_eq!(damaged_join(damage), vec![1, 2, 3], "{damage:?} of {len} bytes");
        }
    }
}
