//! Path MTU discovery through slbd, in the lab (issue 18, "ICMP and
//! PMTU"). A plain client, c3, sits behind c2, which routes for it; c2's
//! link to c3 has an MTU of 1300, while every link slbd sees is 1500:
//!
//! ```text
//!   c3 ── (mtu 1300 on c2's side) ── c2 (router) ── slbd ── s1, s2, s3
//!   198.18.7.2 / 2001:db8:7::2        198.18.0.12
//! ```
//!
//! c3's SYN announces an MSS of 1460 (its own link is 1500), slbd clamps
//! it to 1456, and the server's full-size segments do not fit c2's link
//! to c3: c2 answers each with "fragmentation needed" / "packet too big",
//! to their source, the VIP. Only slbd can take those to the server that
//! sent the segment (matching the quoted packet to the session, labelled
//! with its client-to-server label); without them the download stalls
//! (Linux does no MTU probing by default). The test downloads 10 MB over
//! IPv4 and over IPv6, compares the SHA-256 with what s1 serves locally,
//! checks that a server's kernel learned the 1300-byte path MTU toward
//! c3, and that slbd counted the errors it forwarded.

use std::process::Command;

use slb_tests::lab::{self, Lab};

/// A namespace this test adds to the lab; deleted on drop (its veth with
/// it), also when the test panics. Dropped before the lab.
struct ExtraNs(String);

impl Drop for ExtraNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha256_of(lab: &Lab, ns: &str, url: &str) -> String {
    let out = lab.exec_ok(
        ns,
        &[
            "sh",
            "-c",
            &format!("curl -sS -g --max-time 60 '{url}' | sha256sum"),
        ],
    );
    out.split_whitespace().next().unwrap_or("").to_string()
}

const C3_4: &str = "198.18.7.2";
const C3_6: &str = "2001:db8:7::2";
const LINK_MTU: &str = "1300";

#[test]
fn pmtu_discovery_through_a_router_beyond_slbd() {
    if !lab::require_lab() {
        return;
    }
    let agent = lab::agent_binary();
    let mut lab = Lab::up_with(&Lab::unique_prefix(), Some(&agent));
    let (c2, c3) = (lab.ns("c2"), lab.ns("c3"));
    ip(&["netns", "add", &c3]);
    let _c3 = ExtraNs(c3.clone());

    // c2 routes for c3 over a veth whose c2 end has the small MTU.
    ip(&[
        "link", "add", "pmtu0", "netns", &c2, "type", "veth", "peer", "name", "eth0", "netns", &c3,
    ]);
    lab.exec_ok(
        "c3",
        &[
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ],
    );
    ip(&["-n", &c2, "link", "set", "pmtu0", "mtu", LINK_MTU, "up"]);
    ip(&["-n", &c2, "addr", "add", "198.18.7.1/24", "dev", "pmtu0"]);
    ip(&[
        "-n",
        &c2,
        "addr",
        "add",
        "2001:db8:7::1/64",
        "dev",
        "pmtu0",
        "nodad",
    ]);
    lab.exec_ok(
        "c2",
        &[
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
            "net.ipv6.conf.all.forwarding=1",
        ],
    );
    ip(&["-n", &c3, "link", "set", "lo", "up"]);
    ip(&["-n", &c3, "link", "set", "eth0", "up"]);
    ip(&[
        "-n",
        &c3,
        "addr",
        "add",
        &format!("{C3_4}/24"),
        "dev",
        "eth0",
    ]);
    ip(&[
        "-n",
        &c3,
        "addr",
        "add",
        &format!("{C3_6}/64"),
        "dev",
        "eth0",
        "nodad",
    ]);
    ip(&[
        "-n",
        &c3,
        "route",
        "add",
        "198.18.100.0/24",
        "via",
        "198.18.7.1",
    ]);
    ip(&[
        "-n",
        &c3,
        "-6",
        "route",
        "add",
        "2001:db8:100::/64",
        "via",
        "2001:db8:7::1",
    ]);
    // The servers answer c3 through slbd, as they answer c1 and c2.
    for s in lab::SERVERS {
        let ns = lab.ns(s);
        ip(&[
            "-n",
            &ns,
            "route",
            "add",
            "198.18.7.0/24",
            "via",
            lab::APP_SERVER4,
        ]);
        ip(&[
            "-n",
            &ns,
            "-6",
            "route",
            "add",
            "2001:db8:7::/64",
            "via",
            lab::APP_SERVER6,
        ]);
    }

    let config = lab::demo_config().display().to_string();
    lab.start_slbd(&["--config", &config, "--json"]);

    let local = sha256_of(&lab, "s1", "http://198.18.1.11/bytes/10000000");
    assert_ne!(
        local, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "empty body from s1 locally"
    );
    for vip in [lab::VIP4.to_string(), format!("[{}]", lab::VIP6)] {
        let t = std::time::Instant::now();
        let got = sha256_of(&lab, "c3", &format!("http://{vip}/bytes/10000000"));
        assert_eq!(got, local, "10 MB from c3 via {vip} differs or stalled");
        eprintln!("10 MB c3 -> {vip}: intact in {:?}", t.elapsed());
    }

    // A server's kernel learned the path MTU toward c3, in each family.
    for (family, dst) in [("-4", C3_4), ("-6", C3_6)] {
        let learned: Vec<String> = lab::SERVERS
            .iter()
            .map(|s| lab.exec_ok(s, &["ip", family, "route", "get", dst]))
            .filter(|r| r.contains(&format!("mtu {LINK_MTU}")))
            .collect();
        assert!(
            !learned.is_empty(),
            "no server learned mtu {LINK_MTU} toward {dst}"
        );
        eprintln!("learned: {}", learned[0].trim());
    }

    let (stdout, stderr) = lab.stop_slbd();
    let json: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("slbd --json output: {e}\n{stdout}\n{stderr}"));
    let total = &json["total"];
    let events = &total["events"];
    let forwarded = events["icmp_forwarded"].as_u64().unwrap_or(0);
    assert!(
        forwarded >= 2,
        "ICMP errors forwarded to servers: {forwarded} ({events})"
    );
    assert!(
        events["punted_icmp"].as_u64().unwrap_or(0) >= forwarded,
        "{events}"
    );
    // No drops but the lab's background (see lab_balance.rs) and errors
    // about a session that had just ended (a late "packet too big" for
    // the last segments: no session to give it to).
    let drops: u64 = total["drops"]
        .as_object()
        .expect("total.drops")
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "not_for_vip" | "group_not_joined" | "icmp_no_session"
            )
        })
        .filter_map(|(_, v)| v.as_u64())
        .sum();
    assert_eq!(drops, 0, "slbd dropped packets: {}", total["drops"]);
    eprintln!("slbd events: {events}");
}
