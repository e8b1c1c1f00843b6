//! A next hop's MAC from the kernel's ARP table (`/proc/net/arp`, of the
//! network namespace the process is in). The probes' echo requests make the
//! kernel resolve it: an instance that answered has a complete entry.

use std::net::Ipv4Addr;

/// `ATF_COM` (linux/if_arp.h): the entry holds a resolved address.
const ATF_COM: u32 = 0x2;

pub type Mac = [u8; 6];

pub fn format_mac(mac: &Mac) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

fn parse_mac(text: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The complete entry for `addr` on `iface` in the text of /proc/net/arp:
/// ```text
/// IP address       HW type     Flags       HW address            Mask     Device
/// 198.18.0.21      0x1         0x2         02:00:00:00:01:01     *        vb
/// ```
pub fn find(table: &str, addr: Ipv4Addr, iface: &str) -> Option<Mac> {
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [ip, _hw_type, flags, mac, _mask, dev] = f[..] else {
            return None;
        };
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
        if ip.parse::<Ipv4Addr>().ok()? != addr || dev != iface || flags & ATF_COM == 0 {
            return None;
        }
        parse_mac(mac).filter(|m| *m != [0; 6])
    })
}

/// The ARP table as text; empty when it cannot be read (then no MAC is known).
pub fn read_table() -> std::io::Result<String> {
    std::fs::read_to_string("/proc/net/arp")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
198.18.0.9       0x1         0x6         02:00:00:00:00:0a     *        vb
198.18.0.21      0x1         0x2         02:00:00:00:01:01     *        vb
198.18.0.22      0x1         0x0         00:00:00:00:00:00     *        vb
198.18.0.23      0x1         0x2         02:00:00:00:01:03     *        other
";

    #[test]
    fn complete_entries_on_the_interface_only() {
        let ip = |d| Ipv4Addr::new(198, 18, 0, d);
        assert_eq!(find(TABLE, ip(21), "vb"), Some([2, 0, 0, 0, 1, 1]));
        assert_eq!(find(TABLE, ip(9), "vb"), Some([2, 0, 0, 0, 0, 0x0a]));
        assert_eq!(find(TABLE, ip(22), "vb"), None, "incomplete");
        assert_eq!(find(TABLE, ip(23), "vb"), None, "other device");
        assert_eq!(find(TABLE, ip(24), "vb"), None, "absent");
        assert_eq!(format_mac(&[2, 0, 0, 0, 1, 0xab]), "02:00:00:00:01:ab");
        assert_eq!(parse_mac("02:00:00:00:01"), None);
        assert_eq!(parse_mac("02:00:00:00:01:02:03"), None);
    }
}
