//! slbd stand-ins for the cluster tests: instance k is a namespace
//! `<base>-i<k>` whose kernel answers ping at 198.18.0.(20+k) from MAC
//! 02:00:00:00:01:0k, joined to B's segment through a bridge `br0` in A
//! (A's end of B's veth is a port of it, so the wire still sees everything
//! B sends). Dropping an `Instance` deletes its namespace.
//!
//! ```text
//!  B vb --- va [br0 in A] --- vi0 --- eth0 instance 0  198.18.0.20
//!                        --- vi1 --- eth0 instance 1  198.18.0.21 ...
//! ```

use std::net::Ipv4Addr;

use super::{ip, Lab, IF_A};

pub struct Instance {
    pub ns: String,
    pub id: u8,
    pub addr: Ipv4Addr,
    pub mac: [u8; 6],
}

impl Instance {
    pub fn new(lab: &Lab, id: u8) -> Instance {
        lab.bridge();
        let inst = Instance {
            ns: format!("{}-i{id}", lab.base),
            id,
            addr: Ipv4Addr::new(198, 18, 0, 20 + id),
            mac: [0x02, 0, 0, 0, 0x01, id],
        };
        ip(&["netns", "add", &inst.ns]);
        let port = format!("vi{id}");
        let mac = format!("02:00:00:00:01:{id:02x}");
        let addr = format!("{}/24", inst.addr);
        ip(&[
            "-n", &inst.ns, "link", "add", "eth0", "address", &mac, "type", "veth", "peer", "name",
            &port, "netns", &lab.ns_a,
        ]);
        ip(&["-n", &lab.ns_a, "link", "set", &port, "master", "br0", "up"]);
        ip(&["-n", &inst.ns, "link", "set", "lo", "up"]);
        ip(&["-n", &inst.ns, "addr", "add", &addr, "dev", "eth0"]);
        ip(&["-n", &inst.ns, "link", "set", "eth0", "up"]);
        inst
    }

    /// Brings the instance's interface up or down (down: it stops answering).
    pub fn set_up(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.ns, "link", "set", "eth0", state]);
    }

    /// `ID=IPv4` for `slb-agent cluster --next-hop`.
    pub fn next_hop(&self) -> String {
        format!("{}={}", self.id, self.addr)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.ns])
            .output();
    }
}

impl Lab {
    /// Makes A's end of the wire a port of bridge `br0` (once).
    pub fn bridge(&self) {
        let a = self.ns_a.as_str();
        let exists = std::process::Command::new("ip")
            .args(["-n", a, "link", "show", "br0"])
            .output()
            .is_ok_and(|o| o.status.success());
        if exists {
            return;
        }
        ip(&["-n", a, "link", "add", "name", "br0", "type", "bridge"]);
        ip(&["-n", a, "link", "set", IF_A, "master", "br0"]);
        ip(&["-n", a, "link", "set", "br0", "up"]);
    }
}
