//! The per-packet send path of a playing client, from a 160-byte Opus frame to a datagram on
//! the wire, piece by piece and whole, with the public APIs the client uses:
//!
//! 1. DAVE: `FrameEncryptor::encrypt` of the Opus frame (AES-128-GCM, truncated nonce, the
//!    supplemental trailer), what `DaveSession::encrypt_opus` runs once the group is ready;
//! 2. RTP: `RtpPacketBuilder::write_into` of the header and the DAVE frame;
//! 3. transport: `TransportCipher::encrypt_rtp` (`aead_aes256_gcm_rtpsize`, in place);
//! 4. `sendto` of the datagram to a bound socket on 127.0.0.1; then `send` on a connected socket,
//!    without and with a thread that reads the datagrams.
//!
//! `encrypt+build+seal` is the whole user-space path, `…+sendto` adds the system call: the floor
//! under what `bench-clients` measures per client per tick.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::UdpSocket;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voxwire_crypto::dave::{FrameEncryptor, KeyRatchet, max_encrypted_len};
use voxwire_crypto::transport::{TransportCipher, TransportMode};
use voxwire_rtp::{PayloadType, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};

const OPUS_LEN: usize = 160;

struct Sender {
    dave: FrameEncryptor,
    cipher: TransportCipher,
    seq: SeqNo,
    ts: RtpTimestamp,
    dave_out: Vec<u8>,
    packet: Vec<u8>,
}

impl Sender {
    fn new() -> Self {
        let mut dave = FrameEncryptor::new();
        dave.set_ratchet(KeyRatchet::new(&[0x42; 16]));
        let cipher = TransportCipher::new(TransportMode::AeadAes256GcmRtpsize, &[0x5A; 32])
            .expect("a 32-byte key");
        Self {
            dave,
            cipher,
            seq: SeqNo(1),
            ts: RtpTimestamp(0),
            dave_out: vec![0; max_encrypted_len(1500, &[])],
            packet: vec![0; 1500],
        }
    }

    fn dave(&mut self, opus: &[u8]) -> usize {
        self.dave.encrypt(opus, &[], false, &mut self.dave_out).expect("DAVE encrypt")
    }

    fn build(&mut self, payload_len: usize) -> usize {
        let n = RtpPacketBuilder::new(PayloadType::DISCORD_OPUS, self.seq, self.ts, Ssrc(0x1234))
            .payload(&self.dave_out[..payload_len])
            .write_into(&mut self.packet)
            .expect("room for the packet");
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(960);
        n
    }

    fn seal(&mut self, len: usize) -> usize {
        self.cipher.encrypt_rtp(&mut self.packet, len).expect("transport encrypt")
    }

    /// DAVE, RTP and transport encryption: the datagram's length.
    fn packet(&mut self, opus: &[u8]) -> usize {
        let d = self.dave(opus);
        let n = self.build(d);
        self.seal(n)
    }
}

fn bench(criterion: &mut Criterion) {
    let opus: Vec<u8> = (0..OPUS_LEN).map(|i| (i * 37 + 11) as u8).collect();
    let mut g = criterion.benchmark_group("send_path_opus_160");
    g.throughput(Throughput::Elements(1));

    let mut s = Sender::new();
    g.bench_function("dave_encrypt", |b| b.iter(|| s.dave(black_box(&opus))));

    let mut s = Sender::new();
    let dave_len = s.dave(&opus);
    g.bench_function("rtp_build", |b| b.iter(|| s.build(black_box(dave_len))));

    // Sealing needs a fresh plain packet each time: the build is in the timed part, and
    // `rtp_build` above says how much of it that is.
    let mut s = Sender::new();
    let dave_len = s.dave(&opus);
    g.bench_function("rtp_build+transport_encrypt", |b| {
        b.iter(|| {
            let n = s.build(black_box(dave_len));
            s.seal(n)
        });
    });

    let mut s = Sender::new();
    g.bench_function("dave+rtp+transport", |b| b.iter(|| s.packet(black_box(&opus))));

    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let to = rx.local_addr().expect("address");
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut s = Sender::new();
    g.bench_function("dave+rtp+transport+sendto", |b| {
        b.iter(|| {
            let n = s.packet(black_box(&opus));
            // The receiver never reads: once its buffer is full the kernel drops the datagram
            // after the whole send path ran, as for any datagram nobody reads in time.
            tx.send_to(&s.packet[..n], to).expect("sendto")
        });
    });

    // A connected socket: the route is looked up once at `connect`, not per datagram.
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(to).expect("connect");
    let mut s = Sender::new();
    g.bench_function("dave+rtp+transport+send_connected", |b| {
        b.iter(|| {
            let n = s.packet(black_box(&opus));
            tx.send(&s.packet[..n]).expect("send")
        });
    });

    // As above, with a receiver that drains its socket on another thread, as a server does: the
    // sender's system call now also wakes the reader when it waits.
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let to = rx.local_addr().expect("address");
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while rx.recv(&mut buf).is_ok_and(|n| n > 1) {}
    });
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    tx.connect(to).expect("connect");
    let mut s = Sender::new();
    g.bench_function("dave+rtp+transport+send_connected_read", |b| {
        b.iter(|| {
            let n = s.packet(black_box(&opus));
            tx.send(&s.packet[..n]).expect("send")
        });
    });
    // A one-byte datagram stops the reader.
    tx.send(&[0]).expect("send");
    reader.join().expect("reader");
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
