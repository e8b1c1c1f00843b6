//! tcpdump captures for the lab tests: started in a namespace, written to
//! a pcap file (`-U`, packet by packet), stopped by pid (SIGINT, so it
//! flushes; SIGKILL after 5 s), read back as frames.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running tcpdump ([`Capture::start`], [`crate::lab::Lab::capture`]).
pub struct Capture {
    child: Option<std::process::Child>,
    path: PathBuf,
}

impl Capture {
    /// Starts `tcpdump -n -U <options> -i <iface> -w <path>` in namespace
    /// `netns` (its full name) and waits (10 s at most) until it listens
    /// (tcpdump's stderr: `<path>.err`).
    /// `options` may bound it (`-c COUNT`, `-s SNAPLEN`), pick a direction
    /// (`-Q in`) and end with a filter expression. Stop it with
    /// [`Capture::finish`]; dropping it kills it.
    pub fn start(netns: &str, iface: &str, path: &Path, options: &[&str]) -> Capture {
        let mut err_path = path.as_os_str().to_owned();
        err_path.push(".err");
        let err_path = PathBuf::from(err_path);
        let err = File::create(&err_path)
            .unwrap_or_else(|e| panic!("capture stderr file {}: {e}", err_path.display()));
        let child = Command::new("ip")
            .args([
                "netns", "exec", netns, "tcpdump", "-n", "-U", "-i", iface, "-w",
            ])
            .arg(path)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn tcpdump (Debian package tcpdump): {e}"));
        let cap = Capture {
            child: Some(child),
            path: path.to_path_buf(),
        };
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&err_path).unwrap_or_default();
            if text.contains("listening on") {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "tcpdump in {netns} on {iface} did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        cap
    }

    /// Stops tcpdump (SIGINT, so it flushes; SIGKILL after 5 s) and returns
    /// the frames it captured.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        // Let the last frames of the exchange reach the capture.
        std::thread::sleep(Duration::from_millis(300));
        self.stop();
        read_pcap(&self.path)
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The frames of a pcap file (Ethernet link type).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut reader = pcap_file::pcap::PcapReader::new(file)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut frames = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        match pkt {
            Ok(p) => frames.push(p.data.into_owned()),
            // tcpdump killed mid-write: keep what is whole.
            Err(_) => break,
        }
    }
    frames
}
