//! The cost of the bare sends, measured in the same place as the clients.
//!
//! A client's CPU time per tick includes one `send` of its datagram, and on loopback that system
//! call also runs the kernel's delivery of the datagram to the server's socket. How much that is
//! depends on the machine (its mitigations, its virtualisation, the caches other processes leave)
//! far more than on the client, so `bench-clients` measures it beside the clients: [`RawSenders`]
//! sends one datagram of the clients' size on each of N connected UDP sockets on the same 20 ms
//! grid, to the same server, from one thread, with nothing else to do. Its CPU time per datagram
//! is the floor under which no client that sends its own datagram on its own socket can go on
//! that machine; a client's figure minus this one is what the client itself costs.
//!
//! ```
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant};
//! use voxwire_benches::floor::RawSenders;
//!
//! let server = UdpSocket::bind("127.0.0.1:0").unwrap();
//! server.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
//! let senders = RawSenders::start(2, server.local_addr().unwrap(), 200).unwrap();
//! let mut buf = [0u8; 512];
//! let (n, _) = server.recv_from(&mut buf).unwrap();
//! assert_eq!(n, 200);
//! drop(senders);
//! ```

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The tick of the send grid, as the clients' send clock uses.
const TICK: Duration = Duration::from_millis(20);

/// Bytes a played Opus frame gains on the wire with DAVE and `aead_aes256_gcm_rtpsize`: the
/// RTP header (12), DAVE's 8-byte truncated tag, nonce, supplemental size and magic (13 for an
/// Opus frame with a one-byte nonce), the transport tag (16) and nonce (4).
pub const WIRE_OVERHEAD: usize = 12 + 13 + 16 + 4;

/// N UDP sockets, each connected to the same address, sending one datagram each per 20 ms tick
/// from one thread. Dropping it stops and joins the thread.
pub struct RawSenders {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RawSenders {
    /// Binds `n` sockets on 127.0.0.1, connects them to `to` and starts sending datagrams of
    /// `len` bytes on the grid.
    ///
    /// # Errors
    /// Binding, connecting or starting the thread failed.
    pub fn start(n: usize, to: SocketAddr, len: usize) -> io::Result<Self> {
        let sockets = (0..n)
            .map(|_| {
                let s = UdpSocket::bind("127.0.0.1:0")?;
                s.connect(to)?;
                s.set_nonblocking(true)?;
                Ok(s)
            })
            .collect::<io::Result<Vec<_>>>()?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
            // Not all zeros, in case anything on the way treats those specially.
            let datagram: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 0x80).collect();
            std::thread::Builder::new()
                .name("raw-sender".into())
                .spawn(move || run(&sockets, &datagram, &stop, &sent))?
        };
        Ok(Self { stop, sent, thread: Some(thread) })
    }

    /// Datagrams the kernel has taken so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for RawSenders {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(sockets: &[UdpSocket], datagram: &[u8], stop: &AtomicBool, sent: &AtomicU64) {
    let origin = Instant::now();
    let mut tick: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let deadline = origin + TICK * tick;
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
            continue;
        }
        let mut ok = 0;
        for s in sockets {
            // A full socket buffer drops the datagram, as it would a client's.
            if s.send(datagram).is_ok() {
                ok += 1;
            }
        }
        sent.fetch_add(ok, Ordering::Relaxed);
        tick = tick.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_socket_sends_datagrams_of_the_given_length_until_dropped() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut senders = RawSenders::start(3, server.local_addr().unwrap(), 123).unwrap();
        let mut from = HashSet::new();
        let mut buf = [0u8; 256];
        while from.len() < 3 {
            let (n, addr) = server.recv_from(&mut buf).expect("a datagram within 10 s");
            assert_eq!(n, 123);
            assert!(buf[..n].iter().all(|b| b & 0x80 != 0));
            from.insert(addr);
        }
        // The count is taken after each tick's sends: stop the thread before reading it.
        senders.stop.store(true, Ordering::Relaxed);
        senders.thread.take().unwrap().join().unwrap();
        assert!(senders.sent() >= 3);
        drop(senders);
        // Stopped: whatever was in flight drains, then nothing more comes.
        server.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        while server.recv_from(&mut buf).is_ok() {}
        assert!(server.recv_from(&mut buf).is_err());
    }
}
