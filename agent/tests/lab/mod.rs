//! A two-namespace lab for the agent: namespace A is the wire (raw frames in
//! and out through AF_PACKET), namespace B the host under test (the agent on
//! its veth and real sockets).
//!
//!   A: va 02:00:00:00:00:0a  <--veth-->  vb 02:00:00:00:00:0b: B
//!      (no address; frames claim        198.18.0.2/24, 2001:db8::2/64,
//!       198.18.0.9 / 2001:db8::9)       static neighbours .9 / ::9 -> va
//!
//! A has no address, so its kernel never answers what B sends to .9: every
//! answer is crafted by the test. No route leaves the namespaces. Dropping
//! the `Lab` detaches the agent, removes its pins and deletes both
//! namespaces, also when a test fails.
//!
//! The cluster tests add slbd stand-ins on B's segment (`instance`): A's
//! end of the wire then becomes a port of a bridge in A.
#![allow(dead_code)]

pub mod instance;
pub mod packet;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
pub const B4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub const PEER4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);
pub const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
pub const PEER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9);
pub const IF_A: &str = "va";
pub const IF_B: &str = "vb";

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub const AGENT: &str = env!("CARGO_BIN_EXE_slb-agent");

/// How long a test waits for a frame or a socket.
pub const WAIT: Duration = Duration::from_secs(3);

pub struct Lab {
    /// Prefix of the lab's namespaces (`<base>-a`, `<base>-b`, ...).
    pub base: String,
    pub ns_a: String,
    pub ns_b: String,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    out
}

pub fn ip(args: &[&str]) {
    let out = run(Command::new("ip").args(args));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    pub fn new() -> Lab {
        Lab::with_prefix("slb-agt")
    }

    /// A lab whose namespaces are named `<prefix>-<pid>-<n>-...`.
    pub fn with_prefix(prefix: &str) -> Lab {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let base = format!("{prefix}-{}-{n}", std::process::id());
        let lab = Lab {
            ns_a: format!("{base}-a"),
            ns_b: format!("{base}-b"),
            base,
        };
        // Created before the first command so Drop cleans up a half-built lab.
        ip(&["netns", "add", &lab.ns_a]);
        ip(&["netns", "add", &lab.ns_b]);
        let (a, b) = (lab.ns_a.as_str(), lab.ns_b.as_str());
        ip(&[
            "-n",
            a,
            "link",
            "add",
            IF_A,
            "address",
            "02:00:00:00:00:0a",
            "type",
            "veth",
            "peer",
            "name",
            IF_B,
            "netns",
            b,
            "address",
            "02:00:00:00:00:0b",
        ]);
        ip(&["-n", a, "link", "set", IF_A, "up"]);
        ip(&["-n", b, "link", "set", "lo", "up"]);
        ip(&["-n", b, "addr", "add", "198.18.0.2/24", "dev", IF_B]);
        ip(&[
            "-n",
            b,
            "addr",
            "add",
            "2001:db8::2/64",
            "dev",
            IF_B,
            "nodad",
        ]);
        ip(&["-n", b, "link", "set", IF_B, "up"]);
        for peer in ["198.18.0.9", "2001:db8::9"] {
            ip(&[
                "-n",
                b,
                "neigh",
                "replace",
                peer,
                "lladdr",
                "02:00:00:00:00:0a",
                "dev",
                IF_B,
                "nud",
                "permanent",
            ]);
        }
        lab
    }

    /// Runs `slb-agent --netns B <args>`.
    pub fn agent(&self, args: &[&str]) -> Output {
        run(Command::new(AGENT)
            .arg("--netns")
            .arg(&self.ns_b)
            .args(args))
    }

    /// Runs the agent and insists on success; returns stdout.
    pub fn agent_ok(&self, args: &[&str]) -> String {
        let out = self.agent(args);
        assert!(
            out.status.success(),
            "slb-agent {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn attach(&self, role: &str) {
        self.agent_ok(&["attach", "--iface", IF_B, "--role", role]);
    }

    /// `status --json`, parsed.
    pub fn status(&self) -> serde_json::Value {
        let text = self.agent_ok(&["status", "--iface", IF_B, "--json", "--flows"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("status JSON {e}: {text}"))
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.status()["counters"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no counter {name}"))
    }

    /// Polls a counter until it reaches `want` (frames are handled in
    /// softirq after `send` returns), for at most 2 s; returns the last value.
    pub fn wait_counter(&self, name: &str, want: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let v = self.counter(name);
            if v >= want || Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `tc -n B <args>` output.
    pub fn tc_b(&self, args: &[&str]) -> String {
        let out = run(Command::new("tc").arg("-n").arg(&self.ns_b).args(args));
        assert!(
            out.status.success(),
            "tc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn pin_dir(&self) -> std::path::PathBuf {
        std::path::Path::new("/sys/fs/bpf/slb-agent/netns")
            .join(&self.ns_b)
            .join(IF_B)
    }

    /// Raw socket on A's end of the wire.
    pub fn wire(&self) -> Wire {
        in_netns(&self.ns_a, || Wire::open(IF_A))
    }

    /// Runs f on a thread inside namespace B (sockets it creates stay there).
    pub fn in_b<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        in_netns(&self.ns_b, f)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(AGENT)
            .args(["--netns", &self.ns_b, "detach", "--iface", IF_B])
            .output();
        let _ = std::fs::remove_dir_all(
            std::path::Path::new("/sys/fs/bpf/slb-agent/netns").join(&self.ns_b),
        );
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns_a])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns_b])
            .output();
    }
}

/// One bottom-of-stack label stack entry as the agent pushes it.
pub fn lse(label: u32) -> Vec<packet::Lse> {
    vec![packet::Lse {
        label,
        tc: 0,
        bottom: true,
        ttl: 64,
    }]
}

/// First frame from B of the given flow (as B sends it).
pub fn capture(wire: &Wire, proto: u8, sport: u16, dport: u16) -> packet::Parsed {
    let f = wire
        .recv_where(WAIT, |f| {
            packet::parse(f)
                .is_some_and(|p| p.proto == proto && p.sport == sport && p.dport == dport)
        })
        .unwrap_or_else(|| panic!("no frame proto {proto} {sport} -> {dport} on the wire"));
    packet::parse(&f).unwrap()
}

/// A UDP socket in B on addr:port that echoes one datagram; the thread
/// returns where it came from.
pub fn udp_echo(lab: &Lab, addr: IpAddr, port: u16) -> std::thread::JoinHandle<SocketAddr> {
    let sock = lab.in_b(move || UdpSocket::bind((addr, port)).expect("bind UDP in B"));
    sock.set_read_timeout(Some(WAIT)).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let (n, from) = sock
            .recv_from(&mut buf)
            .expect("no datagram reached B's socket");
        sock.send_to(&buf[..n], from).unwrap();
        from
    })
}

/// Runs f on a fresh thread moved into /run/netns/<ns> (setns affects only
/// the calling thread).
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: file is an open netns descriptor for the whole call.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("namespace thread panicked")
}

/// An AF_PACKET socket on one interface: sends whole frames, receives every
/// frame the interface receives.
pub struct Wire {
    fd: OwnedFd,
}

const ETH_P_ALL: u16 = 0x0003;

impl Wire {
    fn open(iface: &str) -> Wire {
        // SAFETY: plain syscall, result checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                (ETH_P_ALL.to_be()) as libc::c_int,
            )
        };
        assert!(
            fd >= 0,
            "AF_PACKET socket: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: fresh descriptor, owned from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let name = std::ffi::CString::new(iface).unwrap();
        // SAFETY: NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert!(ifindex > 0, "no interface {iface}");
        // SAFETY: zeroed sockaddr_ll is valid; fields set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: sll is a valid sockaddr_ll of the given size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(rc, 0, "bind AF_PACKET: {}", std::io::Error::last_os_error());
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 100_000,
        };
        // SAFETY: tv outlives the call, size given.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as u32,
            )
        };
        Wire { fd }
    }

    pub fn send(&self, frame: &[u8]) {
        // SAFETY: frame valid for its length; the socket is bound to the interface.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        assert_eq!(
            n,
            frame.len() as isize,
            "send: {}",
            std::io::Error::last_os_error()
        );
    }

    /// The first received (not sent) frame for which `want` holds, within
    /// `timeout`; None when none came.
    pub fn recv_where(&self, timeout: Duration, want: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 70_000];
        while Instant::now() < deadline {
            // SAFETY: zeroed sockaddr_ll is a valid out-buffer.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = size_of::<libc::sockaddr_ll>() as u32;
            // SAFETY: buf and sll are valid for writes of the sizes given.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    0,
                    (&mut sll as *mut libc::sockaddr_ll).cast(),
                    &mut len,
                )
            };
            if n <= 0 || sll.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            let frame = &buf[..n as usize];
            if want(frame) {
                return Some(frame.to_vec());
            }
        }
        None
    }
}
