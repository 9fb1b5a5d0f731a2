//! Build then parse returns the same packet, for every packet type, and for compounds.

use proptest::prelude::*;
use voxwire_rtcp::twcc::TwccStatus;
use voxwire_rtcp::{
    AppBuilder, ByeBuilder, Compound, FirBuilder, FirEntry, NackBuilder, Pli,
    ReceiverReportBuilder, RembBuilder, ReportBlock, RtcpPacket, SdesBuilder, SdesChunk, SdesItem,
    SenderInfo, SenderReportBuilder, TransportCcBuilder, WriteRtcp, nack_pairs,
};
use voxwire_rtp::{SeqNo, Ssrc};

fn write(b: &dyn WriteRtcp) -> Vec<u8> {
    let n = b.calculate_size().unwrap();
    let mut buf = vec![0xA5; n + 5];
    assert_eq!(b.write_into(&mut buf).unwrap(), n);
    assert!(buf[n..].iter().all(|&x| x == 0xA5), "wrote past calculate_size");
    assert!(b.write_into(&mut buf[..n - 1]).is_err());
    buf.truncate(n);
    assert_eq!(n % 4, 0);
    buf
}

fn one(bytes: &[u8]) -> RtcpPacket<'_> {
    let c = Compound::parse(bytes).unwrap();
    let mut it = c.packets();
    let p = it.next().unwrap();
    assert!(it.next().is_none());
    p
}

fn ssrc() -> impl Strategy<Value = Ssrc> {
    any::<u32>().prop_map(Ssrc)
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (ssrc(), any::<u8>(), -(1i32 << 23)..(1 << 23), any::<[u32; 4]>()).prop_map(
        |(ssrc, fraction_lost, cumulative_lost, [a, b, c, d])| ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: a,
            jitter: b,
            last_sr: c,
            delay_since_last_sr: d,
        },
    )
}

fn twcc_status() -> impl Strategy<Value = TwccStatus> {
    prop_oneof![
        3 => Just(TwccStatus::NotReceived),
        5 => any::<u8>().prop_map(TwccStatus::Small),
        1 => any::<i16>().prop_map(TwccStatus::Large),
    ]
}

/// Status lists with long runs as well as mixed stretches.
fn twcc_statuses() -> impl Strategy<Value = Vec<TwccStatus>> {
    prop::collection::vec((twcc_status(), 1usize..20), 1..20).prop_map(|runs| {
        runs.into_iter()
            .flat_map(|(s, n)| std::iter::repeat_n(s, if n > 10 { n * 3 } else { 1 }))
            .collect()
    })
}

proptest! {
    #[test]
    fn sender_report(sender in ssrc(), ntp: u64, rtp: u32, pc: u32, oc: u32,
                     blocks in prop::collection::vec(report_block(), 0..=31)) {
        let info = SenderInfo { ntp_timestamp: ntp, rtp_timestamp: rtp, packet_count: pc, octet_count: oc };
        let bytes = write(&SenderReportBuilder { sender_ssrc: sender, info, report_blocks: &blocks });
        let RtcpPacket::SenderReport(sr) = one(&bytes) else { panic!("not an SR") };
        prop_assert_eq!(sr.sender_ssrc, sender);
        prop_assert_eq!(sr.info, info);
        prop_assert_eq!(sr.report_blocks().collect::<Vec<_>>(), blocks);
        prop_assert!(sr.profile_extension.is_empty());
    }

    #[test]
    fn receiver_report(sender in ssrc(), blocks in prop::collection::vec(report_block(), 0..=31)) {
        let bytes = write(&ReceiverReportBuilder { sender_ssrc: sender, report_blocks: &blocks });
        let RtcpPacket::ReceiverReport(rr) = one(&bytes) else { panic!("not an RR") };
        prop_assert_eq!(rr.sender_ssrc, sender);
        prop_assert_eq!(rr.report_blocks().collect::<Vec<_>>(), blocks);
    }

    #[test]
    fn sdes(chunks in prop::collection::vec(
        (ssrc(), prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)), 0..4)), 0..=8)) {
        let items: Vec<Vec<SdesItem<'_>>> = chunks.iter()
            .map(|(_, it)| it.iter().map(|(k, v)| SdesItem { kind: *k, value: v }).collect()).collect();
        let specs: Vec<SdesChunk<'_>> = chunks.iter().zip(&items)
            .map(|((s, _), it)| SdesChunk { ssrc: *s, items: it }).collect();
        let bytes = write(&SdesBuilder { chunks: &specs });
        let RtcpPacket::Sdes(sdes) = one(&bytes) else { panic!("not SDES") };
        let back: Vec<(Ssrc, Vec<SdesItem<'_>>)> = sdes.chunks().map(|(s, it)| (s, it.collect())).collect();
        let want: Vec<(Ssrc, Vec<SdesItem<'_>>)> = specs.iter().map(|c| (c.ssrc, c.items.to_vec())).collect();
        prop_assert_eq!(back, want);
    }

    #[test]
    fn bye(ssrcs in prop::collection::vec(ssrc(), 0..=31), reason in prop::option::of(prop::collection::vec(any::<u8>(), 0..=255))) {
        let bytes = write(&ByeBuilder { ssrcs: &ssrcs, reason: reason.as_deref() });
        let RtcpPacket::Bye(bye) = one(&bytes) else { panic!("not BYE") };
        prop_assert_eq!(bye.ssrcs().collect::<Vec<_>>(), ssrcs);
        prop_assert_eq!(bye.reason, reason.as_deref());
    }

    #[test]
    fn app(subtype in 0u8..32, s in ssrc(), name: [u8; 4], words in prop::collection::vec(any::<[u8; 4]>(), 0..20)) {
        let data: Vec<u8> = words.concat();
        let bytes = write(&AppBuilder { subtype, ssrc: s, name, data: &data });
        let RtcpPacket::App(app) = one(&bytes) else { panic!("not APP") };
        prop_assert_eq!((app.subtype, app.ssrc, app.name, app.data), (subtype, s, name, &data[..]));
    }

    /// NACK list <-> FCI: any list of lost sequence numbers comes back as the same set; a list
    /// sorted in sequence order comes back identical, with the fewest entries.
    #[test]
    fn nack(sender in ssrc(), media in ssrc(), start: u16, gaps in prop::collection::vec(1u16..40, 1..200)) {
        let mut lost = vec![SeqNo(start)];
        for g in gaps {
            let next = lost.last().unwrap().wrapping_add(g);
            if next.diff(SeqNo(start)) <= 0 { break; }
            lost.push(next);
        }
        let bytes = write(&NackBuilder { sender_ssrc: sender, media_ssrc: media, lost: &lost });
        let RtcpPacket::Nack(n) = one(&bytes) else { panic!("not NACK") };
        prop_assert_eq!((n.sender_ssrc, n.media_ssrc), (sender, media));
        prop_assert_eq!(n.lost().collect::<Vec<_>>(), lost.clone());
        // Fewest entries: a new entry starts exactly when the gap to its PID exceeds 16.
        let mut expected = 0;
        let mut pid: Option<SeqNo> = None;
        for s in &lost {
            if pid.is_none_or(|p| p.forward_distance(*s) > 16) { expected += 1; pid = Some(*s); }
        }
        prop_assert_eq!(n.pairs().len(), expected);
    }

    #[test]
    fn nack_unsorted_is_same_set(lost in prop::collection::vec(any::<u16>(), 1..100)) {
        let lost: Vec<SeqNo> = lost.into_iter().map(SeqNo).collect();
        let mut back: Vec<u16> = nack_pairs(lost.iter().copied()).flat_map(voxwire_rtcp::NackPair::lost).map(SeqNo::get).collect();
        let mut want: Vec<u16> = lost.iter().map(|s| s.get()).collect();
        back.sort_unstable(); back.dedup(); want.sort_unstable(); want.dedup();
        prop_assert_eq!(back, want);
    }

    #[test]
    fn pli(sender in ssrc(), media in ssrc()) {
        let p = Pli { sender_ssrc: sender, media_ssrc: media };
        let bytes = write(&p);
        prop_assert_eq!(one(&bytes), RtcpPacket::Pli(p));
    }

    #[test]
    fn fir(sender in ssrc(), entries in prop::collection::vec((ssrc(), any::<u8>()), 1..10)) {
        let entries: Vec<FirEntry> = entries.into_iter().map(|(ssrc, seq)| FirEntry { ssrc, seq }).collect();
        let bytes = write(&FirBuilder { sender_ssrc: sender, entries: &entries });
        let RtcpPacket::Fir(f) = one(&bytes) else { panic!("not FIR") };
        prop_assert_eq!(f.sender_ssrc, sender);
        prop_assert_eq!(f.entries().collect::<Vec<_>>(), entries);
    }

    #[test]
    fn remb(sender in ssrc(), bitrate: u64, ssrcs in prop::collection::vec(ssrc(), 0..20)) {
        let b = RembBuilder { sender_ssrc: sender, bitrate, ssrcs: &ssrcs };
        let bytes = write(&b);
        let RtcpPacket::Remb(r) = one(&bytes) else { panic!("not REMB") };
        prop_assert_eq!(r.bitrate, b.encoded_bitrate());
        prop_assert!(r.bitrate <= bitrate);
        // Rounding loses less than one part in 2^17.
        prop_assert!(bitrate - r.bitrate <= bitrate >> 17);
        prop_assert_eq!(r.ssrcs().collect::<Vec<_>>(), ssrcs);
    }

    #[test]
    fn transport_cc(sender in ssrc(), media in ssrc(), base: u16, rt in -(1i32 << 23)..(1 << 23),
                    count: u8, statuses in twcc_statuses()) {
        let b = TransportCcBuilder { sender_ssrc: sender, media_ssrc: media, base_seq: SeqNo(base),
            reference_time: rt, fb_pkt_count: count, statuses: &statuses };
        let bytes = write(&b);
        let RtcpPacket::TransportCc(t) = one(&bytes) else { panic!("not transport-cc") };
        prop_assert_eq!((t.sender_ssrc, t.media_ssrc, t.base_seq, t.reference_time, t.fb_pkt_count),
                        (sender, media, SeqNo(base), rt, count));
        prop_assert_eq!(usize::from(t.status_count), statuses.len());
        let back: Vec<_> = t.packets().collect();
        prop_assert_eq!(back.len(), statuses.len());
        for (i, p) in back.iter().enumerate() {
            prop_assert_eq!(p.seq, SeqNo(base).wrapping_add(i as u16));
            prop_assert_eq!(p.status, statuses[i]);
        }
    }

    /// Compound SR + RR + SDES + NACK round trip, and every prefix is rejected or parses
    /// without panicking.
    #[test]
    fn compound(sender in ssrc(), blocks in prop::collection::vec(report_block(), 0..4), cname in prop::collection::vec(any::<u8>(), 1..30)) {
        let sr = SenderReportBuilder { sender_ssrc: sender, info: SenderInfo::default(), report_blocks: &blocks };
        let rr = ReceiverReportBuilder { sender_ssrc: sender, report_blocks: &blocks };
        let items = [SdesItem { kind: 1, value: &cname }];
        let chunks = [SdesChunk { ssrc: sender, items: &items }];
        let sdes = SdesBuilder { chunks: &chunks };
        let lost = [SeqNo(1), SeqNo(3)];
        let nack = NackBuilder { sender_ssrc: sender, media_ssrc: Ssrc(9), lost: &lost };
        let parts: [&dyn WriteRtcp; 4] = [&sr, &rr, &sdes, &nack];
        let mut buf = vec![0; voxwire_rtcp::compound_size(&parts).unwrap()];
        let n = voxwire_rtcp::write_compound(&parts, &mut buf).unwrap();
        prop_assert_eq!(n, buf.len());
        let c = Compound::parse(&buf).unwrap();
        prop_assert!(c.is_rfc3550_compound());
        let kinds: Vec<_> = c.packets().map(|p| std::mem::discriminant(&p)).collect();
        prop_assert_eq!(kinds.len(), 4);
        for cut in 0..buf.len() {
            let _ = Compound::parse(&buf[..cut]);
        }
        let alone = Compound::parse(&buf[buf.len() - 16..]).unwrap();
        prop_assert!(!alone.is_rfc3550_compound(), "a lone NACK is reduced-size RTCP");
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(c) = Compound::parse(&bytes) {
            for p in c.packets() {
                match p {
                    RtcpPacket::TransportCc(t) => { let _ = t.packets().count(); }
                    RtcpPacket::Sdes(s) => { let _ = s.chunks().map(|(_, i)| i.count()).sum::<usize>(); }
                    RtcpPacket::Nack(n) => { let _ = n.lost().count(); }
                    _ => {}
                }
            }
        }
    }
}
